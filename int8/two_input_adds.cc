#include "int8/two_input_adds.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "int8/fixed_point.h"
#include "int8/interpreter.h"

namespace unas::int8 {
namespace {

// The real values an int8 tensor can hold.
struct RealRange {
  double lo = 0;
  double hi = 0;
};
RealRange Representable(const v1::QuantizedTensor& t) {
  return {static_cast<double>(t.scale(0)) * (-128 - t.zero_point(0)),
          static_cast<double>(t.scale(0)) * (127 - t.zero_point(0))};
}

// The extent of an activation tensor, [1, H, W, C] or [1, units].
std::vector<int32_t> Extent(const v1::QuantizedTensor& t) {
  return std::vector<int32_t>(t.shape().begin(), t.shape().end());
}

// TensorFlow Lite's ADD parameters for inputs a, b and output y: both inputs
// rescaled to twice the larger input scale after a left shift of 20.
void SetAddParameters(const v1::QuantizedTensor& a, const v1::QuantizedTensor& b,
                      const v1::QuantizedTensor& y, v1::QuantizedOp* op) {
  const double twice_max = 2 * std::max<double>(a.scale(0), b.scale(0));
  op->set_input_left_shift(kAddLeftShift);
  op->clear_input_multiplier();
  op->clear_input_shift();
  for (const v1::QuantizedTensor* in : {&a, &b}) {
    const QuantizedMultiplier m = QuantizeMultiplier(in->scale(0) / twice_max);
    op->add_input_multiplier(m.multiplier);
    op->add_input_shift(m.shift);
  }
  const QuantizedMultiplier out =
      QuantizeMultiplier(twice_max / (std::ldexp(1.0, kAddLeftShift) * y.scale(0)));
  op->clear_output_multiplier();
  op->clear_output_shift();
  op->add_output_multiplier(out.multiplier);
  op->add_output_shift(out.shift);
}

}  // namespace

int WideAddCount(const v1::QuantizedModel& model) {
  int count = 0;
  for (const v1::QuantizedOp& op : model.ops()) {
    count += op.type() == v1::QUANTIZED_OP_TYPE_ADD && op.inputs_size() > 2 ? 1 : 0;
  }
  return count;
}

absl::StatusOr<v1::QuantizedModel> SplitWideAdds(const v1::QuantizedModel& model) {
  if (WideAddCount(model) == 0) return model;
  // Validates names, shapes and parameters first, so the rewrite below may trust them.
  UNAS_RETURN_IF_ERROR(Interpreter::Create(model).status());
  absl::flat_hash_map<std::string, int> by_name;
  for (int i = 0; i < model.tensors_size(); ++i) by_name[model.tensors(i).name()] = i;

  v1::QuantizedModel out = model;
  out.clear_ops();
  for (const v1::QuantizedOp& op : model.ops()) {
    if (op.type() != v1::QUANTIZED_OP_TYPE_ADD || op.inputs_size() <= 2) {
      *out.add_ops() = op;
      continue;
    }
    const v1::QuantizedTensor& y = model.tensors(by_name.at(op.output()));
    std::vector<std::string> inputs(op.inputs().begin(), op.inputs().end());
    std::stable_partition(inputs.begin(), inputs.end(), [&](const std::string& name) {
      return Extent(model.tensors(by_name.at(name))) == Extent(y);
    });
    // The running sum: the first input, then each partial sum.
    v1::QuantizedTensor sum = model.tensors(by_name.at(inputs[0]));
    for (size_t k = 1; k < inputs.size(); ++k) {
      const v1::QuantizedTensor& x = model.tensors(by_name.at(inputs[k]));
      const bool last = k + 1 == inputs.size();
      v1::QuantizedOp* add = out.add_ops();
      add->set_type(v1::QUANTIZED_OP_TYPE_ADD);
      add->add_inputs(sum.name());
      add->add_inputs(x.name());
      if (last) {
        add->set_output(op.output());
        add->set_activation_min(op.activation_min());
        add->set_activation_max(op.activation_max());
        add->set_fused_relu(op.fused_relu());
        SetAddParameters(sum, x, y, add);
        break;
      }
      v1::QuantizedTensor partial;
      partial.set_name(absl::StrCat(op.output(), "/partial", k));
      if (by_name.contains(partial.name())) {
        return absl::InvalidArgumentError(
            absl::StrCat("quantized_model: a tensor is already named \"", partial.name(), "\""));
      }
      const std::vector<int32_t> a = Extent(sum), b = Extent(x);
      for (size_t d = 0; d < a.size() && d < b.size(); ++d) {
        partial.add_shape(std::max(a[d], b[d]));
      }
      const RealRange ra = Representable(sum), rb = Representable(x);
      const AffineParams p = ChooseActivationParams(static_cast<float>(ra.lo + rb.lo),
                                                    static_cast<float>(ra.hi + rb.hi));
      partial.add_scale(p.scale);
      partial.add_zero_point(p.zero_point);
      *out.add_tensors() = partial;
      add->set_output(partial.name());
      add->set_activation_min(-128);
      add->set_activation_max(127);
      SetAddParameters(sum, x, partial, add);
      sum = partial;
    }
  }
  UNAS_RETURN_IF_ERROR(Interpreter::Create(out).status());
  return out;
}

}  // namespace unas::int8
