#include "worker/train_candidate.h"

#include <ATen/Parallel.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "worker/distill/distillation.h"
#include "worker/distill/torchscript.h"
#include "worker/malloc_tuning.h"
#include "worker/pruning/dpf.h"
#include "worker/quantize.h"
#include "worker/trainer.h"

namespace unas::worker {
namespace {

DataShape ShapeFor(const Dataset& dataset) { return dataset.shape(); }

absl::StatusOr<std::string> SerializeWeights(UnasNet& net) {
  torch::serialize::OutputArchive archive;
  net->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return std::move(out).str();
}

// The hooks the job's training spec asks for (docs/training.md): DPF pruning
// at the candidate's target sparsity (the middle of the job's range when the
// request names none) and distillation.
struct JobHooks {
  std::unique_ptr<DpfPruning> pruning;
  std::unique_ptr<Distillation> distillation;
};

absl::StatusOr<JobHooks> MakeJobHooks(const TrainRequest& request, const PlanOptions& plan_options,
                                      c10::Device device) {
  const v1::TrainingSpec& training = request.spec.training();
  JobHooks hooks;
  if (training.has_pruning()) {
    const v1::PruningSpec& p = training.pruning();
    const double sparsity = request.sparsity.value_or((p.min_sparsity() + p.max_sparsity()) / 2.0);
    UNAS_ASSIGN_OR_RETURN(PruningSchedule schedule, MakePruningSchedule(p, sparsity));
    hooks.pruning = std::make_unique<DpfPruning>(schedule, request.architecture, plan_options);
  }
  if (training.has_distillation()) {
    UNAS_ASSIGN_OR_RETURN(hooks.distillation,
                          Distillation::FromSpec(training.distillation(), device));
  }
  return hooks;
}

}  // namespace

void SetTrainingThreads(int threads) {
  if (threads > 0) at::set_num_threads(threads);
}

int TrainingThreads() { return at::get_num_threads(); }

absl::StatusOr<Dataset> LoadJobDataset(const v1::JobSpec& spec) {
  return LoadDataset(spec.dataset(), spec.seed());
}

absl::StatusOr<v1::EvaluationResult> TrainCandidate(const TrainRequest& request,
                                                    const ProgressCallback& on_epoch) {
  KeepTrainingBuffersInHeap();
  SetTrainingThreads(request.threads);
  Dataset loaded;
  const Dataset* dataset = request.dataset;
  if (dataset == nullptr) {
    UNAS_ASSIGN_OR_RETURN(loaded, LoadJobDataset(request.spec));
    dataset = &loaded;
  }
  const uint64_t seed = request.seed.value_or(request.spec.seed());
  UNAS_ASSIGN_OR_RETURN(c10::Device device, SelectDevice(request.spec.training().device()));
  try {
    torch::manual_seed(seed);
    PlanOptions plan_options;
    if (request.architecture.has_cnn())
      plan_options.dropout = request.spec.search_space().dropout();
    UNAS_ASSIGN_OR_RETURN(UnasNet net,
                          BuildNetwork(request.architecture, ShapeFor(*dataset), plan_options));
    net->to(device);
    TrainerOptions options;
    options.training = request.spec.training();
    options.seed = seed;
    options.epochs = request.epochs;
    options.on_epoch = on_epoch;
    options.on_batch = request.on_batch;
    options.on_curve = request.on_curve;
    options.curve_seed = request.spec.seed();
    options.hooks = request.hooks;
    UNAS_ASSIGN_OR_RETURN(JobHooks job_hooks, MakeJobHooks(request, plan_options, device));
    if (job_hooks.pruning) options.hooks.push_back(job_hooks.pruning.get());
    if (job_hooks.distillation) options.hooks.push_back(job_hooks.distillation.get());
    UNAS_ASSIGN_OR_RETURN(v1::EvaluationResult result, Train(net, *dataset, options, device));
    // Exported weights and teachers in the standard layout.
    net->SetMemoryFormat(at::MemoryFormat::Contiguous);
    // Pruning: the compacted network (same outputs as the masked one) is
    // what is quantised and exported; result.pruning rebuilds its plan.
    if (job_hooks.pruning) net = job_hooks.pruning->compacted();
    if (!request.torchscript_path.empty()) {
      UNAS_RETURN_IF_ERROR(SaveTorchScript(*net, request.torchscript_path));
    }
    if (request.quantize) {
      QuantizeOptions quantize_options;
      quantize_options.threads = std::max(1, TrainingThreads());
      UNAS_RETURN_IF_ERROR(QuantizeAndEvaluate(net, *dataset, quantize_options, device, &result));
    }
    if (request.include_weights) {
      net->to(c10::Device(c10::kCPU));
      UNAS_ASSIGN_OR_RETURN(*result.mutable_trained_weights(), SerializeWeights(net));
    }
    return result;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("LibTorch error: ", e.what_without_backtrace()));
  }
}

absl::Status WriteWeightsFile(const std::string& path, const v1::EvaluationResult& result) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open for writing"));
  out.write(result.trained_weights().data(),
            static_cast<std::streamsize>(result.trained_weights().size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat(path, ": write failed"));
  return absl::OkStatus();
}

absl::StatusOr<double> EvaluateWeights(
    const v1::Architecture& architecture, const v1::JobSpec& spec, const std::string& weights,
    const Dataset& dataset, const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning) {
  try {
    PlanOptions plan_options;
    if (architecture.has_cnn()) plan_options.dropout = spec.search_space().dropout();
    plan_options.pruning = pruning;
    UNAS_ASSIGN_OR_RETURN(UnasNet net, BuildNetwork(architecture, ShapeFor(dataset), plan_options));
    torch::serialize::InputArchive archive;
    std::istringstream in(weights);
    archive.load_from(in);
    net->load(archive);
    const int batch = spec.training().batch_size() > 0 ? spec.training().batch_size() : 128;
    return Evaluate(net, dataset.test, dataset.preprocessing, batch, c10::Device(c10::kCPU))
        .accuracy;
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights do not fit the architecture: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<int8::FloatNetwork> FloatNetworkFromWeights(
    const v1::Architecture& architecture, const DataShape& shape, const std::string& weights,
    const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning) {
  if (weights.empty()) return absl::InvalidArgumentError("empty weights");
  try {
    PlanOptions plan_options;
    plan_options.pruning = pruning;
    UNAS_ASSIGN_OR_RETURN(UnasNet net, BuildNetwork(architecture, shape, plan_options));
    torch::serialize::InputArchive archive;
    std::istringstream in(weights);
    archive.load_from(in);
    net->load(archive);
    net->eval();
    return ExtractFloatNetwork(*net);
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("the weights do not fit the architecture: ", e.what_without_backtrace()));
  }
}

}  // namespace unas::worker
