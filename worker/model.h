// The trainable LibTorch network of an architecture, built from its
// NetworkPlan (common/search_space/network_plan.h), the same plan the
// resource graph is built from, so the two views of one network agree on
// every tensor shape and on the weight count (docs/architecture.md).
//
// Layout: the module takes NCHW float input (N, C, H, W) and returns logits
// (N, outputs) with outputs = num_classes, or 1 for two classes. Dense layers
// flatten in NHWC order (as Keras and TFLite do), so a dense kernel's input
// index is (h * W + w) * C + c. Initialisation follows Keras's defaults:
// Glorot-uniform kernels with Keras's fan computation (a depthwise kernel
// k x k x C x 1 has fan_in k*k*C and fan_out k*k), zero biases, batch
// normalisation with epsilon 1e-3 and moving-average momentum 0.99 (torch
// momentum 0.01), gamma 1 and beta 0.
#ifndef UNAS_WORKER_MODEL_H_
#define UNAS_WORKER_MODEL_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/network_plan.h"
#include "unas/v1/architecture.pb.h"

namespace unas::worker {

// Keras's BatchNormalization defaults in torch terms.
inline constexpr double kBatchNormEpsilon = 1e-3;
inline constexpr double kBatchNormMomentum = 0.01;  // Keras momentum 0.99

// A layer the pruning code may mask (PlannedOp::prunable: every convolution
// and hidden dense layer, not the output layer).
struct PrunableLayer {
  std::string name;    // the plan's name, as LayerPruning.layer uses it
  int plan_index = 0;  // index into NetworkPlan::ops
  OpKind kind = OpKind::kConv2D;
  torch::Tensor weight;  // conv: (out, in / groups, kh, kw); dense: (out, in)
  torch::Tensor bias;    // (out)
  // The dimension of `weight` that indexes output channels (units): masking
  // weight.select(channel_dim, c) and bias[c] removes channel c. A depthwise
  // layer's channels are its input's, so structured pruning skips it.
  int64_t channel_dim = 0;
  bool reads_network_input = false;  // its first input is the model input
};

class UnasNetImpl : public torch::nn::Module {
 public:
  // Builds the modules of every op of the plan and initialises them with
  // torch's global generator (seed it with torch::manual_seed first).
  explicit UnasNetImpl(NetworkPlan plan);

  torch::Tensor forward(torch::Tensor input);
  // forward() that also returns every op's output, indexed like plan().ops
  // (for parity tests, debugging and int8 calibration). Costs the memory of
  // all intermediate tensors; forward() frees each after its last reader.
  torch::Tensor ForwardKeepingOutputs(torch::Tensor input, std::vector<torch::Tensor>* outputs);

  const NetworkPlan& plan() const { return plan_; }

  // Re-initialises every parameter and buffer as described at the top.
  void ResetParameters();

  // Stores every convolution kernel in `format` (values unchanged). With
  // ChannelsLast, LibTorch's oneDNN convolutions, batch norm and pooling run
  // on NHWC activations without reordering them at every layer: 1.2-1.5x
  // faster CPU training (bench/worker). Parameters keep their identity, so an
  // optimizer built before or after sees the same tensors.
  void SetMemoryFormat(at::MemoryFormat format);

  std::vector<PrunableLayer> prunable_layers() const;
  // Every batch-normalisation layer, in plan order (for recomputing their
  // statistics before evaluation, worker/batch_norm_statistics.h).
  std::vector<torch::nn::BatchNorm2d> batch_norms() const;
  // Every convolution and dense kernel (what kernel_l2 penalises).
  std::vector<torch::Tensor> kernels() const;
  // Trainable parameters without batch normalisation: kernels and biases.
  int64_t weight_count() const;

 private:
  struct Layer {
    torch::nn::Conv2d conv{nullptr};
    torch::nn::BatchNorm2d bn{nullptr};
    torch::nn::Linear linear{nullptr};
  };
  torch::Tensor Run(torch::Tensor input, std::vector<torch::Tensor>* keep);

  NetworkPlan plan_;
  std::vector<Layer> layers_;                    // one per plan op (empty for pools and adds)
  std::vector<std::vector<int>> release_after_;  // tensors whose last reader is op i
};
TORCH_MODULE(UnasNet);

// A tensor's shape in the plan's terms: {H, W, C} for (N, C, H, W), {1, 1, units}
// for (N, units).
Shape PlanShapeOf(const torch::Tensor& t);

// Plans the architecture for the data and builds its network.
absl::StatusOr<UnasNet> BuildNetwork(const v1::Architecture& arch, const DataShape& data,
                                     const PlanOptions& options = {});

// "conv_blocks[2].layers[0]" -> "conv_blocks_2_layers_0": the module name
// under which an op's parameters are registered (and saved).
std::string ModuleName(const std::string& plan_name);

}  // namespace unas::worker

#endif  // UNAS_WORKER_MODEL_H_
