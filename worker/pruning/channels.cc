#include "worker/pruning/channels.h"

#include <algorithm>
#include <numeric>

namespace unas::worker {
namespace {

// Union-find over the op outputs plus the network input (index n).
class Groups {
 public:
  explicit Groups(int n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int Find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(int a, int b) { parent_[Find(a)] = Find(b); }

 private:
  std::vector<int> parent_;
};

bool SharesInputChannels(OpKind kind) {
  return kind == OpKind::kDepthwiseConv2D || kind == OpKind::kMaxPool || kind == OpKind::kAvgPool ||
         kind == OpKind::kAdd;
}

}  // namespace

std::vector<ChannelMask> PropagateAliveChannels(const NetworkPlan& plan,
                                                const std::vector<ChannelMask>& own) {
  const int n = static_cast<int>(plan.ops.size());
  std::vector<ChannelMask> alive(n);
  auto alive_of = [&](int tensor) {
    return tensor == kNetworkInput ? ChannelMask(plan.input.channels, true) : alive[tensor];
  };
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = plan.ops[i];
    const size_t channels = static_cast<size_t>(op.output.channels);
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDense:
        alive[i] = (i < static_cast<int>(own.size()) && own[i].size() == channels)
                       ? own[i]
                       : ChannelMask(channels, true);
        break;
      case OpKind::kDepthwiseConv2D:
      case OpKind::kMaxPool:
      case OpKind::kAvgPool:
        alive[i] = alive_of(op.inputs[0]);
        break;
      case OpKind::kAdd: {
        alive[i] = ChannelMask(channels, false);
        for (int in : op.inputs) {
          const ChannelMask a = alive_of(in);
          for (size_t c = 0; c < a.size() && c < channels; ++c) {
            if (a[c]) alive[i][c] = true;
          }
        }
        break;
      }
    }
  }
  return alive;
}

std::vector<std::vector<int64_t>> KeptChannels(const NetworkPlan& plan,
                                               const std::vector<ChannelMask>& alive) {
  const int n = static_cast<int>(plan.ops.size());
  const int input_node = n;
  Groups groups(n + 1);
  auto node = [&](int tensor) { return tensor == kNetworkInput ? input_node : tensor; };
  for (int i = 0; i < n; ++i) {
    const PlannedOp& op = plan.ops[i];
    if (!SharesInputChannels(op.kind)) continue;
    for (int in : op.inputs) groups.Union(i, node(in));
  }
  // The union of the alive channels of each group, in its index space.
  std::vector<ChannelMask> keep(n + 1);
  auto width = [&](int v) {
    return v == input_node ? plan.input.channels : plan.ops[v].output.channels;
  };
  for (int v = 0; v <= n; ++v) {
    ChannelMask& k = keep[groups.Find(v)];
    const size_t w = static_cast<size_t>(width(v));
    if (k.size() < w) k.resize(w, false);
    for (size_t c = 0; c < w; ++c) {
      // The network input cannot lose channels, nor can anything sharing them.
      if (v == input_node || alive[v][c]) k[c] = true;
    }
  }
  for (int v = 0; v <= n; ++v) {
    ChannelMask& k = keep[groups.Find(v)];
    // A layer cannot vanish: an empty member keeps channel 0 (a zero
    // channel), and so does the rest of its group, to stay aligned.
    const size_t w = static_cast<size_t>(width(v));
    if (std::find(k.begin(), k.begin() + static_cast<std::ptrdiff_t>(w), true) ==
        k.begin() + static_cast<std::ptrdiff_t>(w)) {
      k[0] = true;
    }
  }
  std::vector<std::vector<int64_t>> kept(n);
  for (int i = 0; i < n; ++i) {
    const ChannelMask& k = keep[groups.Find(i)];
    for (int64_t c = 0; c < plan.ops[i].output.channels; ++c) {
      if (k[static_cast<size_t>(c)]) kept[i].push_back(c);
    }
  }
  return kept;
}

}  // namespace unas::worker
