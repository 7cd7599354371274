#include "worker/batch_norm_statistics.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

#include <algorithm>
#include <numeric>
#include <span>
#include <vector>

#include "common/search_space/rng.h"
#include "common/status/status_macros.h"
#include "worker/batch.h"

namespace unas::worker {
namespace {

// Keeps the subset independent of the shuffling and augmentation streams
// drawn from the same job seed.
constexpr uint64_t kSubsetSeedSalt = 0x6a09e667f3bcc909ULL;

}  // namespace

absl::Status RecalibrateBatchNorm(UnasNet& net, const Dataset& data,
                                  const BatchNormRecalibration& options, c10::Device device) {
  std::vector<torch::nn::BatchNorm2d> layers = net->batch_norms();
  const int64_t available = data.train.size();
  if (layers.empty() || options.images <= 0 || available == 0) return absl::OkStatus();
  const int64_t batch_size = std::clamp<int64_t>(options.batch_size, 1, available);
  const int64_t batches = std::max<int64_t>(1, std::min(options.images, available) / batch_size);

  std::vector<int64_t> subset(available);
  std::iota(subset.begin(), subset.end(), 0);
  Rng rng(options.seed ^ kSubsetSeedSalt);
  rng.Shuffle(subset);

  // momentum = none: torch's cumulative moving average, running = mean over
  // the batches seen since reset_running_stats().
  std::vector<c10::optional<double>> momenta;
  for (torch::nn::BatchNorm2d& layer : layers) {
    momenta.push_back(layer->options.momentum());
    layer->options.momentum(c10::nullopt);
    layer->reset_running_stats();
  }
  const bool was_training = net->is_training();
  net->train();
  absl::Status status;
  {
    torch::NoGradGuard no_grad;
    BatchBuffers buffers;
    std::vector<int32_t> labels;
    for (int64_t b = 0; b < batches && status.ok(); ++b) {
      absl::StatusOr<at::Tensor> x =
          TrainingBatch(data, Augmentation{}, /*augment=*/false,
                        std::span<const int64_t>(subset.data() + b * batch_size, batch_size), rng,
                        buffers, labels);
      if (!x.ok()) {
        status = x.status();
        break;
      }
      net->forward(x->to(device));
    }
  }
  net->train(was_training);
  for (size_t i = 0; i < layers.size(); ++i) layers[i]->options.momentum(momenta[i]);
  return status;
}

}  // namespace unas::worker
