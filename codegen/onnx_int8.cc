#include "codegen/onnx_int8.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "onnx/onnx.pb.h"
#include "worker/int8/interpreter.h"

namespace unas::codegen {
namespace {

constexpr int kOpset = 13;

class Builder {
 public:
  explicit Builder(onnx::GraphProto* graph) : graph_(graph) {}

  onnx::NodeProto* Node(const std::string& type, std::vector<std::string> inputs,
                        const std::string& output) {
    onnx::NodeProto* node = graph_->add_node();
    node->set_op_type(type);
    node->set_name(absl::StrCat(type, "_", graph_->node_size()));
    for (const std::string& in : inputs) node->add_input(in);
    node->add_output(output);
    return node;
  }
  static void Ints(onnx::NodeProto* node, const std::string& name, std::vector<int64_t> values) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void Int(onnx::NodeProto* node, const std::string& name, int64_t value) {
    onnx::AttributeProto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  onnx::TensorProto* Initializer(const std::string& name, onnx::TensorProto::DataType type,
                                 std::vector<int64_t> dims) {
    onnx::TensorProto* t = graph_->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    return t;
  }
  std::string Floats(const std::string& name, const std::vector<float>& values, bool scalar) {
    onnx::TensorProto* t =
        Initializer(name, onnx::TensorProto::FLOAT,
                    scalar ? std::vector<int64_t>{} : std::vector<int64_t>{int64_t(values.size())});
    for (float v : values) t->add_float_data(v);
    return name;
  }
  std::string Int8s(const std::string& name, const std::vector<int8_t>& values,
                    std::vector<int64_t> dims) {
    onnx::TensorProto* t = Initializer(name, onnx::TensorProto::INT8, std::move(dims));
    t->set_raw_data(std::string(values.begin(), values.end()));
    return name;
  }
  std::string Int64s(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = Initializer(name, onnx::TensorProto::INT64, {int64_t(values.size())});
    for (int64_t v : values) t->add_int64_data(v);
    return name;
  }
  // Quantise `x` (float) with (scale, zero point) and back: the int8 tensor
  // `q_name` and the float tensor `out`.
  void QuantizeDequantize(const std::string& x, float scale, int32_t zero_point,
                          const std::string& q_name, const std::string& out) {
    const std::string s = Floats(q_name + ".scale", {scale}, true);
    const std::string z = Int8s(q_name + ".zero_point", {static_cast<int8_t>(zero_point)}, {});
    Node("QuantizeLinear", {x, s, z}, q_name);
    Node("DequantizeLinear", {q_name, s, z}, out);
  }

 private:
  onnx::GraphProto* graph_;
};

void ValueInfo(onnx::ValueInfoProto* info, const std::string& name,
               onnx::TensorProto::DataType type, const std::vector<int64_t>& dims) {
  info->set_name(name);
  onnx::TypeProto::Tensor* t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace

absl::StatusOr<std::string> Int8OnnxModel(const v1::QuantizedModel& model) {
  UNAS_ASSIGN_OR_RETURN(const int8::Interpreter interpreter, int8::Interpreter::Create(model));
  onnx::ModelProto proto;
  proto.set_ir_version(7);
  proto.set_producer_name("unas");
  proto.add_opset_import()->set_version(kOpset);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("unas_int8");
  Builder b(graph);

  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < model.tensors_size(); ++i) index[model.tensors(i).name()] = i;
  auto tensor = [&](const std::string& name) -> const v1::QuantizedTensor& {
    return model.tensors(index.at(name));
  };
  auto spatial = [](const v1::QuantizedTensor& t) { return t.shape_size() == 4; };
  // Float (dequantised) activations, NCHW when spatial.
  auto act = [](const std::string& name) { return "act:" + name; };

  const v1::QuantizedTensor& in = tensor(model.input());
  std::vector<int64_t> in_dims(in.shape().begin(), in.shape().end());
  ValueInfo(graph->add_input(), "input", onnx::TensorProto::INT8, in_dims);
  {
    const std::string s = b.Floats("input.scale", {in.scale(0)}, true);
    const std::string z = b.Int8s("input.zero_point", {int8_t(in.zero_point(0))}, {});
    const std::string nhwc = spatial(in) ? "input:nhwc" : act(in.name());
    b.Node("DequantizeLinear", {"input", s, z}, nhwc);
    if (spatial(in)) b.Ints(b.Node("Transpose", {nhwc}, act(in.name())), "perm", {0, 3, 1, 2});
  }

  for (int i = 0; i < model.ops_size(); ++i) {
    const v1::QuantizedOp& op = model.ops(i);
    const v1::QuantizedTensor& out = tensor(op.output());
    const std::string y = "raw:" + op.output();
    const v1::QuantizedTensor& x = tensor(op.inputs(0));
    switch (op.type()) {
      case v1::QUANTIZED_OP_TYPE_CONV2D:
      case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
      case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED: {
        const v1::QuantizedTensor& w = tensor(op.inputs(op.inputs_size() - 2));
        const v1::QuantizedTensor& bias = tensor(op.inputs(op.inputs_size() - 1));
        const int64_t channels = bias.shape(0);
        const auto* data = reinterpret_cast<const int8_t*>(w.int8_data().data());
        std::vector<int8_t> weights(w.int8_data().size());
        std::vector<int64_t> dims;
        if (op.type() == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED) {
          weights.assign(data, data + weights.size());  // [out, in]: Gemm with transB
          dims = {w.shape(0), w.shape(1)};
        } else {
          // OHWI (conv) or 1HWC (depthwise) -> OIHW / C1HW.
          const bool depthwise = op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D;
          const int64_t kh = w.shape(1), kw = w.shape(2), ci = depthwise ? 1 : w.shape(3);
          dims = {channels, ci, kh, kw};
          for (int64_t o = 0; o < channels; ++o) {
            for (int64_t c = 0; c < ci; ++c) {
              for (int64_t y0 = 0; y0 < kh; ++y0) {
                for (int64_t x0 = 0; x0 < kw; ++x0) {
                  const int64_t from = depthwise ? (y0 * kw + x0) * channels + o
                                                 : ((o * kh + y0) * kw + x0) * ci + c;
                  weights[((o * ci + c) * kh + y0) * kw + x0] = data[from];
                }
              }
            }
          }
        }
        const std::string wq = b.Int8s(w.name(), weights, dims);
        std::vector<float> w_scale(w.scale().begin(), w.scale().end());
        const std::string ws = b.Floats(w.name() + ".scale", w_scale, false);
        const std::string wz =
            b.Int8s(w.name() + ".zero_point", std::vector<int8_t>(channels, 0), {channels});
        b.Int(b.Node("DequantizeLinear", {wq, ws, wz}, w.name() + ":float"), "axis", 0);
        std::vector<float> bias_values(channels);
        for (int64_t c = 0; c < channels; ++c) {
          bias_values[c] = static_cast<float>(double(bias.int32_data(c)) * double(x.scale(0)) *
                                              double(w.scale(c)));
        }
        const std::string bf = b.Floats(bias.name(), bias_values, false);
        if (op.type() == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED) {
          std::string flat = act(x.name());
          if (spatial(x)) {
            // Our dense weights read the NHWC flattening.
            b.Ints(b.Node("Transpose", {flat}, y + ":nhwc"), "perm", {0, 2, 3, 1});
            b.Int(b.Node("Flatten", {y + ":nhwc"}, y + ":flat"), "axis", 1);
            flat = y + ":flat";
          }
          b.Int(b.Node("Gemm", {flat, w.name() + ":float", bf}, y), "transB", 1);
        } else {
          onnx::NodeProto* conv = b.Node("Conv", {act(x.name()), w.name() + ":float", bf}, y);
          b.Ints(conv, "kernel_shape", {op.kernel_height(), op.kernel_width()});
          b.Ints(conv, "strides", {op.stride_height(), op.stride_width()});
          if (op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D) b.Int(conv, "group", channels);
        }
        break;
      }
      case v1::QUANTIZED_OP_TYPE_MAX_POOL:
      case v1::QUANTIZED_OP_TYPE_AVG_POOL: {
        onnx::NodeProto* pool =
            b.Node(op.type() == v1::QUANTIZED_OP_TYPE_MAX_POOL ? "MaxPool" : "AveragePool",
                   {act(x.name())}, y);
        b.Ints(pool, "kernel_shape", {op.kernel_height(), op.kernel_width()});
        b.Ints(pool, "strides", {op.stride_height(), op.stride_width()});
        break;
      }
      case v1::QUANTIZED_OP_TYPE_ADD: {
        std::vector<std::string> padded;
        for (int j = 0; j < op.inputs_size(); ++j) {
          const v1::QuantizedTensor& t = tensor(op.inputs(j));
          const std::string name = absl::StrCat(y, ":in", j);
          std::vector<int64_t> pads(8, 0);  // NCHW begins, then ends
          if (spatial(t)) {
            pads[5] = out.shape(3) - t.shape(3);
            pads[6] = out.shape(1) - t.shape(1);
            pads[7] = out.shape(2) - t.shape(2);
          }
          b.Node("Pad", {act(t.name()), b.Int64s(name + ".pads", pads)}, name);
          padded.push_back(name);
        }
        b.Node("Sum", padded, y);
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("quantized_model.ops[", i, "]: unsupported op type"));
    }
    std::string before = y;
    if (op.fused_relu() || (op.type() == v1::QUANTIZED_OP_TYPE_ADD && op.activation_min() > -128 &&
                            op.activation_min() == out.zero_point(0))) {
      b.Node("Relu", {y}, y + ":relu");
      before = y + ":relu";
    }
    b.QuantizeDequantize(before, out.scale(0), out.zero_point(0), "q:" + op.output(),
                         act(op.output()));
  }
  const v1::QuantizedTensor& out = tensor(model.output());
  b.Node("Identity", {"q:" + model.output()}, "logits");
  ValueInfo(graph->add_output(), "logits", onnx::TensorProto::INT8, {1, interpreter.output_size()});
  (void)out;
  return proto.SerializeAsString();
}

}  // namespace unas::codegen
