// The cost of measuring a learning curve (TrainingSpec.learning_curve): the
// same candidates trained with the same seed with and without one, on one
// job spec's dataset and recipe (default: the demo's), interleaved over
// several rounds so that a busy machine's noise falls on both alike. Prints
// CPU and wall seconds of TrainCandidate alone (the dataset is loaded once,
// before), min and median per variant, the curve's extra cost in percent,
// and checks that both variants trained the same network (equal errors).
//
//   unas_learning_curve_cost [--spec configs/fashion_mnist_quick.textproto]
//                            [--rounds 5] [--threads 1]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "common/job_spec/loader.h"
#include "google/protobuf/text_format.h"
#include "worker/train_candidate.h"

namespace {

// Two networks within the demo's 16 KB bounds: one with batch normalisation
// (so mid-epoch points recalibrate), one without.
constexpr char kBatchNorm[] = R"pb(
  cnn {
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 8
        stride2: true
        has_bn: true
        has_relu: true
      }
    }
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 16
        stride2: true
        has_bn: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_AVG pool_size: 2 }
    dense_blocks { units: 16 }
  })pb";

constexpr char kPlain[] = R"pb(
  cnn {
    conv_blocks {
      layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 16 has_relu: true }
    }
    conv_blocks {
      layers {
        type: CONV_LAYER_TYPE_CONV2D
        kernel_size: 3
        filters: 32
        stride2: true
        has_prepool: true
        has_relu: true
      }
    }
    pooling { type: POOL_TYPE_MAX pool_size: 2 }
    dense_blocks { units: 32 }
  })pb";

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Samples {
  std::vector<double> cpu, wall;
  double validation_error = -1;
  int points = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the extra training time of a learning curve"};
  std::string spec_path = std::string(UNAS_SOURCE_DIR) + "/configs/fashion_mnist_quick.textproto";
  int rounds = 5;
  int threads = 1;
  app.add_option("--spec", spec_path, "job spec whose dataset and recipe are used");
  app.add_option("--rounds", rounds, "interleaved rounds")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "LibTorch threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<unas::v1::JobSpec> spec = unas::LoadJobSpecFile(spec_path);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", spec.status().ToString().c_str());
    return 1;
  }
  spec->mutable_training()->clear_learning_curve();
  absl::StatusOr<unas::worker::Dataset> data = unas::worker::LoadJobDataset(*spec);
  if (!data.ok()) {
    std::fprintf(stderr, "%s\n", data.status().ToString().c_str());
    return 1;
  }
  unas::v1::JobSpec curved = *spec;
  curved.mutable_training()->mutable_learning_curve();  // defaults: 4 points, 1,024 images
  std::printf("%s: %lld training images, %d epochs, batch %d, %d thread(s), %d rounds\n",
              spec_path.c_str(), static_cast<long long>(data->train.size()),
              spec->training().epochs(), spec->training().batch_size(), threads, rounds);

  const std::vector<std::pair<std::string, const char*>> networks = {
      {"batch-norm CNN", kBatchNorm}, {"CNN without batch norm", kPlain}};
  bool same = true;
  for (const auto& [name, text] : networks) {
    unas::v1::Architecture architecture;
    google::protobuf::TextFormat::ParseFromString(text, &architecture);
    Samples samples[2];  // without, with
    for (int round = 0; round < rounds; ++round) {
      for (int k = 0; k < 2; ++k) {
        const int variant = (round + k) % 2;  // alternate which goes first
        unas::worker::TrainRequest request;
        request.spec = variant == 0 ? *spec : curved;
        request.architecture = architecture;
        request.dataset = &*data;
        request.threads = threads;
        request.quantize = false;
        request.include_weights = false;
        const double cpu = CpuSeconds();
        const auto wall = std::chrono::steady_clock::now();
        absl::StatusOr<unas::v1::EvaluationResult> result = unas::worker::TrainCandidate(request);
        if (!result.ok()) {
          std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
          return 1;
        }
        samples[variant].cpu.push_back(CpuSeconds() - cpu);
        samples[variant].wall.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count());
        samples[variant].validation_error = result->validation_error();
        samples[variant].points = result->curve_size();
      }
    }
    same = same && samples[0].validation_error == samples[1].validation_error;
    std::printf("%s: validation error %.4f without, %.4f with the curve (%d points)\n",
                name.c_str(), samples[0].validation_error, samples[1].validation_error,
                samples[1].points);
    for (int m = 0; m < 2; ++m) {
      const std::vector<double>& a = m == 0 ? samples[0].cpu : samples[0].wall;
      const std::vector<double>& b = m == 0 ? samples[1].cpu : samples[1].wall;
      const double min_a = *std::min_element(a.begin(), a.end());
      const double min_b = *std::min_element(b.begin(), b.end());
      std::printf(
          "  %-4s s  without: min %.2f median %.2f  with: min %.2f median %.2f  extra: %+.1f %% "
          "(min), %+.1f %% (median)\n",
          m == 0 ? "CPU" : "wall", min_a, Median(a), min_b, Median(b), 100.0 * (min_b / min_a - 1),
          100.0 * (Median(b) / Median(a) - 1));
    }
  }
  std::printf(same ? "both variants trained the same networks\n"
                   : "MISMATCH: the curve changed the training\n");
  return same ? 0 : 1;
}
