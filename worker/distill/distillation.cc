#include "worker/distill/distillation.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/import.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"

namespace unas::worker {
namespace {

// Log-probabilities of the temperature-scaled logits: log_softmax over the
// classes, or the two-class log(sigmoid), log(1 - sigmoid) for one logit.
at::Tensor LogProbabilities(const at::Tensor& logits, double temperature) {
  const at::Tensor z = logits / temperature;
  if (z.size(1) == 1) return at::cat({at::log_sigmoid(z), at::log_sigmoid(-z)}, 1);
  return at::log_softmax(z, 1);
}

}  // namespace

at::Tensor DistillationLoss(const at::Tensor& student_logits, const at::Tensor& teacher_logits,
                            double alpha, double temperature) {
  const at::Tensor target = LogProbabilities(teacher_logits.detach(), temperature).exp();
  const at::Tensor ce = -(target * LogProbabilities(student_logits, temperature)).sum(1).mean();
  return alpha * temperature * temperature * ce;
}

absl::StatusOr<torch::jit::Module> LoadTeacher(const std::string& path, c10::Device device) {
  if (!std::filesystem::is_regular_file(path)) {
    return absl::NotFoundError(
        absl::StrCat("training.distillation.teacher_path: ", path, ": no such file"));
  }
  try {
    torch::jit::Module teacher = torch::jit::load(path, device);
    teacher.eval();
    for (at::Tensor p : teacher.parameters()) p.requires_grad_(false);
    return teacher;
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.distillation.teacher_path: ", path,
                     " is not a TorchScript module: ", e.what_without_backtrace()));
  }
}

Distillation::Distillation(torch::jit::Module teacher, double alpha, double temperature)
    : teacher_(std::move(teacher)), alpha_(alpha), temperature_(temperature) {}

absl::StatusOr<std::unique_ptr<Distillation>> Distillation::FromSpec(
    const v1::DistillationSpec& spec, c10::Device device) {
  const double alpha = spec.has_alpha() ? spec.alpha() : kDefaultDistillationAlpha;
  const double temperature =
      spec.has_temperature() ? spec.temperature() : kDefaultDistillationTemperature;
  if (!(temperature > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.distillation.temperature (", temperature, ") must be positive"));
  }
  absl::StatusOr<torch::jit::Module> teacher = LoadTeacher(spec.teacher_path(), device);
  if (!teacher.ok()) return teacher.status();
  return std::make_unique<Distillation>(*std::move(teacher), alpha, temperature);
}

at::Tensor Distillation::TeacherLogits(const at::Tensor& inputs) {
  torch::NoGradGuard no_grad;
  return teacher_.forward({inputs}).toTensor();
}

absl::Status Distillation::OnTrainBegin(UnasNetImpl& net, int /*epochs*/) {
  const NetworkPlan& plan = net.plan();
  const int64_t outputs = plan.ops.back().output.channels;
  at::Device device =
      net.parameters().empty() ? at::Device(at::kCPU) : net.parameters().front().device();
  try {
    at::Tensor probe = at::zeros({1, plan.input.channels, plan.input.height, plan.input.width},
                                 at::TensorOptions().dtype(at::kFloat).device(device));
    at::Tensor y = TeacherLogits(probe);
    if (y.dim() != 2 || y.size(0) != 1 || y.size(1) != outputs) {
      return absl::InvalidArgumentError(
          absl::StrCat("training.distillation.teacher_path: the teacher maps a (1, ",
                       plan.input.channels, ", ", plan.input.height, ", ", plan.input.width,
                       ") batch to ", c10::str(y.sizes()), ", the student to (1, ", outputs, ")"));
    }
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.distillation.teacher_path: the teacher cannot run on this data: ",
                     e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

at::Tensor Distillation::ExtraLoss(const at::Tensor& inputs, const at::Tensor& logits) {
  return DistillationLoss(logits, TeacherLogits(inputs), alpha_, temperature_);
}

}  // namespace unas::worker
