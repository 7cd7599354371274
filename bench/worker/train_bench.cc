// Training images per second of the worker's trainer vs. an equivalent eager
// PyTorch loop (bench/worker/pytorch_baseline.py under Debian's
// /usr/bin/python3), for a ~5 K and a ~50 K parameter network on Fashion-MNIST,
// side by side in one run; then the peak resident memory of this process,
// which has trained Fashion-MNIST candidates (the worker's situation).
//
//   unas_train_bench [--images 20000] [--threads 2] [--epochs 2] [--rounds 3]
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/search_space/network_plan.h"
#include "google/protobuf/text_format.h"
#include "worker/train_candidate.h"

namespace {

constexpr char kSmall[] = R"pb(
  cnn {
    conv_blocks {
      layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 stride2: true has_relu: true }
    }
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 16
        has_prepool: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_AVG pool_size: 2 }
    dense_blocks { units: 48 }
  })pb";

constexpr char kMedium[] = R"pb(
  cnn {
    conv_blocks {
      layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 32 has_bn: true has_relu: true }
    }
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 64
        has_prepool: true
        has_bn: true
        has_relu: true
      }
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 48
        stride2: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_MAX pool_size: 2 }
    dense_blocks { units: 16 }
  })pb";

// Runs the Python baseline; returns its images/s (0 on failure).
double RunPython(const std::string& net, int images, int threads, int epochs) {
  const std::string cmd = "/usr/bin/python3 " + std::string(UNAS_PYTORCH_BASELINE) + " --net " +
                          net + " --images " + std::to_string(images) + " --threads " +
                          std::to_string(threads) + " --epochs " + std::to_string(epochs);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return 0;
  char line[4096];
  std::string out;
  while (fgets(line, sizeof line, pipe.get()) != nullptr) out += line;
  const size_t key = out.find("\"images_per_second\": ");
  if (key == std::string::npos) {
    std::fprintf(stderr, "python baseline failed: %s\n", out.c_str());
    return 0;
  }
  const size_t params = out.find("\"parameters\": ");
  std::printf("    python: %s", out.c_str());
  (void)params;
  return std::stod(out.substr(key + 21));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"unas worker training throughput vs. eager PyTorch"};
  int images = 20000, threads = 2, epochs = 2, rounds = 3;
  app.add_option("--images", images, "training images per epoch");
  app.add_option("--threads", threads, "CPU threads for both");
  app.add_option("--epochs", epochs, "epochs per measurement (the best epoch counts)");
  app.add_option("--rounds", rounds, "alternating measurements per network");
  CLI11_PARSE(app, argc, argv);

  unas::worker::SetTrainingThreads(threads);
  unas::v1::JobSpec spec;
  spec.mutable_dataset()->set_name(unas::v1::DATASET_NAME_FASHION_MNIST);
  spec.mutable_dataset()->set_validation_fraction(0.0);
  spec.mutable_dataset()->set_max_train_examples(images);
  spec.mutable_dataset()->set_max_test_examples(1000);
  unas::v1::TrainingSpec* t = spec.mutable_training();
  t->mutable_optimizer()->set_kind(unas::v1::OPTIMIZER_KIND_ADAM);
  t->mutable_optimizer()->set_learning_rate(1e-3);
  t->set_epochs(epochs);
  t->set_batch_size(128);
  t->mutable_augmentation()->set_enabled(false);
  t->set_device(unas::v1::DEVICE_CPU);
  absl::StatusOr<unas::worker::Dataset> data = unas::worker::LoadJobDataset(spec);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  // No validation split: the test subset (1000) is evaluated after each epoch,
  // outside the timed training loop.
  std::printf("Fashion-MNIST, %d training images, batch 128, Adam, %d threads, no augmentation\n",
              images, threads);
  for (const auto& [name, text] : {std::pair{"small", kSmall}, std::pair{"medium", kMedium}}) {
    unas::worker::TrainRequest request;
    request.spec = spec;
    google::protobuf::TextFormat::ParseFromString(text, &request.architecture);
    request.dataset = &*data;
    request.include_weights = false;
    const int64_t params =
        unas::PlanNetwork(request.architecture, data->shape())->parameter_count();
    std::printf("%s network: %lld parameters\n", name, static_cast<long long>(params));
    double best_ours = 0, best_python = 0;
    std::vector<double> round_ratios;
    for (int r = 0; r < rounds; ++r) {
      absl::StatusOr<unas::v1::EvaluationResult> result = unas::worker::TrainCandidate(request);
      if (!result.ok()) {
        std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
        return 1;
      }
      double ours = 0;
      for (const auto& e : result->epochs()) ours = std::max(ours, e.images_per_second());
      std::printf("    ours:   {\"images_per_second\": %.1f, \"test_error\": %.4f}\n", ours,
                  result->test_error());
      const double python = RunPython(name, images, threads, epochs);
      best_ours = std::max(best_ours, ours);
      best_python = std::max(best_python, python);
      if (python > 0) round_ratios.push_back(ours / python);
    }
    // Best against best, and the median of the rounds' ratios (each round
    // runs both back to back, so they share the machine's load).
    std::sort(round_ratios.begin(), round_ratios.end());
    const double median = round_ratios.empty() ? 0.0
                                               : (round_ratios[(round_ratios.size() - 1) / 2] +
                                                  round_ratios[round_ratios.size() / 2]) /
                                                     2;
    std::printf(
        "%s: ours %.0f images/s, PyTorch eager %.0f images/s, ratio %.2fx (best vs best), "
        "%.2fx (median of %zu rounds)\n",
        name, best_ours, best_python, best_python > 0 ? best_ours / best_python : 0.0, median,
        round_ratios.size());
  }
  struct rusage self {};
  getrusage(RUSAGE_SELF, &self);
  struct rusage children {};
  getrusage(RUSAGE_CHILDREN, &children);
  std::printf(
      "peak RSS: this process (Fashion-MNIST loaded, both networks trained) %.1f MB; "
      "largest Python baseline %.1f MB\n",
      self.ru_maxrss / 1024.0, children.ru_maxrss / 1024.0);
  return 0;
}
