// Which output channels of each op of a network plan carry signal after
// structured pruning, and which of them a physically compacted network keeps
// (docs/unas_original.md §4.6, docs/training.md "Pruning (DPF)"). Plan-level
// only: no LibTorch.
//
// A pruned channel of the masked network is exactly zero (its kernel slice,
// bias and batch-normalisation scale and shift are masked). Pools and
// depthwise convolutions keep channel c in channel c, and the plan's Add sums
// its inputs channel by channel after zero-padding them at the end, so all
// tensors joined through pools, depthwise layers and Adds share one channel
// index space ("group"). Removing channel c from one input of an Add but not
// from another would shift the later channels of the first against the
// second; so every member of a group keeps the same channels: those alive in
// any member (and all of them when the group contains the network input).
#ifndef UNAS_WORKER_PRUNING_CHANNELS_H_
#define UNAS_WORKER_PRUNING_CHANNELS_H_

#include <cstdint>
#include <vector>

#include "common/search_space/network_plan.h"

namespace unas::worker {

using ChannelMask = std::vector<bool>;  // one entry per output channel / unit

// Alive output channels of every op. `own[i]` is op i's own channel mask as
// pruning decided it (convolutions and dense layers; empty: all alive). A
// depthwise layer or pool is alive where its input is; an Add where any input
// is.
std::vector<ChannelMask> PropagateAliveChannels(const NetworkPlan& plan,
                                                const std::vector<ChannelMask>& own);

// The channels (ascending original indices, never empty) each op's output
// keeps in the compacted network, given the alive channels of every op.
std::vector<std::vector<int64_t>> KeptChannels(const NetworkPlan& plan,
                                               const std::vector<ChannelMask>& alive);

}  // namespace unas::worker

#endif  // UNAS_WORKER_PRUNING_CHANNELS_H_
