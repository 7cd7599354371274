#include "codegen/onnx_int8.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "codegen/onnx_builder.h"
#include "common/status/status_macros.h"
#include "int8/interpreter.h"
#include "onnx/onnx.pb.h"

namespace unas::codegen {

absl::StatusOr<std::string> Int8OnnxModel(const v1::QuantizedModel& model) {
  UNAS_ASSIGN_OR_RETURN(const int8::Interpreter interpreter, int8::Interpreter::Create(model));
  onnx::ModelProto proto;
  StartOnnxModel(&proto);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("unas_int8");
  OnnxBuilder b(graph);

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
        std::vector<int64_t> dims;
        const std::vector<int8_t> weights = OnnxWeightLayout(
            std::vector<int8_t>(data, data + w.int8_data().size()), op.type(), w, &dims);
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
