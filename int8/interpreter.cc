#include "int8/interpreter.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "int8/fixed_point.h"

namespace unas::int8 {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
// |q - zero_point| for int8 q and a zero point in [-128, 127].
constexpr int64_t kMaxOffsetInput = 255;

// A name as error messages show it: names come from untrusted workers, and
// messages end up in stored failure reasons.
absl::string_view Shown(absl::string_view name) { return name.substr(0, 64); }

absl::Status OpError(int index, const v1::QuantizedOp& op, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat("quantized_model.ops[", index, "] (", Shown(op.output()), "): ", message));
}

int32_t Clamp(int32_t v, int32_t lo, int32_t hi) { return std::min(std::max(v, lo), hi); }

int64_t ValidOut(int64_t in, int64_t window, int64_t stride) { return (in - window) / stride + 1; }

}  // namespace

absl::StatusOr<Interpreter> Interpreter::Create(v1::QuantizedModel model) {
  Interpreter interpreter;
  interpreter.model_ = std::move(model);
  UNAS_RETURN_IF_ERROR(interpreter.Compile());
  return interpreter;
}

int Interpreter::FindTensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? -1 : it->second;
}

absl::Status Interpreter::Compile() {
  const int n = model_.tensors_size();
  tensors_.assign(n, TensorInfo{});
  absl::flat_hash_map<std::string, int>& by_name = tensor_index_;
  by_name.clear();
  by_name.reserve(n);
  // Which tensors are activations: those an op writes, and the model input.
  absl::flat_hash_map<std::string, bool> is_activation;
  is_activation[model_.input()] = true;
  for (const v1::QuantizedOp& op : model_.ops()) is_activation[op.output()] = true;
  for (int i = 0; i < n; ++i) {
    const v1::QuantizedTensor& t = model_.tensors(i);
    const std::string where =
        absl::StrCat("quantized_model.tensors[", i, "] (", Shown(t.name()), ")");
    if (t.name().empty()) return absl::InvalidArgumentError(where + ": empty name");
    if (!by_name.emplace(t.name(), i).second) {
      return absl::InvalidArgumentError(where + ": duplicate name");
    }
    if (t.scale_size() != t.zero_point_size() || t.scale_size() < 1) {
      return absl::InvalidArgumentError(where + ": needs as many zero points as scales (>= 1)");
    }
    for (float s : t.scale()) {
      if (!(s > 0.0f) || !std::isfinite(s)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": scale ", s, " is not positive"));
      }
    }
    int64_t elements = 1;
    for (int d : t.shape()) {
      if (d < 1) return absl::InvalidArgumentError(where + ": shape has a dimension below 1");
      elements *= d;
      if (elements > (int64_t{1} << 31)) {
        return absl::InvalidArgumentError(where + ": too many elements");
      }
    }
    TensorInfo& info = tensors_[i];
    info.elements = elements;
    info.zero_point = t.zero_point(0);
    if (!is_activation.contains(t.name())) continue;
    info.activation = true;
    if (t.scale_size() != 1) {
      return absl::InvalidArgumentError(where + ": an activation has one scale");
    }
    if (info.zero_point < -128 || info.zero_point > 127) {
      return absl::InvalidArgumentError(where + ": zero point outside [-128, 127]");
    }
    if (!t.int8_data().empty() || t.int32_data_size() > 0) {
      return absl::InvalidArgumentError(where + ": an activation carries no data");
    }
    if (t.shape_size() == 4 && t.shape(0) == 1) {
      info.height = t.shape(1);
      info.width = t.shape(2);
      info.channels = t.shape(3);
    } else if (t.shape_size() == 2 && t.shape(0) == 1) {
      info.channels = t.shape(1);
    } else {
      return absl::InvalidArgumentError(where + ": an activation is [1, H, W, C] or [1, units]");
    }
  }
  auto input = by_name.find(model_.input());
  if (input == by_name.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantized_model.input: no tensor \"", Shown(model_.input()), "\""));
  }
  input_ = input->second;
  std::vector<bool> produced(n, false);
  produced[input_] = true;
  steps_.clear();
  for (int i = 0; i < model_.ops_size(); ++i) UNAS_RETURN_IF_ERROR(CompileOp(i, produced));
  auto output = by_name.find(model_.output());
  if (output == by_name.end() || !produced[output->second] || output->second == input_) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantized_model.output: no op writes \"", Shown(model_.output()), "\""));
  }
  output_ = output->second;
  return absl::OkStatus();
}

absl::Status Interpreter::CompileOp(int index, std::vector<bool>& produced) {
  const v1::QuantizedOp& op = model_.ops(index);
  Step step;
  step.type = op.type();
  const int out = FindTensor(op.output());
  if (out < 0) return OpError(index, op, "its output tensor does not exist");
  if (produced[out]) return OpError(index, op, "its output is written twice");
  step.output = out;
  const TensorInfo& o = tensors_[out];
  const bool has_weights = op.type() == v1::QUANTIZED_OP_TYPE_CONV2D ||
                           op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D ||
                           op.type() == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
  const int activations = has_weights ? op.inputs_size() - 2 : op.inputs_size();
  if (activations < 1 || (op.type() != v1::QUANTIZED_OP_TYPE_ADD && activations != 1) ||
      (op.type() == v1::QUANTIZED_OP_TYPE_ADD && activations < 2)) {
    return OpError(index, op, "wrong number of inputs");
  }
  for (int j = 0; j < activations; ++j) {
    const int t = FindTensor(op.inputs(j));
    if (t < 0 || !tensors_[t].activation || !produced[t]) {
      return OpError(index, op,
                     absl::StrCat("input \"", Shown(op.inputs(j)),
                                  "\" is not an activation computed ", "before this op"));
    }
    step.inputs.push_back(t);
  }
  const TensorInfo& in = tensors_[step.inputs[0]];
  if (op.activation_min() < -128 || op.activation_max() > 127 ||
      op.activation_min() > op.activation_max()) {
    return OpError(index, op, "activation_min/max must lie in [-128, 127], min <= max");
  }
  step.activation_min = op.activation_min();
  step.activation_max = op.activation_max();
  const bool windowed =
      op.type() != v1::QUANTIZED_OP_TYPE_ADD && op.type() != v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
  if (windowed) {
    if (op.kernel_height() < 1 || op.kernel_width() < 1 || op.stride_height() < 1 ||
        op.stride_width() < 1 || op.kernel_height() > in.height || op.kernel_width() > in.width) {
      return OpError(index, op, "kernel and stride must be positive, the kernel within the input");
    }
    step.kernel_height = op.kernel_height();
    step.kernel_width = op.kernel_width();
    step.stride_height = op.stride_height();
    step.stride_width = op.stride_width();
    const int64_t channels = op.type() == v1::QUANTIZED_OP_TYPE_CONV2D ? o.channels : in.channels;
    if (o.height != ValidOut(in.height, step.kernel_height, step.stride_height) ||
        o.width != ValidOut(in.width, step.kernel_width, step.stride_width) ||
        o.channels != channels) {
      return OpError(index, op, "output shape does not follow from the input, kernel and stride");
    }
  }
  auto check_requant = [&](int64_t count) -> absl::Status {
    if (op.output_multiplier_size() != count || op.output_shift_size() != count) {
      return OpError(index, op, absl::StrCat("needs ", count, " output multipliers and shifts"));
    }
    for (int c = 0; c < count; ++c) {
      if (op.output_multiplier(c) < 0 || op.output_shift(c) < -31 || op.output_shift(c) > 30) {
        return OpError(index, op, "an output multiplier is negative or a shift outside [-31, 30]");
      }
    }
    step.multiplier.assign(op.output_multiplier().begin(), op.output_multiplier().end());
    step.shift.assign(op.output_shift().begin(), op.output_shift().end());
    return absl::OkStatus();
  };
  switch (op.type()) {
    case v1::QUANTIZED_OP_TYPE_CONV2D:
    case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
    case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED: {
      const int w = FindTensor(op.inputs(activations));
      const int b = FindTensor(op.inputs(activations + 1));
      if (w < 0 || b < 0 || tensors_[w].activation || tensors_[b].activation) {
        return OpError(index, op, "weights or bias tensor missing");
      }
      const v1::QuantizedTensor& wt = model_.tensors(w);
      const v1::QuantizedTensor& bt = model_.tensors(b);
      std::vector<int64_t> expected;
      int64_t inner = 0;  // accumulated products per output value
      switch (op.type()) {
        case v1::QUANTIZED_OP_TYPE_CONV2D:
          expected = {o.channels, step.kernel_height, step.kernel_width, in.channels};
          inner = int64_t{step.kernel_height} * step.kernel_width * in.channels;
          break;
        case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
          expected = {1, step.kernel_height, step.kernel_width, in.channels};
          inner = int64_t{step.kernel_height} * step.kernel_width;
          break;
        default:
          if (o.height != 1 || o.width != 1) {
            return OpError(index, op, "a fully connected output is [1, units]");
          }
          expected = {o.channels, in.elements};
          inner = in.elements;
          break;
      }
      if (!std::equal(expected.begin(), expected.end(), wt.shape().begin(), wt.shape().end()) ||
          static_cast<int64_t>(wt.int8_data().size()) != tensors_[w].elements) {
        return OpError(index, op, "weights shape or data size does not fit the layer");
      }
      if (wt.scale_size() != o.channels) {
        return OpError(index, op, "weights need one scale per output channel");
      }
      if (bt.shape_size() != 1 || bt.shape(0) != o.channels || bt.int32_data_size() != o.channels) {
        return OpError(index, op, "bias shape or data size does not fit the layer");
      }
      UNAS_RETURN_IF_ERROR(check_requant(o.channels));
      step.weights = reinterpret_cast<const int8_t*>(wt.int8_data().data());
      step.bias = bt.int32_data().data();
      // The accumulator is int32 as in TFLite: refuse a model where some
      // input could overflow it (|q - zero point| <= 255 per input value).
      const bool depthwise = op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D;
      for (int64_t c = 0; c < o.channels; ++c) {
        int64_t sum_abs = 0;
        for (int64_t k = 0; k < inner; ++k) {
          sum_abs += std::abs(int{step.weights[depthwise ? k * o.channels + c : c * inner + k]});
        }
        if (sum_abs * kMaxOffsetInput + std::abs(int64_t{step.bias[c]}) > kInt32Max) {
          return OpError(index, op,
                         absl::StrCat("channel ", c, " can overflow the int32 accumulator"));
        }
      }
      break;
    }
    case v1::QUANTIZED_OP_TYPE_MAX_POOL:
    case v1::QUANTIZED_OP_TYPE_AVG_POOL: {
      const v1::QuantizedTensor& it = model_.tensors(step.inputs[0]);
      const v1::QuantizedTensor& ot = model_.tensors(out);
      if (it.scale(0) != ot.scale(0) || it.zero_point(0) != ot.zero_point(0)) {
        return OpError(index, op, "a pool's output has its input's scale and zero point");
      }
      UNAS_RETURN_IF_ERROR(check_requant(0));
      break;
    }
    case v1::QUANTIZED_OP_TYPE_ADD: {
      int64_t h = 0, w = 0, c = 0;
      for (int t : step.inputs) {
        h = std::max(h, tensors_[t].height);
        w = std::max(w, tensors_[t].width);
        c = std::max(c, tensors_[t].channels);
      }
      if (o.height != h || o.width != w || o.channels != c) {
        return OpError(index, op, "an add's output has the largest input extent in every axis");
      }
      UNAS_RETURN_IF_ERROR(check_requant(1));
      if (op.input_multiplier_size() != activations || op.input_shift_size() != activations) {
        return OpError(index, op, "needs one input multiplier and shift per input");
      }
      if (op.input_left_shift() < 0 || op.input_left_shift() > 22) {
        return OpError(index, op, "input_left_shift outside [0, 22]");
      }
      step.left_shift = op.input_left_shift();
      // Bound the sum of the rescaled inputs so that it stays in int32.
      double bound = 0;
      for (int j = 0; j < activations; ++j) {
        const int32_t m = op.input_multiplier(j);
        const int s = op.input_shift(j);
        if (m < 0 || s < -31 || s > 0) {
          return OpError(index, op,
                         "an input multiplier is negative or its shift outside [-31, 0]");
        }
        bound += kMaxOffsetInput * std::ldexp(1.0, step.left_shift) * (m / 2147483648.0) *
                     std::ldexp(1.0, s) +
                 1;
      }
      if (bound > static_cast<double>(kInt32Max)) {
        return OpError(index, op, "the rescaled inputs can overflow int32");
      }
      step.input_multiplier.assign(op.input_multiplier().begin(), op.input_multiplier().end());
      step.input_shift.assign(op.input_shift().begin(), op.input_shift().end());
      break;
    }
    default:
      return OpError(index, op, absl::StrCat("unsupported op type ", op.type()));
  }
  produced[out] = true;
  steps_.push_back(std::move(step));
  return absl::OkStatus();
}

void Interpreter::RunStep(const Step& step, Buffers& buffers) const {
  const TensorInfo& in = tensors_[step.inputs[0]];
  const TensorInfo& o = tensors_[step.output];
  const int8_t* x = buffers[step.inputs[0]].data();
  int8_t* y = buffers[step.output].data();
  const int32_t input_offset = -in.zero_point;
  const int32_t output_offset = o.zero_point;
  auto requantize = [&](int32_t acc, int64_t c) {
    // In 64 bits: with a tiny output range the rescaled value can be near
    // the int32 limits, where adding the zero point would overflow.
    const int64_t v =
        int64_t{MultiplyByQuantizedMultiplier(acc, step.multiplier[c], step.shift[c])} +
        output_offset;
    return static_cast<int8_t>(std::clamp<int64_t>(v, step.activation_min, step.activation_max));
  };
  switch (step.type) {
    case v1::QUANTIZED_OP_TYPE_CONV2D: {
      const int64_t inner = int64_t{step.kernel_width} * in.channels;
      for (int64_t oy = 0; oy < o.height; ++oy) {
        for (int64_t ox = 0; ox < o.width; ++ox) {
          const int8_t* patch =
              x + ((oy * step.stride_height) * in.width + ox * step.stride_width) * in.channels;
          for (int64_t oc = 0; oc < o.channels; ++oc) {
            const int8_t* w = step.weights + oc * step.kernel_height * inner;
            int32_t acc = 0;
            for (int ky = 0; ky < step.kernel_height; ++ky) {
              // With valid padding a kernel row is kernel_width * C contiguous input values.
              const int8_t* row = patch + ky * in.width * in.channels;
              const int8_t* wrow = w + ky * inner;
              for (int64_t k = 0; k < inner; ++k) acc += (row[k] + input_offset) * wrow[k];
            }
            acc += step.bias[oc];
            y[(oy * o.width + ox) * o.channels + oc] = requantize(acc, oc);
          }
        }
      }
      break;
    }
    case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D: {
      const int64_t c_count = in.channels;
      for (int64_t oy = 0; oy < o.height; ++oy) {
        for (int64_t ox = 0; ox < o.width; ++ox) {
          for (int64_t c = 0; c < c_count; ++c) {
            int32_t acc = 0;
            for (int ky = 0; ky < step.kernel_height; ++ky) {
              for (int kx = 0; kx < step.kernel_width; ++kx) {
                const int64_t iy = oy * step.stride_height + ky;
                const int64_t ix = ox * step.stride_width + kx;
                acc += (x[(iy * in.width + ix) * c_count + c] + input_offset) *
                       step.weights[(ky * step.kernel_width + kx) * c_count + c];
              }
            }
            acc += step.bias[c];
            y[(oy * o.width + ox) * c_count + c] = requantize(acc, c);
          }
        }
      }
      break;
    }
    case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED: {
      const int64_t inner = in.elements;
      for (int64_t oc = 0; oc < o.channels; ++oc) {
        const int8_t* w = step.weights + oc * inner;
        int32_t acc = 0;
        for (int64_t k = 0; k < inner; ++k) acc += (x[k] + input_offset) * w[k];
        acc += step.bias[oc];
        y[oc] = requantize(acc, oc);
      }
      break;
    }
    case v1::QUANTIZED_OP_TYPE_MAX_POOL:
    case v1::QUANTIZED_OP_TYPE_AVG_POOL: {
      const bool max_pool = step.type == v1::QUANTIZED_OP_TYPE_MAX_POOL;
      const int32_t count = step.kernel_height * step.kernel_width;
      for (int64_t oy = 0; oy < o.height; ++oy) {
        for (int64_t ox = 0; ox < o.width; ++ox) {
          for (int64_t c = 0; c < o.channels; ++c) {
            int32_t acc = max_pool ? -128 : 0;
            for (int ky = 0; ky < step.kernel_height; ++ky) {
              for (int kx = 0; kx < step.kernel_width; ++kx) {
                const int64_t iy = oy * step.stride_height + ky;
                const int64_t ix = ox * step.stride_width + kx;
                const int32_t v = x[(iy * in.width + ix) * in.channels + c];
                acc = max_pool ? std::max(acc, v) : acc + v;
              }
            }
            if (!max_pool) {
              // TFLite: divide rounding half away from zero.
              acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            }
            y[(oy * o.width + ox) * o.channels + c] =
                static_cast<int8_t>(Clamp(acc, step.activation_min, step.activation_max));
          }
        }
      }
      break;
    }
    case v1::QUANTIZED_OP_TYPE_ADD: {
      for (int64_t oy = 0; oy < o.height; ++oy) {
        for (int64_t ox = 0; ox < o.width; ++ox) {
          for (int64_t c = 0; c < o.channels; ++c) {
            int32_t sum = 0;
            for (size_t j = 0; j < step.inputs.size(); ++j) {
              const TensorInfo& t = tensors_[step.inputs[j]];
              // Zero padding holds the real value 0: q = zero point, so
              // (q - zero point) = 0 and the input adds nothing.
              if (oy >= t.height || ox >= t.width || c >= t.channels) continue;
              const int32_t v = buffers[step.inputs[j]][(oy * t.width + ox) * t.channels + c];
              const int32_t shifted = (v - t.zero_point) * (int32_t{1} << step.left_shift);
              sum += MultiplyByQuantizedMultiplier(shifted, step.input_multiplier[j],
                                                   step.input_shift[j]);
            }
            y[(oy * o.width + ox) * o.channels + c] = requantize(sum, 0);
          }
        }
      }
      break;
    }
    default:
      break;  // rejected by Compile
  }
}

absl::StatusOr<std::vector<int8_t>> Interpreter::QuantizeBytes(
    std::span<const uint8_t> bytes) const {
  if (tensors_[input_].zero_point != -128) {
    return absl::FailedPreconditionError(
        "the model's input does not read raw bytes (its zero point is not -128)");
  }
  std::vector<int8_t> q(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) q[i] = static_cast<int8_t>(int32_t{bytes[i]} - 128);
  return q;
}

std::vector<int8_t> Interpreter::QuantizeReals(std::span<const float> values) const {
  const double scale = model_.tensors(input_).scale(0);
  const int32_t zero_point = tensors_[input_].zero_point;
  std::vector<int8_t> q(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    q[i] = static_cast<int8_t>(QuantizeValue(values[i], scale, zero_point, -128, 127));
  }
  return q;
}

void Interpreter::Execute(const int8_t* input, Buffers& buffers) const {
  buffers.resize(tensors_.size());
  for (size_t t = 0; t < tensors_.size(); ++t) {
    if (tensors_[t].activation) buffers[t].resize(tensors_[t].elements);
  }
  std::copy(input, input + tensors_[input_].elements, buffers[input_].begin());
  for (const Step& step : steps_) RunStep(step, buffers);
}

void Interpreter::Run(const int8_t* input, int8_t* logits) const {
  Buffers buffers;
  Execute(input, buffers);
  std::copy(buffers[output_].begin(), buffers[output_].end(), logits);
}

std::vector<std::vector<int8_t>> Interpreter::RunKeepingTensors(const int8_t* input) const {
  Buffers buffers;
  Execute(input, buffers);
  return buffers;
}

int32_t Interpreter::Predict(const int8_t* logits) const {
  const int64_t n = output_size();
  if (n == 1) return logits[0] > tensors_[output_].zero_point ? 1 : 0;
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

std::vector<int32_t> Interpreter::Classify(const int8_t* inputs, int64_t count, int threads) const {
  std::vector<int32_t> classes(count);
  auto work = [&](int64_t begin, int64_t end) {
    Buffers buffers;
    for (int64_t i = begin; i < end; ++i) {
      Execute(inputs + i * input_size(), buffers);
      classes[i] = Predict(buffers[output_].data());
    }
  };
  threads = static_cast<int>(std::clamp<int64_t>(threads, 1, std::max<int64_t>(count, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back(work, count * t / threads, count * (t + 1) / threads);
  }
  work(0, count / threads);
  for (std::thread& t : pool) t.join();
  return classes;
}

double Interpreter::Accuracy(const int8_t* inputs, std::span<const int32_t> labels,
                             int threads) const {
  if (labels.empty()) return 0.0;
  const std::vector<int32_t> classes =
      Classify(inputs, static_cast<int64_t>(labels.size()), threads);
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += classes[i] == labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

}  // namespace unas::int8
