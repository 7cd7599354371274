#include "worker/trainer.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/search_space/rng.h"
#include "common/status/status_macros.h"
#include "worker/batch.h"
#include "worker/batch_norm_statistics.h"
#include "worker/data/augment.h"
#include "worker/learning_curve.h"
#include "worker/optimizer.h"
#include "worker/schedule.h"

namespace unas::worker {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Salts the job seed so that the data order does not correlate with the
// initialisation drawn from the same seed.
constexpr uint64_t kDataSeedSalt = 0x9e3779b97f4a7c15ULL;

// What a mid-epoch learning-curve point changes besides nothing: the
// batch-norm running statistics (replaced by the recalibration) and the
// default generator of the device (the recalibration's forward passes run in
// training mode, where dropout draws from it). Restored afterwards, a run with
// a learning curve trains exactly as one without.
class MeasurementState {
 public:
  MeasurementState(UnasNet& net, c10::Device device)
      : generator_(at::globalContext().defaultGenerator(device)) {
    torch::NoGradGuard no_grad;
    for (torch::nn::BatchNorm2d& layer : net->batch_norms()) {
      for (at::Tensor* buffer :
           {&layer->running_mean, &layer->running_var, &layer->num_batches_tracked}) {
        if (!buffer->defined()) continue;
        buffers_.push_back(*buffer);
        saved_.push_back(buffer->clone());
      }
    }
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_state_ = generator_.get_state();
  }

  void Restore() {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < buffers_.size(); ++i) buffers_[i].copy_(saved_[i]);
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(generator_state_);
  }

 private:
  std::vector<at::Tensor> buffers_;  // the layers' own tensors
  std::vector<at::Tensor> saved_;
  at::Generator generator_;
  at::Tensor generator_state_;
};

}  // namespace

absl::StatusOr<c10::Device> SelectDevice(v1::Device requested) {
  const bool cuda = torch::cuda::is_available();
  switch (requested) {
    case v1::DEVICE_CPU:
      return c10::Device(c10::kCPU);
    case v1::DEVICE_CUDA:
      if (!cuda) {
        return absl::FailedPreconditionError(
            "training.device: CUDA was asked for but this worker has no CUDA device");
      }
      return c10::Device(c10::kCUDA, 0);
    default:
      return cuda ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
}

std::string DeviceName(const c10::Device& device) { return device.str(); }

at::Tensor BatchLoss(const at::Tensor& logits, const at::Tensor& targets,
                     const at::Tensor& class_weights) {
  namespace F = torch::nn::functional;
  const bool binary = logits.size(1) == 1;
  if (!class_weights.defined()) {
    if (binary) return F::binary_cross_entropy_with_logits(logits.squeeze(1), targets);
    return F::cross_entropy(logits, targets);
  }
  at::Tensor per_example;
  at::Tensor weights;
  if (binary) {
    per_example = F::binary_cross_entropy_with_logits(
        logits.squeeze(1), targets,
        F::BinaryCrossEntropyWithLogitsFuncOptions().reduction(torch::kNone));
    weights = class_weights.index_select(0, targets.to(at::kLong));
  } else {
    per_example =
        F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kNone));
    weights = class_weights.index_select(0, targets);
  }
  return (per_example * weights).mean();
}

at::Tensor CorrectCount(const at::Tensor& logits, const at::Tensor& targets) {
  if (logits.size(1) == 1) {
    return (logits.squeeze(1).gt(0) == targets.gt(0.5)).sum();
  }
  return (logits.argmax(1) == targets).sum();
}

EvaluationMetrics Evaluate(UnasNet& net, const ImageSet& set, const Preprocessing& preprocessing,
                           int batch_size, c10::Device device) {
  EvaluationMetrics m;
  m.examples = set.size();
  if (set.size() == 0) return m;
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const bool binary = net->plan().ops.back().output.channels == 1;
  at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
  at::Tensor correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(device));
  for (int64_t start = 0; start < set.size(); start += batch_size) {
    const int64_t count = std::min<int64_t>(batch_size, set.size() - start);
    at::Tensor x = SetToTensor(set, start, count, preprocessing).to(device);
    at::Tensor y =
        LabelsToTensor(std::span<const int32_t>(set.labels.data() + start, count), binary)
            .to(device);
    at::Tensor logits = net->forward(x);
    loss_sum += BatchLoss(logits, y, {}).to(at::kDouble) * static_cast<double>(count);
    correct += CorrectCount(logits, y);
  }
  m.loss = loss_sum.item<double>() / static_cast<double>(set.size());
  m.accuracy = static_cast<double>(correct.item<int64_t>()) / static_cast<double>(set.size());
  net->train(was_training);
  return m;
}

namespace {

absl::StatusOr<v1::EvaluationResult> TrainImpl(UnasNet& net, const Dataset& data,
                                               const TrainerOptions& options, c10::Device device) {
  const v1::TrainingSpec& spec = options.training;
  const int epochs = options.epochs > 0 ? options.epochs : spec.epochs();
  const int batch_size = spec.batch_size() > 0 ? spec.batch_size() : 128;
  if (epochs < 1) return absl::InvalidArgumentError("training.epochs: must be at least 1");
  if (data.train.size() == 0) return absl::InvalidArgumentError("the training set is empty");
  const DataShape shape = data.shape();
  const NetworkPlan& plan = net->plan();
  if (plan.input.height != shape.height || plan.input.width != shape.width ||
      plan.input.channels != shape.channels || plan.num_classes != shape.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the network was built for ", plan.input.height, "x", plan.input.width, "x",
        plan.input.channels, " with ", plan.num_classes, " classes, the data are ", shape.height,
        "x", shape.width, "x", shape.channels, " with ", shape.num_classes, " classes"));
  }
  // On the CPU the network always trains channels-last (NHWC activations):
  // 1.2-1.8x faster, and the layout whose gradients are checked against
  // float64 under every oneDNN instruction-set cap
  // (tests/worker/gradient_reference_test.cc). The default NCHW layout is
  // not safe there: LibTorch 1.13's oneDNN AVX2 convolution kernels (blocked
  // nChw8c) return gradients off by several percent on some networks (AVX-512
  // and AVX are right), measured in docs/training.md. On CUDA the default
  // layout is kept.
  if (device.is_cpu()) net->SetMemoryFormat(at::MemoryFormat::ChannelsLast);
  const bool binary = plan.ops.back().output.channels == 1;
  const ImageSet& validation = data.validation.size() > 0 ? data.validation : data.test;

  std::vector<at::Tensor> parameters = net->parameters();
  Optimizer optimizer(parameters, spec.optimizer());
  LearningRateSchedule schedule(spec);
  EarlyStopping early_stopping(spec);
  const Augmentation augmentation = AugmentationFromSpec(spec.augmentation());
  std::vector<at::Tensor> kernels = net->kernels();
  at::Tensor class_weights;
  if (spec.use_class_weights()) {
    std::vector<double> w = BalancedClassWeights(data.train.labels, data.num_classes);
    class_weights = at::tensor(std::vector<float>(w.begin(), w.end()), at::kFloat).to(device);
  }

  for (TrainingHook* hook : options.hooks) {
    UNAS_RETURN_IF_ERROR(hook->OnTrainBegin(*net, epochs));
  }
  int first_counted = 0;
  for (TrainingHook* hook : options.hooks) {
    first_counted = std::max(first_counted, hook->FirstCountedEpoch());
  }

  Rng rng(options.seed ^ kDataSeedSalt);
  std::vector<int64_t> order(data.train.size());
  BatchBuffers batch_buffers;
  std::vector<int32_t> batch_labels;
  const int64_t batches = (data.train.size() + batch_size - 1) / batch_size;
  const BatchNormRecalibration recalibration{
      .images = spec.batch_norm_recalibration_images(),
      .batch_size = batch_size,
      .seed = options.seed,
  };

  // The learning curve (docs/training.md, "Learning curves"): the error on a
  // fixed, job-seeded validation subset after the batches in point_batches.
  // A point inside an epoch recalibrates batch normalisation on the first
  // min(recalibration images, curve images) of the recalibration's own
  // images (none when recalibration is off), measures and puts everything
  // back (MeasurementState); a point at an epoch's end measures the network
  // the epoch record describes, after its full recalibration.
  std::optional<LearningCurvePlan> curve_plan;
  ImageSet curve_images;
  std::vector<int64_t> point_batches;
  BatchNormRecalibration curve_recalibration = recalibration;
  if (spec.has_learning_curve()) {
    UNAS_ASSIGN_OR_RETURN(curve_plan, MakeLearningCurvePlan(spec.learning_curve()));
    curve_images = LearningCurveImages(validation, curve_plan->images, options.curve_seed);
    point_batches = CurvePointBatches(batches, curve_plan->points_per_epoch);
    curve_recalibration.images = std::min(recalibration.images, curve_images.size());
  }
  // Points measured but not yet passed to options.on_curve.
  std::vector<v1::CurvePoint> unreported;

  v1::EvaluationResult result;
  result.set_device(DeviceName(device));
  const Clock::time_point start = Clock::now();
  // Records the curve's points measured after `done` batches of `epoch`
  // (several when an epoch has fewer batches than points).
  auto add_curve_points = [&](int epoch, int64_t done, double error) {
    for (size_t p = 0; p < point_batches.size(); ++p) {
      if (point_batches[p] != done) continue;
      v1::CurvePoint* point = result.add_curve();
      point->set_epoch_fraction(epoch + static_cast<double>(p + 1) / curve_plan->points_per_epoch);
      point->set_validation_error(error);
      point->set_training_seconds(Seconds(start));
      unreported.push_back(*point);
    }
  };
  auto report_curve_points = [&]() -> absl::Status {
    for (const v1::CurvePoint& point : unreported) {
      if (options.on_curve) UNAS_RETURN_IF_ERROR(options.on_curve(point));
    }
    unreported.clear();
    return absl::OkStatus();
  };
  double best_counted_accuracy = -1;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const double lr = schedule.RateForEpoch(epoch);
    for (TrainingHook* hook : options.hooks) hook->OnEpochBegin(epoch);
    net->train();
    std::iota(order.begin(), order.end(), 0);
    rng.Shuffle(order);

    at::Tensor loss_sum = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
    at::Tensor correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(device));
    const Clock::time_point epoch_start = Clock::now();
    Clock::time_point last_report = epoch_start;
    double curve_seconds = 0;  // mid-epoch curve points: not training throughput
    for (int64_t b = 0; b < batches; ++b) {
      const int64_t first = b * batch_size;
      const int64_t count = std::min<int64_t>(batch_size, data.train.size() - first);
      UNAS_ASSIGN_OR_RETURN(
          at::Tensor x, TrainingBatch(data, augmentation, /*augment=*/true,
                                      std::span<const int64_t>(order.data() + first, count), rng,
                                      batch_buffers, batch_labels));
      x = x.to(device);
      at::Tensor y = LabelsToTensor(batch_labels, binary).to(device);

      for (TrainingHook* hook : options.hooks) hook->BeforeForward(epoch, b);
      at::Tensor logits = net->forward(x);
      at::Tensor loss = BatchLoss(logits, y, class_weights);
      if (spec.kernel_l2() > 0) {
        at::Tensor penalty = at::zeros({}, loss.options());
        for (const at::Tensor& k : kernels) penalty = penalty + k.pow(2).sum();
        loss = loss + spec.kernel_l2() * penalty;
      }
      for (TrainingHook* hook : options.hooks) {
        at::Tensor extra = hook->ExtraLoss(x, logits);
        if (extra.defined()) loss = loss + extra;
      }
      optimizer.ZeroGrad();
      loss.backward();
      for (TrainingHook* hook : options.hooks) hook->BeforeOptimizerStep();
      optimizer.Step(lr);
      for (TrainingHook* hook : options.hooks) hook->AfterOptimizerStep();

      {
        torch::NoGradGuard no_grad;
        loss_sum += loss.detach().to(at::kDouble) * static_cast<double>(count);
        correct += CorrectCount(logits.detach(), y);
      }
      if (options.on_batch && std::chrono::duration<double>(Clock::now() - last_report).count() >=
                                  options.batch_callback_interval_seconds) {
        last_report = Clock::now();
        UNAS_RETURN_IF_ERROR(options.on_batch(epoch, b + 1, batches));
      }
      if (curve_plan && b + 1 < batches &&
          std::find(point_batches.begin(), point_batches.end(), b + 1) != point_batches.end()) {
        const Clock::time_point measure_start = Clock::now();
        MeasurementState state(net, device);
        for (TrainingHook* hook : options.hooks) hook->BeforeEvaluation();
        UNAS_RETURN_IF_ERROR(RecalibrateBatchNorm(net, data, curve_recalibration, device));
        const EvaluationMetrics point =
            Evaluate(net, curve_images, data.preprocessing, batch_size, device);
        state.Restore();
        curve_seconds += Seconds(measure_start);
        add_curve_points(epoch, b + 1, 1.0 - point.accuracy);
        UNAS_RETURN_IF_ERROR(report_curve_points());
      }
    }
    const double train_loss = loss_sum.item<double>() / static_cast<double>(data.train.size());
    const double train_accuracy =
        static_cast<double>(correct.item<int64_t>()) / static_cast<double>(data.train.size());
    const double train_seconds = Seconds(epoch_start) - curve_seconds;

    for (TrainingHook* hook : options.hooks) hook->BeforeEvaluation();
    UNAS_RETURN_IF_ERROR(RecalibrateBatchNorm(net, data, recalibration, device));
    const EvaluationMetrics val = Evaluate(net, validation, data.preprocessing, batch_size, device);
    if (curve_plan) {
      const EvaluationMetrics point =
          Evaluate(net, curve_images, data.preprocessing, batch_size, device);
      add_curve_points(epoch, batches, 1.0 - point.accuracy);
    }

    v1::EpochRecord* record = result.add_epochs();
    record->set_epoch(epoch + 1);
    record->set_train_loss(train_loss);
    record->set_train_accuracy(train_accuracy);
    record->set_validation_loss(val.loss);
    record->set_validation_accuracy(val.accuracy);
    record->set_learning_rate(lr);
    record->set_images_per_second(train_seconds > 0 ? data.train.size() / train_seconds : 0);
    for (TrainingHook* hook : options.hooks) hook->OnEpochEnd(epoch, record);
    if (epoch >= first_counted)
      best_counted_accuracy = std::max(best_counted_accuracy, val.accuracy);
    if (options.on_epoch) UNAS_RETURN_IF_ERROR(options.on_epoch(*record));
    UNAS_RETURN_IF_ERROR(report_curve_points());

    schedule.EndEpoch(val.loss, val.accuracy);
    if (early_stopping.ShouldStop(val.loss, val.accuracy)) break;
  }
  // Stopped before any counted epoch (early stopping): the last epoch counts.
  if (best_counted_accuracy < 0) {
    best_counted_accuracy = result.epochs(result.epochs_size() - 1).validation_accuracy();
  }
  result.set_validation_error(1.0 - best_counted_accuracy);

  for (TrainingHook* hook : options.hooks) hook->BeforeEvaluation();
  UNAS_RETURN_IF_ERROR(RecalibrateBatchNorm(net, data, recalibration, device));
  const EvaluationMetrics test = Evaluate(net, data.test, data.preprocessing, batch_size, device);
  result.set_test_error(data.test.size() > 0 ? 1.0 - test.accuracy : 1.0);
  for (TrainingHook* hook : options.hooks) UNAS_RETURN_IF_ERROR(hook->OnTrainEnd(&result));
  result.set_training_seconds(Seconds(start));
  return result;
}

}  // namespace

absl::StatusOr<v1::EvaluationResult> Train(UnasNet& net, const Dataset& data,
                                           const TrainerOptions& options, c10::Device device) {
  try {
    return TrainImpl(net, data, options, device);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("out of memory") != std::string::npos) {
      return absl::ResourceExhaustedError(absl::StrCat("training ran out of memory: ", what));
    }
    return absl::InternalError(absl::StrCat("LibTorch error during training: ", what));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("training ran out of memory");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("error during training: ", e.what()));
  }
}

}  // namespace unas::worker
