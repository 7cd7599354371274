// Training and evaluation of one network on one dataset with a job spec's
// recipe (docs/training.md; the original μNAS recipe in docs/unas_original.md).
#ifndef UNAS_WORKER_TRAINER_H_
#define UNAS_WORKER_TRAINER_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "unas/v1/evaluation.pb.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/data/dataset.h"
#include "worker/model.h"
#include "worker/progress.h"

namespace unas::worker {

// Where pruning (DPF), distillation and other per-batch behaviour plug into
// the training loop. Every method has a do-nothing default. Calls, in order:
//   OnTrainBegin
//   per epoch: OnEpochBegin, per batch: BeforeForward, ExtraLoss,
//              BeforeOptimizerStep, AfterOptimizerStep;
//              BeforeEvaluation (validation), OnEpochEnd
//   BeforeEvaluation (test), OnTrainEnd
class TrainingHook {
 public:
  virtual ~TrainingHook() = default;
  virtual absl::Status OnTrainBegin(UnasNetImpl& /*net*/, int /*epochs*/) {
    return absl::OkStatus();
  }
  virtual void OnEpochBegin(int /*epoch*/) {}
  virtual void BeforeForward(int /*epoch*/, int64_t /*batch*/) {}
  // A term added to the batch loss (e.g. distillation); undefined = none.
  virtual at::Tensor ExtraLoss(const at::Tensor& /*inputs*/, const at::Tensor& /*logits*/) {
    return {};
  }
  virtual void BeforeOptimizerStep() {}
  virtual void AfterOptimizerStep() {}
  virtual void BeforeEvaluation() {}
  // May fill record->sparsity.
  virtual void OnEpochEnd(int /*epoch*/, v1::EpochRecord* /*record*/) {}
  // May fill result->pruning and result->achieved_sparsity.
  virtual absl::Status OnTrainEnd(v1::EvaluationResult* /*result*/) { return absl::OkStatus(); }
  // The first 0-based epoch whose validation accuracy counts for the
  // validation error (§7.1: the epoch pruning finishes by, when pruning).
  virtual int FirstCountedEpoch() const { return 0; }
};

struct TrainerOptions {
  v1::TrainingSpec training;  // defaults filled (common/job_spec)
  uint64_t seed = 0;          // shuffling, augmentation and dropout
  int epochs = 0;             // > 0 overrides training.epochs
  ProgressCallback on_epoch;  // may be empty
  BatchCallback on_batch;     // may be empty
  double batch_callback_interval_seconds = 1.0;
  // With training.learning_curve: called for each curve point (may be
  // empty; the points are in the result's curve either way).
  CurveCallback on_curve;
  // Which validation images the learning curve is measured on: the job
  // seed, so that every candidate of a job is measured on the same images.
  uint64_t curve_seed = 0;
  std::vector<TrainingHook*> hooks;  // not owned
};

struct EvaluationMetrics {
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
};

// The device a job asks for: CPU, CUDA (an error when this process has no
// CUDA device) or AUTO (CUDA when available).
absl::StatusOr<c10::Device> SelectDevice(v1::Device requested);
std::string DeviceName(const c10::Device& device);

// Trains `net` (already on `device`, initialised; on the CPU it is switched to
// channels-last, see trainer.cc) and fills everything of the
// result but trained_weights: validation error = 1 - best validation accuracy
// over the counted epochs, test error of the final weights, the epoch
// records, the learning curve (with training.learning_curve; docs/training.md,
// "Learning curves": measuring it does not change the training), training
// time and device. With no validation images the test set
// serves as the validation set. A non-OK status from a callback stops
// training and is returned. LibTorch errors (e.g. CUDA out of memory) come
// back as a status, never as an exception.
absl::StatusOr<v1::EvaluationResult> Train(UnasNet& net, const Dataset& data,
                                           const TrainerOptions& options, c10::Device device);

// Loss (unweighted) and accuracy of `net` on `set` in evaluation mode.
EvaluationMetrics Evaluate(UnasNet& net, const ImageSet& set, const Preprocessing& preprocessing,
                           int batch_size, c10::Device device);

// The batch loss of §7.1: mean cross-entropy on logits (K > 2) or binary
// cross-entropy with logits on a single logit (K = 2); with class weights each
// example's loss is scaled by its class's weight before the mean (Keras's
// class_weight). `targets` are int64 classes (float 0/1 for one logit).
at::Tensor BatchLoss(const at::Tensor& logits, const at::Tensor& targets,
                     const at::Tensor& class_weights);

// Correct predictions in the batch: arg-max, or logit > 0 for one logit.
at::Tensor CorrectCount(const at::Tensor& logits, const at::Tensor& targets);

}  // namespace unas::worker

#endif  // UNAS_WORKER_TRAINER_H_
