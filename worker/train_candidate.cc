#include "worker/train_candidate.h"

#include <ATen/Parallel.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
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
    options.hooks = request.hooks;
    UNAS_ASSIGN_OR_RETURN(v1::EvaluationResult result, Train(net, *dataset, options, device));
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

absl::StatusOr<double> EvaluateWeights(const v1::Architecture& architecture,
                                       const v1::JobSpec& spec, const std::string& weights,
                                       const Dataset& dataset) {
  try {
    PlanOptions plan_options;
    if (architecture.has_cnn()) plan_options.dropout = spec.search_space().dropout();
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

}  // namespace unas::worker
