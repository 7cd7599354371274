// unas-train: trains one architecture on one dataset with a job spec's
// recipe, prints per-epoch progress and the final errors, saves the weights.
//
//   unas-train --spec configs/cnn_fashion_aging.textproto
//              --arch configs/architectures/chain_mnist.textproto
//              [--epochs N] [--threads N] [--max-train N] [--max-test N]
//              [--data-dir DIR] [--device auto|cpu|cuda] [--seed S]
//              [--out weights.pt] [--result result.json] [--json] [--no-int8]
//              [--sparsity S] [--torchscript-out teacher.pt]
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "common/job_spec/loader.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/network_plan.h"
#include "worker/train_candidate.h"

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "unas-train: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train one architecture with a job spec's dataset and training recipe."};
  std::string spec_path, arch_path, out_path, result_path, data_dir, device;
  int epochs = 0;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int max_train = -1, max_test = -1;
  int64_t seed = -1;
  bool json = false;
  bool no_int8 = false;
  double sparsity = -1;
  std::string torchscript_path;
  app.add_option("--spec", spec_path, "job spec (textproto or JSON)")->required();
  app.add_option("--arch", arch_path, "architecture (textproto or JSON)")->required();
  app.add_option("--epochs", epochs, "override training.epochs")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "LibTorch CPU threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-train", max_train, "use only the first N training examples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-test", max_test, "use only the first N test examples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--data-dir", data_dir, "override dataset.data_dir");
  app.add_option("--device", device, "override training.device")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--seed", seed, "override the job seed")->check(CLI::NonNegativeNumber);
  app.add_option("--out", out_path, "write the trained weights (LibTorch archive) here");
  app.add_option("--result", result_path, "write the evaluation result (.json or .textproto)");
  app.add_flag("--json", json, "print the evaluation result as JSON on stdout");
  app.add_flag("--no-int8", no_int8, "skip the int8 quantisation and its evaluation");
  app.add_option("--sparsity", sparsity,
                 "pruning jobs: target sparsity (default: middle of the spec's range)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--torchscript-out", torchscript_path,
                 "also save the trained network as TorchScript (e.g. a distillation teacher)");
  CLI11_PARSE(app, argc, argv);

  // Overrides are applied before defaults and validation run.
  absl::StatusOr<unas::v1::JobSpec> raw = unas::ReadJobSpecFile(spec_path);
  if (!raw.ok()) return Fail(raw.status());
  if (epochs > 0) raw->mutable_training()->set_epochs(epochs);
  if (max_train >= 0) raw->mutable_dataset()->set_max_train_examples(max_train);
  if (max_test >= 0) raw->mutable_dataset()->set_max_test_examples(max_test);
  if (!data_dir.empty()) raw->mutable_dataset()->set_data_dir(data_dir);
  if (seed >= 0) raw->set_seed(static_cast<uint64_t>(seed));
  if (device == "cpu") raw->mutable_training()->set_device(unas::v1::DEVICE_CPU);
  if (device == "cuda") raw->mutable_training()->set_device(unas::v1::DEVICE_CUDA);
  if (device == "auto") raw->mutable_training()->set_device(unas::v1::DEVICE_AUTO);
  absl::StatusOr<unas::v1::JobSpec> spec = unas::PrepareJobSpec(*std::move(raw));
  if (!spec.ok()) return Fail(spec.status());

  unas::worker::TrainRequest request;
  request.spec = *spec;
  if (absl::Status s = unas::ReadProtoFile(arch_path, &request.architecture); !s.ok()) {
    return Fail(s);
  }
  request.threads = threads;
  request.include_weights = !out_path.empty();
  request.quantize = !no_int8;
  if (sparsity >= 0) request.sparsity = sparsity;
  request.torchscript_path = torchscript_path;

  std::FILE* log = json ? stderr : stdout;
  absl::StatusOr<unas::worker::Dataset> dataset = unas::worker::LoadJobDataset(request.spec);
  if (!dataset.ok()) return Fail(dataset.status());
  request.dataset = &*dataset;
  const unas::DataShape shape = dataset->shape();
  absl::StatusOr<unas::NetworkPlan> plan =
      unas::PlanNetwork(request.architecture, shape,
                        unas::PlanOptions{.dropout = request.spec.search_space().dropout()});
  if (!plan.ok()) return Fail(plan.status());
  std::fprintf(log, "%s: %lld train / %lld validation / %lld test images, %dx%dx%d, %d classes\n",
               dataset->data_dir.c_str(), static_cast<long long>(dataset->train.size()),
               static_cast<long long>(dataset->validation.size()),
               static_cast<long long>(dataset->test.size()), shape.height, shape.width,
               shape.channels, shape.num_classes);
  std::fprintf(log, "network: %zu ops, %lld parameters; %d epochs, batch %d, %d threads\n",
               plan->ops.size(), static_cast<long long>(plan->parameter_count()),
               request.spec.training().epochs(), request.spec.training().batch_size(), threads);
  std::fflush(log);

  const int total_epochs = request.spec.training().epochs();
  // With training.learning_curve: "curve 0.25 epochs  val_error 0.3120  (4.2 s)".
  request.on_curve = [&](const unas::v1::CurvePoint& point) {
    std::fprintf(log, "curve %.2f epochs  val_error %.4f  (%.1f s)\n", point.epoch_fraction(),
                 point.validation_error(), point.training_seconds());
    std::fflush(log);
    return absl::OkStatus();
  };
  absl::StatusOr<unas::v1::EvaluationResult> result =
      unas::worker::TrainCandidate(request, [&](const unas::v1::EpochRecord& record) {
        std::fprintf(log, "%s\n", unas::worker::FormatEpochRecord(record, total_epochs).c_str());
        std::fflush(log);
        return absl::OkStatus();
      });
  if (!result.ok()) return Fail(result.status());
  std::fprintf(log, "validation error %.4f  test error %.4f  (%.1f s on %s)\n",
               result->validation_error(), result->test_error(), result->training_seconds(),
               result->device().c_str());
  if (result->has_int8_test_error()) {
    std::fprintf(log, "int8 test error %.4f  (accuracy %.2f %% float, %.2f %% int8, %d int8 ops)\n",
                 result->int8_test_error(), 100.0 * (1.0 - result->test_error()),
                 100.0 * (1.0 - result->int8_test_error()), result->quantized_model().ops_size());
  }
  if (result->has_achieved_sparsity()) {
    std::fprintf(log,
                 "pruning: sparsity %.3f; compacted layers (channels, non-zero / total weights):\n",
                 result->achieved_sparsity());
    for (const unas::v1::LayerPruning& p : result->pruning()) {
      std::fprintf(log, "  %-36s %5d  %lld / %lld\n", p.layer().c_str(), p.surviving_channels(),
                   static_cast<long long>(p.nonzero_weights()),
                   static_cast<long long>(p.total_weights()));
    }
  }
  if (!out_path.empty()) {
    if (absl::Status s = unas::worker::WriteWeightsFile(out_path, *result); !s.ok()) return Fail(s);
    std::fprintf(log, "weights written to %s\n", out_path.c_str());
  }
  result->clear_trained_weights();
  if (!result_path.empty()) {
    if (absl::Status s = unas::WriteProtoFile(result_path, *result); !s.ok()) return Fail(s);
  }
  if (json) std::cout << unas::ToJson(*result) << std::endl;
  return 0;
}
