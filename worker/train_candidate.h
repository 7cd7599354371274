// Training one candidate architecture with a job's recipe: the entry point
// the worker daemon and unas-train call. No LibTorch in this header.
#ifndef UNAS_WORKER_TRAIN_CANDIDATE_H_
#define UNAS_WORKER_TRAIN_CANDIDATE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "int8/converter.h"
#include "unas/v1/architecture.pb.h"
#include "unas/v1/evaluation.pb.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/data/dataset.h"
#include "worker/progress.h"

namespace unas::worker {

class TrainingHook;  // worker/trainer.h

struct TrainRequest {
  // The job spec with defaults filled (LoadJobSpecFile / PrepareJobSpec):
  // dataset, training recipe, search-space dropout and seed.
  v1::JobSpec spec;
  v1::Architecture architecture;
  // A dataset already loaded for this job (a daemon loads it once per job);
  // null: loaded from spec.dataset() for this call. Not owned.
  const Dataset* dataset = nullptr;
  // Seeds initialisation, dropout, shuffling and augmentation; empty: spec.seed().
  std::optional<uint64_t> seed;
  int epochs = 0;  // > 0 overrides spec.training.epochs
  // Pruning jobs: the candidate's target sparsity; empty: the middle of the
  // spec's [min_sparsity, max_sparsity].
  std::optional<double> sparsity;
  // Non-empty: also save the trained (compacted) network as a TorchScript
  // module there, e.g. a distillation teacher (worker/distill/torchscript.h).
  std::string torchscript_path;
  int threads = 0;              // > 0: torch::set_num_threads(threads) first
  bool include_weights = true;  // fill EvaluationResult.trained_weights
  // Quantise the trained network to int8 and evaluate it (quantized_model,
  // int8_test_error; worker/quantize.h).
  bool quantize = true;
  BatchCallback on_batch;  // may be empty
  // Each learning-curve point as it is measured (spec.training has
  // learning_curve); measured on images drawn with spec.seed(), the job seed.
  CurveCallback on_curve;            // may be empty
  std::vector<TrainingHook*> hooks;  // not owned
};

// Builds the network from the architecture (through its NetworkPlan), places
// it on the device the spec asks for, trains it and evaluates it. On CPU the
// result is a function of the request and the thread count.
absl::StatusOr<v1::EvaluationResult> TrainCandidate(const TrainRequest& request,
                                                    const ProgressCallback& on_epoch = {});

// The dataset a job's candidates train on (split seeded with the job seed).
absl::StatusOr<Dataset> LoadJobDataset(const v1::JobSpec& spec);

// LibTorch's intra-op thread count for this process (its default is 1).
void SetTrainingThreads(int threads);
int TrainingThreads();

// Writes EvaluationResult.trained_weights (a LibTorch archive) to a file.
absl::Status WriteWeightsFile(const std::string& path, const v1::EvaluationResult& result);

// Loads trained weights into a freshly built network of `architecture` and
// returns its test accuracy on `dataset` (what export and tests use to check
// a weights file). Weights of a pruning job belong to the compacted network:
// pass the result's `pruning` to build it.
absl::StatusOr<double> EvaluateWeights(
    const v1::Architecture& architecture, const v1::JobSpec& spec, const std::string& weights,
    const Dataset& dataset,
    const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning = nullptr);

// Loads trained weights (a LibTorch archive) into a freshly built network of
// `architecture` for `shape` and returns it as the float network the ONNX and
// int8 writers take (batch normalisation folded). `pruning` as above.
// InvalidArgument when the weights do not fit the architecture. unas-onnx
// calls this, so its own translation unit includes no LibTorch header.
absl::StatusOr<int8::FloatNetwork> FloatNetworkFromWeights(
    const v1::Architecture& architecture, const DataShape& shape, const std::string& weights,
    const google::protobuf::RepeatedPtrField<v1::LayerPruning>* pruning = nullptr);

}  // namespace unas::worker

#endif  // UNAS_WORKER_TRAIN_CANDIDATE_H_
