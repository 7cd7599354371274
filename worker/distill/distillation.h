// Knowledge distillation (docs/unas_original.md §7.2) as a training hook: a
// frozen TorchScript teacher sees the same batch as the student (NCHW float,
// after augmentation and the dataset's preprocessing) and
//   loss = hard loss + alpha * T^2 * CE(softmax(teacher / T), softmax(student / T))
// with CE(p, q) = -sum_k p_k log q_k averaged over the batch (Keras's
// categorical cross-entropy with the teacher's distribution as the target;
// the hard loss keeps weight 1, as in the original). It differs from
// KL(p || q) by the teacher's entropy, a constant for the student, so the
// gradients are KL's. For a single-logit (binary) network both distributions
// are the two-class (sigmoid(z / T), 1 - sigmoid(z / T)).
#ifndef UNAS_WORKER_DISTILL_DISTILLATION_H_
#define UNAS_WORKER_DISTILL_DISTILLATION_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/csrc/jit/api/module.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "unas/v1/job_spec.pb.h"
#include "worker/trainer.h"

namespace unas::worker {

inline constexpr double kDefaultDistillationAlpha = 0.3;
inline constexpr double kDefaultDistillationTemperature = 1.0;

// alpha * T^2 * mean over the batch of CE(softmax(teacher / T), softmax(student / T)).
at::Tensor DistillationLoss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                            double alpha, double temperature);

// Loads a TorchScript module (torch.jit.save / torch::jit::Module::save) in
// evaluation mode with every parameter frozen, on `device`.
absl::StatusOr<torch::jit::Module> LoadTeacher(const std::string& path, c10::Device device);

class Distillation : public TrainingHook {
 public:
  Distillation(torch::jit::Module teacher, double alpha, double temperature);

  // Loads spec.teacher_path; alpha and temperature default to 0.3 and 1.
  static absl::StatusOr<std::unique_ptr<Distillation>> FromSpec(const v1::DistillationSpec& spec,
                                                                c10::Device device);

  // Runs the teacher once on a zero batch: its output must be (1, outputs of
  // the student).
  absl::Status OnTrainBegin(UnasNetImpl& net, int epochs) override;
  at::Tensor ExtraLoss(const at::Tensor& inputs, const at::Tensor& logits) override;

  // The teacher's logits for a batch (no gradient).
  at::Tensor TeacherLogits(const at::Tensor& inputs);

 private:
  torch::jit::Module teacher_;
  double alpha_;
  double temperature_;
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_DISTILL_DISTILLATION_H_
