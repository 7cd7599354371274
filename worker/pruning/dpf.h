// Dynamic Model Pruning with Feedback (docs/unas_original.md §8) as a training
// hook: masks from one global threshold, recomputed every
// mask_update_period batches of the ramp's epochs from the dense weights;
// the forward and backward passes run at the masked weights and the
// optimizer updates the dense ones, so pruned weights keep learning and can
// come back. docs/training.md "Pruning (DPF)" has the details.
//
// What a mask covers:
// - unstructured: single kernel elements of every convolution (depthwise
//   included) and hidden dense layer;
// - structured: whole output channels (units) of every convolution and hidden
//   dense layer but depthwise ones and those reading the model input: the
//   kernel slice, the bias, and batch normalisation's shift (and, when
//   evaluating, its scale), so that a pruned channel is exactly zero and the
//   compacted network computes the same function. A depthwise layer reading
//   a pruned channel is masked the same way (its channel c is its input's).
// The output layer is never pruned.
//
// Evaluation: BeforeEvaluation applies the masks (with the dense weights
// saved), OnEpochEnd restores the dense weights. The original never restored
// them (§8 bug), so each epoch's validation zeroed the pruned weights for
// good; here feedback spans epochs. At the end of training the masks stay
// applied and the compacted network is built.
#ifndef UNAS_WORKER_PRUNING_DPF_H_
#define UNAS_WORKER_PRUNING_DPF_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/network_plan.h"
#include "unas/v1/architecture.pb.h"
#include "worker/model.h"
#include "worker/pruning/channels.h"
#include "worker/pruning/schedule.h"
#include "worker/trainer.h"

namespace unas::worker {

class DpfPruning : public TrainingHook {
 public:
  // `architecture` and `plan_options` are what the trained network was built
  // from: the compacted network is planned from them.
  DpfPruning(PruningSchedule schedule, v1::Architecture architecture, PlanOptions plan_options);

  absl::Status OnTrainBegin(UnasNetImpl& net, int epochs) override;
  void OnEpochBegin(int epoch) override;
  void BeforeForward(int epoch, int64_t batch) override;
  void BeforeOptimizerStep() override;
  void BeforeEvaluation() override;
  void OnEpochEnd(int epoch, v1::EpochRecord* record) override;
  // Leaves the masks applied, fills result->pruning (per prunable layer: the
  // compacted network's channels and non-zero kernel elements) and
  // achieved_sparsity, and builds the compacted network.
  absl::Status OnTrainEnd(v1::EvaluationResult* result) override;
  int FirstCountedEpoch() const override { return schedule_.first_counted_epoch(); }

  // The pieces, public for tests.
  // Recomputes the masks from the current (dense) weights.
  void UpdateMasks(double sparsity);
  // Saves the dense values and masks them (`evaluation`: also the
  // batch-normalisation scales of pruned channels). Idempotent.
  void ApplyMasks(bool evaluation);
  void RestoreDenseWeights();
  bool masks_applied() const { return applied_; }

  // Fraction of masked kernel elements over the pruned layers' kernels
  // (achieved_sparsity, EpochRecord.sparsity); 0 before the first mask.
  double MaskedWeightFraction() const;
  // Structured: fraction of masked output channels over the pruned layers
  // (what the global threshold controls).
  double MaskedChannelFraction() const;
  // Names of the layers the saliency ranks.
  std::vector<std::string> pruned_layers() const;

  // After OnTrainEnd: the compacted network (evaluation mode, on the
  // trained network's device) and the channels it kept per plan op.
  UnasNet compacted() const { return compacted_; }
  const std::vector<std::vector<int64_t>>& kept_channels() const { return kept_; }

 private:
  struct Target {
    PrunableLayer layer;
    at::Tensor bn_scale;  // undefined without batch normalisation
    at::Tensor bn_shift;
    at::Tensor kernel_mask;  // broadcastable to layer.weight; undefined: none yet
  };
  struct Masked {
    at::Tensor parameter;
    at::Tensor mask;  // broadcastable to parameter
    bool evaluation_only = false;
    at::Tensor dense;  // the dense values while masked
  };

  Target MakeTarget(const PrunableLayer& layer) const;
  // Channel masking entries (kernel slice, bias, batch normalisation) of a layer.
  void AddChannelEntries(const Target& target, const at::Tensor& channel_mask);

  PruningSchedule schedule_;
  v1::Architecture architecture_;
  PlanOptions plan_options_;
  UnasNetImpl* net_ = nullptr;
  std::vector<Target> targets_;    // the saliency-ranked layers
  std::vector<Target> depthwise_;  // structured: masked through their input
  std::vector<ChannelMask> own_;   // structured: per plan op, the channel masks
  std::vector<Masked> entries_;
  bool applied_ = false;
  bool applied_for_evaluation_ = false;
  double epoch_sparsity_ = 0;
  UnasNet compacted_{nullptr};
  std::vector<std::vector<int64_t>> kept_;
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_PRUNING_DPF_H_
