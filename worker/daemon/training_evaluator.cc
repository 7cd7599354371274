#include "worker/daemon/training_evaluator.h"

#include "absl/strings/str_cat.h"
#include "codegen/cortex_m4.h"
#include "spdlog/spdlog.h"
#include "worker/data/dataset.h"
#include "worker/train_candidate.h"

namespace unas::worker {
namespace {

// A file the job needs (dataset, teacher) that this worker cannot find will
// not appear by retrying: FAILED_PRECONDITION makes the failure permanent,
// and the message names the file, so the coordinator can end a job whose
// every candidate fails this way with a clear reason.
absl::Status MissingFileIsPermanent(const absl::Status& status, absl::string_view what) {
  if (status.code() != absl::StatusCode::kNotFound) return status;
  return absl::FailedPreconditionError(
      absl::StrCat(what, " is missing on this worker: ", status.message()));
}

}  // namespace

v1::JobSpec SpecFromTask(const v1::Task& task) {
  v1::JobSpec spec;
  *spec.mutable_dataset() = task.dataset();
  *spec.mutable_training() = task.training();
  *spec.mutable_search_space() = task.search_space();
  *spec.mutable_input_shape() = task.input_shape();
  spec.set_num_classes(task.num_classes());
  spec.set_seed(task.job_seed());
  return spec;
}

TrainingEvaluator::TrainingEvaluator(int threads, bool measure_cortex_m4)
    : threads_(threads),
      measure_cortex_m4_(measure_cortex_m4 && codegen::CortexM4ToolsAvailable()) {
  if (measure_cortex_m4 && !measure_cortex_m4_) {
    spdlog::info(
        "arm-none-eabi-gcc or qemu-system-arm not found: int8 candidates are reported "
        "without Cortex-M4 instructions per inference");
  }
  if (threads_ > 0) SetTrainingThreads(threads_);
}

TrainingEvaluator::~TrainingEvaluator() = default;

absl::StatusOr<std::shared_ptr<const Dataset>> TrainingEvaluator::DatasetFor(
    const v1::JobSpec& spec) {
  std::string key = spec.dataset().SerializeAsString() + "/" + std::to_string(spec.seed());
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && key == cached_key_) return cached_;
  absl::StatusOr<Dataset> dataset = LoadJobDataset(spec);
  if (!dataset.ok()) return dataset.status();
  cached_ = std::make_shared<const Dataset>(*std::move(dataset));
  cached_key_ = key;
  return cached_;
}

absl::StatusOr<v1::EvaluationResult> TrainingEvaluator::Evaluate(
    const v1::Task& task, const EvaluationObservers& observers, const std::atomic<bool>& stop) {
  v1::JobSpec spec = SpecFromTask(task);
  absl::StatusOr<std::shared_ptr<const Dataset>> dataset = DatasetFor(spec);
  if (!dataset.ok()) return MissingFileIsPermanent(dataset.status(), "the job's dataset");
  TrainRequest request;
  request.spec = std::move(spec);
  request.architecture = task.architecture();
  request.dataset = dataset->get();
  request.seed = task.seed();
  if (task.has_sparsity()) request.sparsity = task.sparsity();
  request.on_batch = [&stop](int, int64_t, int64_t) {
    return stop.load() ? absl::CancelledError("stopped by the coordinator or a shutdown")
                       : absl::OkStatus();
  };
  absl::StatusOr<v1::EvaluationResult> result =
      TrainCandidate(request, [&](const v1::EpochRecord& record) {
        if (observers.epoch) observers.epoch(record);
        return stop.load() ? absl::CancelledError("stopped by the coordinator or a shutdown")
                           : absl::OkStatus();
      });
  if (!result.ok()) return MissingFileIsPermanent(result.status(), "a file the job needs");
  if (measure_cortex_m4_ && result->has_quantized_model() && !stop.load()) {
    // A latency that cannot be measured leaves the field unset; it never
    // fails a candidate whose training and int8 evaluation succeeded.
    absl::StatusOr<int64_t> instructions =
        codegen::CortexM4InstructionsPerInference(result->quantized_model());
    if (instructions.ok()) {
      result->set_cortex_m4_instructions(*instructions);
    } else {
      spdlog::warn("candidate {}: no Cortex-M4 instruction count: {}", task.candidate_id(),
                   instructions.status().ToString());
    }
  }
  return result;
}

}  // namespace unas::worker
