#include "worker/pruning/dpf.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "worker/pruning/compact.h"
#include "worker/pruning/masks.h"

namespace unas::worker {
namespace {

// The channel mask as the shape that broadcasts over a weight whose
// dimension 0 indexes output channels.
at::Tensor ChannelMaskFor(const at::Tensor& weight, const at::Tensor& channel_mask) {
  std::vector<int64_t> shape(static_cast<size_t>(weight.dim()), 1);
  shape[0] = weight.size(0);
  return channel_mask.reshape(shape);
}

std::vector<bool> ToBools(const at::Tensor& mask) {
  const at::Tensor cpu = mask.to(at::kCPU).to(at::kFloat).contiguous();
  std::vector<bool> out(static_cast<size_t>(cpu.numel()));
  const float* p = cpu.data_ptr<float>();
  for (size_t i = 0; i < out.size(); ++i) out[i] = p[i] != 0;
  return out;
}

}  // namespace

DpfPruning::DpfPruning(PruningSchedule schedule, v1::Architecture architecture,
                       PlanOptions plan_options)
    : schedule_(schedule), architecture_(std::move(architecture)), plan_options_(plan_options) {
  plan_options_.pruning = nullptr;
}

DpfPruning::Target DpfPruning::MakeTarget(const PrunableLayer& layer) const {
  Target t;
  t.layer = layer;
  const auto* bn = net_->named_children().find(ModuleName(layer.name) + "_bn");
  if (bn != nullptr) {
    auto* norm = (*bn)->as<torch::nn::BatchNorm2dImpl>();
    t.bn_scale = norm->weight;
    t.bn_shift = norm->bias;
  }
  return t;
}

absl::Status DpfPruning::OnTrainBegin(UnasNetImpl& net, int /*epochs*/) {
  net_ = &net;
  targets_.clear();
  depthwise_.clear();
  entries_.clear();
  applied_ = false;
  own_.assign(net.plan().ops.size(), {});
  for (const PrunableLayer& layer : net.prunable_layers()) {
    const bool depthwise = layer.kind == OpKind::kDepthwiseConv2D;
    if (schedule_.structured && depthwise) {
      depthwise_.push_back(MakeTarget(layer));
      continue;
    }
    // Structured pruning leaves the layers reading the model input alone (the
    // original's rule; behind a pre-pool the first convolution is prunable).
    if (schedule_.structured && layer.reads_network_input) continue;
    targets_.push_back(MakeTarget(layer));
  }
  return absl::OkStatus();
}

void DpfPruning::OnEpochBegin(int epoch) { epoch_sparsity_ = SparsityForEpoch(schedule_, epoch); }

void DpfPruning::AddChannelEntries(const Target& target, const at::Tensor& channel_mask) {
  const at::Tensor& w = target.layer.weight;
  entries_.push_back({w, ChannelMaskFor(w, channel_mask), false, {}});
  entries_.push_back({target.layer.bias, channel_mask, false, {}});
  if (target.bn_shift.defined()) {
    // The shift alone makes a zero channel exactly zero in training mode
    // (its batch statistics are 0); the scale is masked only for evaluation
    // (moving statistics), so that gradients still reach the kernel through
    // batch normalisation.
    entries_.push_back({target.bn_shift, channel_mask, false, {}});
    entries_.push_back({target.bn_scale, channel_mask, true, {}});
  }
}

void DpfPruning::UpdateMasks(double sparsity) {
  if (applied_) RestoreDenseWeights();
  entries_.clear();
  if (targets_.empty()) return;
  std::vector<at::Tensor> kernels;
  kernels.reserve(targets_.size());
  for (const Target& t : targets_) kernels.push_back(t.layer.weight);
  if (!schedule_.structured) {
    std::vector<at::Tensor> masks = MagnitudeMasks(kernels, sparsity);
    for (size_t i = 0; i < targets_.size(); ++i) {
      targets_[i].kernel_mask = masks[i];
      entries_.push_back({targets_[i].layer.weight, masks[i], false, {}});
    }
    return;
  }
  std::vector<at::Tensor> masks = ChannelNormMasks(kernels, sparsity);
  own_.assign(net_->plan().ops.size(), {});
  for (size_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    t.kernel_mask = ChannelMaskFor(t.layer.weight, masks[i]);
    own_[static_cast<size_t>(t.layer.plan_index)] = ToBools(masks[i]);
    AddChannelEntries(t, masks[i]);
  }
  // A depthwise channel reading a pruned channel is pruned with it.
  const std::vector<ChannelMask> alive = PropagateAliveChannels(net_->plan(), own_);
  for (Target& t : depthwise_) {
    const int input = net_->plan().ops[static_cast<size_t>(t.layer.plan_index)].inputs.at(0);
    t.kernel_mask = at::Tensor();
    if (input == kNetworkInput) continue;
    const ChannelMask& in = alive[static_cast<size_t>(input)];
    if (std::find(in.begin(), in.end(), false) == in.end()) continue;
    std::vector<float> values(in.begin(), in.end());
    at::Tensor mask =
        at::tensor(values, t.layer.weight.options().device(at::kCPU)).to(t.layer.weight.device());
    t.kernel_mask = ChannelMaskFor(t.layer.weight, mask);
    AddChannelEntries(t, mask);
  }
}

void DpfPruning::ApplyMasks(bool evaluation) {
  if (applied_) {
    if (applied_for_evaluation_ == evaluation) return;
    RestoreDenseWeights();
  }
  if (entries_.empty()) return;
  torch::NoGradGuard no_grad;
  for (Masked& e : entries_) {
    if (e.evaluation_only && !evaluation) continue;
    if (!e.dense.defined()) {
      e.dense = e.parameter.detach().clone();
    } else {
      e.dense.copy_(e.parameter);
    }
    e.parameter.mul_(e.mask);
  }
  applied_ = true;
  applied_for_evaluation_ = evaluation;
}

void DpfPruning::RestoreDenseWeights() {
  if (!applied_) return;
  torch::NoGradGuard no_grad;
  for (Masked& e : entries_) {
    if (e.evaluation_only && !applied_for_evaluation_) continue;
    e.parameter.copy_(e.dense);
  }
  applied_ = false;
}

void DpfPruning::BeforeForward(int epoch, int64_t batch) {
  if (schedule_.UpdatesMasksIn(epoch) && batch % schedule_.mask_update_period == 0) {
    UpdateMasks(epoch_sparsity_);
  }
  ApplyMasks(/*evaluation=*/false);
}

// The gradients were computed at the masked weights; the optimizer applies
// them to the dense ones.
void DpfPruning::BeforeOptimizerStep() { RestoreDenseWeights(); }

void DpfPruning::BeforeEvaluation() { ApplyMasks(/*evaluation=*/true); }

void DpfPruning::OnEpochEnd(int /*epoch*/, v1::EpochRecord* record) {
  RestoreDenseWeights();
  if (record != nullptr) record->set_sparsity(MaskedWeightFraction());
}

double DpfPruning::MaskedWeightFraction() const {
  double total = 0;
  double kept = 0;
  for (const Target& t : targets_) {
    const double n = static_cast<double>(t.layer.weight.numel());
    total += n;
    kept +=
        t.kernel_mask.defined() ? t.kernel_mask.expand_as(t.layer.weight).sum().item<double>() : n;
  }
  return total > 0 ? 1.0 - kept / total : 0.0;
}

double DpfPruning::MaskedChannelFraction() const {
  double total = 0;
  double kept = 0;
  for (const Target& t : targets_) {
    const double n = static_cast<double>(t.layer.weight.size(0));
    total += n;
    if (!t.kernel_mask.defined()) {
      kept += n;
    } else if (schedule_.structured) {
      kept += t.kernel_mask.sum().item<double>();
    } else {
      kept += t.kernel_mask.flatten(1).ne(0).any(1).sum().item<double>();
    }
  }
  return total > 0 ? 1.0 - kept / total : 0.0;
}

std::vector<std::string> DpfPruning::pruned_layers() const {
  std::vector<std::string> names;
  for (const Target& t : targets_) names.push_back(t.layer.name);
  return names;
}

absl::Status DpfPruning::OnTrainEnd(v1::EvaluationResult* result) {
  if (net_ == nullptr) return absl::FailedPreconditionError("pruning: OnTrainBegin was not called");
  ApplyMasks(/*evaluation=*/true);
  const NetworkPlan& plan = net_->plan();
  // Unstructured masks remove no channel: a channel whose kernel is all zero
  // still emits its bias.
  const std::vector<ChannelMask> own =
      schedule_.structured ? own_ : std::vector<ChannelMask>(plan.ops.size());
  kept_ = KeptChannels(plan, PropagateAliveChannels(plan, own));

  google::protobuf::RepeatedPtrField<v1::LayerPruning> pruning;
  std::vector<int> pruning_op;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlannedOp& op = plan.ops[i];
    if (!op.prunable) continue;
    v1::LayerPruning* p = pruning.Add();
    p->set_layer(op.name);
    p->set_surviving_channels(static_cast<int32_t>(kept_[i].size()));
    p->set_total_weights(op.kernel_elements);
    pruning_op.push_back(static_cast<int>(i));
  }
  PlanOptions options = plan_options_;
  options.pruning = &pruning;
  const DataShape data{static_cast<int>(plan.input.height), static_cast<int>(plan.input.width),
                       static_cast<int>(plan.input.channels), plan.num_classes};
  absl::StatusOr<NetworkPlan> compact_plan = PlanNetwork(architecture_, data, options);
  if (!compact_plan.ok()) {
    return absl::InternalError(
        absl::StrCat("pruning: the compacted plan: ", compact_plan.status().message()));
  }
  UNAS_ASSIGN_OR_RETURN(compacted_, CompactNetwork(*net_, *compact_plan, kept_));
  torch::NoGradGuard no_grad;
  for (int k = 0; k < pruning.size(); ++k) {
    const PlannedOp& op = plan.ops[static_cast<size_t>(pruning_op[static_cast<size_t>(k)])];
    const auto* module = compacted_->named_children().find(ModuleName(op.name));
    if (module == nullptr) return absl::InternalError("pruning: no module " + op.name);
    at::Tensor w = op.kind == OpKind::kDense ? (*module)->as<torch::nn::LinearImpl>()->weight
                                             : (*module)->as<torch::nn::Conv2dImpl>()->weight;
    pruning[k].set_nonzero_weights(w.ne(0).sum().item<int64_t>());
  }
  *result->mutable_pruning() = std::move(pruning);
  result->set_achieved_sparsity(MaskedWeightFraction());
  return absl::OkStatus();
}

}  // namespace unas::worker
