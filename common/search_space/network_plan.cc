#include "common/search_space/network_plan.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace unas {
namespace {

absl::Status Invalid(absl::string_view element, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(element, ": ", message));
}

std::string ShapeText(const Shape& s) {
  return absl::StrCat(s.height, "x", s.width, "x", s.channels);
}

// round(num / den) with ties to even, in integers: the tie-up pool factor of
// the original (Python's round) without floating-point error.
int64_t RoundHalfEven(int64_t num, int64_t den) {
  const int64_t q = num / den;
  const int64_t twice_r = 2 * (num % den);
  if (twice_r > den || (twice_r == den && q % 2 == 1)) return q + 1;
  return q;
}

// Valid convolution / pooling output size: floor((in - window) / stride) + 1.
int64_t ValidOut(int64_t in, int64_t window, int64_t stride) { return (in - window) / stride + 1; }

struct Override {
  int64_t channels = 0;  // 0: keep
  std::optional<int64_t> nonzero;
};

class Planner {
 public:
  Planner(const DataShape& data, const PlanOptions& options,
          const std::map<std::string, Override>* overrides)
      : options_(options), overrides_(overrides) {
    plan_.input = Shape{data.height, data.width, data.channels};
    plan_.num_classes = data.num_classes;
  }

  absl::StatusOr<NetworkPlan> Cnn(const v1::CnnArchitecture& cnn);
  absl::StatusOr<NetworkPlan> Mlp(const v1::MlpArchitecture& mlp);

 private:
  const Shape& ShapeOf(int tensor) const { return plan_.shape_of(tensor); }

  const Override* FindOverride(const std::string& name) const {
    if (overrides_ == nullptr) return nullptr;
    auto it = overrides_->find(name);
    return it == overrides_->end() ? nullptr : &it->second;
  }

  // Appends the op after checking its output shape; returns its index.
  absl::StatusOr<int> Emit(PlannedOp op) {
    const Shape& s = op.output;
    if (s.height < 1 || s.width < 1 || s.channels < 1) {
      return Invalid(
          op.name, absl::StrCat("output shape ", ShapeText(s), " collapses below 1x1x1 for input ",
                                ShapeText(plan_.input)));
    }
    if (s.elements() > kMaxTensorElements || op.kernel_elements > kMaxTensorElements) {
      return Invalid(op.name, absl::StrCat("output ", ShapeText(s), " or its kernel exceeds ",
                                           kMaxTensorElements, " elements"));
    }
    plan_.ops.push_back(std::move(op));
    return static_cast<int>(plan_.ops.size()) - 1;
  }

  absl::StatusOr<int> Pool(OpKind kind, std::string name, int input, int64_t ph, int64_t pw) {
    const Shape& in = ShapeOf(input);
    PlannedOp op;
    op.kind = kind;
    op.name = std::move(name);
    op.inputs = {input};
    op.kernel_height = static_cast<int>(ph);
    op.kernel_width = static_cast<int>(pw);
    op.stride_height = op.kernel_height;
    op.stride_width = op.kernel_width;
    op.output = Shape{ValidOut(in.height, ph, ph), ValidOut(in.width, pw, pw), in.channels};
    return Emit(std::move(op));
  }

  // Convolution (Conv2D with kernel 1 for 1x1 layers) reading `input`.
  absl::StatusOr<int> Conv(OpKind kind, std::string name, int input, int64_t kernel, int stride,
                           int64_t filters, bool bn, bool relu) {
    const Shape& in = ShapeOf(input);
    PlannedOp op;
    op.kind = kind;
    op.name = std::move(name);
    op.inputs = {input};
    op.kernel_height = op.kernel_width = static_cast<int>(kernel);
    op.stride_height = op.stride_width = stride;
    op.batch_norm = bn;
    op.relu = relu;
    op.prunable = true;
    int64_t out_channels = kind == OpKind::kDepthwiseConv2D ? in.channels : filters;
    const Override* o = FindOverride(op.name);
    if (o != nullptr && o->channels > 0 && kind != OpKind::kDepthwiseConv2D) {
      out_channels = o->channels;
    }
    op.output = Shape{ValidOut(in.height, kernel, stride), ValidOut(in.width, kernel, stride),
                      out_channels};
    op.kernel_elements =
        kernel * kernel * in.channels * (kind == OpKind::kDepthwiseConv2D ? 1 : out_channels);
    op.bias_elements = out_channels;
    if (o != nullptr && o->nonzero) {
      op.nonzero_kernel_elements = std::min(*o->nonzero, op.kernel_elements);
    }
    return Emit(std::move(op));
  }

  absl::StatusOr<int> Dense(std::string name, int input, int64_t units, bool relu, double dropout,
                            bool prunable) {
    const Shape& in = ShapeOf(input);
    PlannedOp op;
    op.kind = OpKind::kDense;
    op.name = std::move(name);
    op.inputs = {input};
    op.relu = relu;
    op.dropout = dropout;
    op.prunable = prunable;
    const Override* o = prunable ? FindOverride(op.name) : nullptr;
    if (o != nullptr && o->channels > 0) units = o->channels;
    op.output = Shape{1, 1, units};
    op.kernel_elements = in.elements() * units;
    op.bias_elements = units;
    if (o != nullptr && o->nonzero) {
      op.nonzero_kernel_elements = std::min(*o->nonzero, op.kernel_elements);
    }
    return Emit(std::move(op));
  }

  // One searchable conv layer (with its optional pre-pool) reading `input`.
  // `forced_filters` > 0 replaces the layer's filters (last layer of a branch).
  absl::StatusOr<int> ConvLayer(const v1::ConvLayer& layer, const std::string& path, int input,
                                int64_t forced_filters);

  // Sums the pending tensors after pooling the larger ones down (tie-up).
  absl::StatusOr<int> TieUp(const std::vector<int>& pending, const std::string& pool_prefix,
                            const std::string& add_name);

  absl::StatusOr<int> DenseHead(int input,
                                const google::protobuf::RepeatedPtrField<v1::DenseLayer>& layers,
                                const char* prefix, double dropout);

  PlanOptions options_;
  const std::map<std::string, Override>* overrides_;
  NetworkPlan plan_;
};

absl::StatusOr<int> Planner::ConvLayer(const v1::ConvLayer& layer, const std::string& path,
                                       int input, int64_t forced_filters) {
  const bool pointwise = layer.type() == v1::CONV_LAYER_TYPE_POINTWISE;
  const bool depthwise = layer.type() == v1::CONV_LAYER_TYPE_DEPTHWISE;
  if (!pointwise && !depthwise && layer.type() != v1::CONV_LAYER_TYPE_CONV2D) {
    return Invalid(path + ".type", "must be CONV2D, POINTWISE or DEPTHWISE");
  }
  if (!pointwise && layer.kernel_size() < 1) {
    return Invalid(path + ".kernel_size", absl::StrCat(layer.kernel_size(), " is not positive"));
  }
  if (!depthwise && forced_filters == 0 && layer.filters() < 1) {
    return Invalid(path + ".filters", absl::StrCat(layer.filters(), " is not positive"));
  }
  int x = input;
  {
    const Shape& s = ShapeOf(x);
    // A 1x1 tensor cannot be pooled further; the pre-pool is skipped then.
    if (layer.has_prepool() && (s.height > 1 || s.width > 1)) {
      UNAS_ASSIGN_OR_RETURN(x, Pool(OpKind::kMaxPool, path + ".prepool", x,
                                    std::min<int64_t>(2, s.height), std::min<int64_t>(2, s.width)));
    }
  }
  const Shape& s = ShapeOf(x);
  const int64_t kernel =
      pointwise ? 1 : std::min<int64_t>({layer.kernel_size(), s.height, s.width});
  const int stride = (pointwise || !layer.stride2()) ? 1 : 2;
  const int64_t filters = forced_filters > 0 ? forced_filters : layer.filters();
  return Conv(depthwise ? OpKind::kDepthwiseConv2D : OpKind::kConv2D, path, x, kernel, stride,
              filters, layer.has_bn(), layer.has_relu());
}

absl::StatusOr<int> Planner::TieUp(const std::vector<int>& pending, const std::string& pool_prefix,
                                   const std::string& add_name) {
  if (pending.size() == 1) return pending[0];
  int64_t h_min = ShapeOf(pending[0]).height;
  int64_t w_min = ShapeOf(pending[0]).width;
  for (int t : pending) {
    h_min = std::min(h_min, ShapeOf(t).height);
    w_min = std::min(w_min, ShapeOf(t).width);
  }
  PlannedOp add;
  add.kind = OpKind::kAdd;
  add.name = add_name;
  for (size_t j = 0; j < pending.size(); ++j) {
    int t = pending[j];
    const int64_t ph = RoundHalfEven(ShapeOf(t).height, h_min);
    const int64_t pw = RoundHalfEven(ShapeOf(t).width, w_min);
    if (ph > 1 || pw > 1) {
      UNAS_ASSIGN_OR_RETURN(
          t, Pool(OpKind::kMaxPool, absl::StrCat(pool_prefix, "[", j, "]"), t, ph, pw));
    }
    const Shape& s = ShapeOf(t);
    add.output.height = std::max(add.output.height, s.height);
    add.output.width = std::max(add.output.width, s.width);
    add.output.channels = std::max(add.output.channels, s.channels);
    add.inputs.push_back(t);
  }
  return Emit(std::move(add));
}

absl::StatusOr<int> Planner::DenseHead(
    int input, const google::protobuf::RepeatedPtrField<v1::DenseLayer>& layers, const char* prefix,
    double dropout) {
  int x = input;
  for (int d = 0; d < layers.size(); ++d) {
    const std::string name = absl::StrCat(prefix, "[", d, "]");
    if (layers[d].units() < 1) {
      return Invalid(name + ".units", absl::StrCat(layers[d].units(), " is not positive"));
    }
    UNAS_ASSIGN_OR_RETURN(
        x, Dense(name, x, layers[d].units(), /*relu=*/true, dropout, /*prunable=*/true));
  }
  return Dense("output", x, OutputUnits(DataShape{0, 0, 0, plan_.num_classes}), /*relu=*/false,
               /*dropout=*/0.0, /*prunable=*/false);
}

absl::StatusOr<NetworkPlan> Planner::Cnn(const v1::CnnArchitecture& cnn) {
  if (cnn.conv_blocks_size() < 1) return Invalid("conv_blocks", "at least one block is needed");
  std::vector<int> pending = {kNetworkInput};
  int last_block_input = kNetworkInput;
  for (int b = 0; b < cnn.conv_blocks_size(); ++b) {
    const v1::ConvBlock& block = cnn.conv_blocks(b);
    const std::string block_path = absl::StrCat("conv_blocks[", b, "]");
    if (block.layers_size() < 1) return Invalid(block_path + ".layers", "a block needs a layer");
    if (b == 0 && block.is_branch()) {
      return Invalid(block_path + ".is_branch", "the first block cannot be a branch");
    }
    if (!block.is_branch()) {
      UNAS_ASSIGN_OR_RETURN(int x,
                            TieUp(pending, block_path + ".input_pool", block_path + ".input_add"));
      last_block_input = x;
      for (int l = 0; l < block.layers_size(); ++l) {
        UNAS_ASSIGN_OR_RETURN(
            x, ConvLayer(block.layers(l), absl::StrCat(block_path, ".layers[", l, "]"), x, 0));
      }
      pending = {x};
      continue;
    }
    // A branch: a parallel path from the last non-branch block's input whose
    // last layer matches that block's output channels.
    const int64_t target_channels = ShapeOf(pending[0]).channels;
    int x = last_block_input;
    const int last = block.layers_size() - 1;
    for (int l = 0; l <= last; ++l) {
      const v1::ConvLayer& layer = block.layers(l);
      const bool forced = l == last && layer.type() != v1::CONV_LAYER_TYPE_DEPTHWISE;
      UNAS_ASSIGN_OR_RETURN(x, ConvLayer(layer, absl::StrCat(block_path, ".layers[", l, "]"), x,
                                         forced ? target_channels : 0));
    }
    if (block.layers(last).type() == v1::CONV_LAYER_TYPE_DEPTHWISE) {
      // A depthwise layer cannot change channels: a 1x1 projection follows.
      UNAS_ASSIGN_OR_RETURN(x, Conv(OpKind::kConv2D, block_path + ".branch_projection", x, 1, 1,
                                    target_channels, false, false));
    }
    pending.push_back(x);
  }
  UNAS_ASSIGN_OR_RETURN(int x, TieUp(pending, "conv_output_pool", "conv_output_add"));
  if (cnn.has_pooling()) {
    const v1::Pooling& pooling = cnn.pooling();
    if (pooling.type() != v1::POOL_TYPE_AVG && pooling.type() != v1::POOL_TYPE_MAX) {
      return Invalid("pooling.type", "must be AVG or MAX");
    }
    if (pooling.pool_size() < 1) {
      return Invalid("pooling.pool_size", absl::StrCat(pooling.pool_size(), " is not positive"));
    }
    const Shape& s = ShapeOf(x);
    UNAS_ASSIGN_OR_RETURN(
        x, Pool(pooling.type() == v1::POOL_TYPE_AVG ? OpKind::kAvgPool : OpKind::kMaxPool,
                "pooling", x, std::min<int64_t>(pooling.pool_size(), s.height),
                std::min<int64_t>(pooling.pool_size(), s.width)));
  }
  UNAS_RETURN_IF_ERROR(DenseHead(x, cnn.dense_blocks(), "dense_blocks", options_.dropout).status());
  return std::move(plan_);
}

absl::StatusOr<NetworkPlan> Planner::Mlp(const v1::MlpArchitecture& mlp) {
  UNAS_RETURN_IF_ERROR(DenseHead(kNetworkInput, mlp.layers(), "layers", 0.0).status());
  return std::move(plan_);
}

absl::StatusOr<NetworkPlan> Plan(const v1::Architecture& arch, const DataShape& data,
                                 const PlanOptions& options,
                                 const std::map<std::string, Override>* overrides) {
  UNAS_RETURN_IF_ERROR(ValidateDataShape(data));
  if (int64_t{data.height} * data.width * data.channels > kMaxTensorElements) {
    return absl::InvalidArgumentError(absl::StrCat("input shape: ", data.height, "x", data.width,
                                                   "x", data.channels, " exceeds ",
                                                   kMaxTensorElements, " elements"));
  }
  Planner planner(data, options, overrides);
  switch (arch.kind_case()) {
    case v1::Architecture::kCnn:
      return planner.Cnn(arch.cnn());
    case v1::Architecture::kMlp:
      return planner.Mlp(arch.mlp());
    default:
      return absl::InvalidArgumentError("architecture: neither cnn nor mlp is set");
  }
}

// Checks the worker's report against the dense plan and turns it into
// per-op overrides.
absl::StatusOr<std::map<std::string, Override>> PruningOverrides(
    const NetworkPlan& dense, const google::protobuf::RepeatedPtrField<v1::LayerPruning>& pruning) {
  std::map<std::string, const PlannedOp*> prunable;
  for (const PlannedOp& op : dense.ops) {
    if (op.prunable) prunable[op.name] = &op;
  }
  std::map<std::string, Override> overrides;
  for (int i = 0; i < pruning.size(); ++i) {
    const v1::LayerPruning& p = pruning[i];
    const std::string element = absl::StrCat("pruning[", i, "]");
    auto it = prunable.find(p.layer());
    if (it == prunable.end()) {
      return Invalid(element + ".layer",
                     absl::StrCat("\"", p.layer(), "\" names no prunable layer of the network"));
    }
    if (overrides.contains(p.layer())) {
      return Invalid(element + ".layer", absl::StrCat("\"", p.layer(), "\" is listed twice"));
    }
    const PlannedOp& op = *it->second;
    const int64_t nominal = op.output.channels;
    if (p.surviving_channels() < 0 || p.surviving_channels() > nominal) {
      return Invalid(
          element + ".surviving_channels",
          absl::StrCat(p.surviving_channels(), " is outside [0, ", nominal, "] for ", p.layer()));
    }
    if (p.total_weights() != 0 && p.total_weights() != op.kernel_elements) {
      return Invalid(element + ".total_weights",
                     absl::StrCat(p.total_weights(), " differs from the ", op.kernel_elements,
                                  " kernel elements of ", p.layer(), " in the dense network"));
    }
    if (p.nonzero_weights() < 0 || p.nonzero_weights() > op.kernel_elements) {
      return Invalid(element + ".nonzero_weights",
                     absl::StrCat(p.nonzero_weights(), " is outside [0, ", op.kernel_elements,
                                  "] for ", p.layer()));
    }
    Override o;
    // No surviving channel still leaves one (a layer cannot vanish), as in
    // the original (§4.6).
    o.channels = std::max<int64_t>(1, p.surviving_channels());
    o.nonzero = p.nonzero_weights();
    overrides[p.layer()] = o;
  }
  return overrides;
}

}  // namespace

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kConv2D:
      return "Conv2D";
    case OpKind::kDepthwiseConv2D:
      return "DepthwiseConv2D";
    case OpKind::kMaxPool:
      return "MaxPool";
    case OpKind::kAvgPool:
      return "AvgPool";
    case OpKind::kAdd:
      return "Add";
    case OpKind::kDense:
      return "Dense";
  }
  return "?";
}

int64_t NetworkPlan::parameter_count() const {
  int64_t total = 0;
  for (const PlannedOp& op : ops) total += op.kernel_elements + op.bias_elements;
  return total;
}

absl::StatusOr<NetworkPlan> PlanNetwork(const v1::Architecture& arch, const DataShape& data,
                                        const PlanOptions& options) {
  UNAS_ASSIGN_OR_RETURN(NetworkPlan dense, Plan(arch, data, options, nullptr));
  if (options.pruning == nullptr || options.pruning->empty()) return dense;
  UNAS_ASSIGN_OR_RETURN(auto overrides, PruningOverrides(dense, *options.pruning));
  return Plan(arch, data, options, &overrides);
}

}  // namespace unas
