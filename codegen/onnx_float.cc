#include "codegen/onnx_float.h"

#include "absl/strings/str_cat.h"
#include "codegen/onnx_builder.h"

namespace unas::codegen {

absl::StatusOr<std::string> FloatOnnxModel(const int8::FloatNetwork& network) {
  const NetworkPlan& plan = network.plan;
  if (plan.ops.empty() || network.layers.size() != plan.ops.size()) {
    return absl::InvalidArgumentError("the network needs one float layer per plan op");
  }
  onnx::ModelProto proto;
  StartOnnxModel(&proto);
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name("unas_float");
  OnnxBuilder b(graph);
  // Dense layers output [1, units]; everything else is NCHW inside the graph.
  auto name = [](int tensor) {
    return tensor == kNetworkInput ? std::string("x") : absl::StrCat("t", tensor);
  };
  auto flat = [&](int tensor) {
    return tensor != kNetworkInput && plan.ops[tensor].kind == OpKind::kDense;
  };
  const Shape& in = plan.input;
  ValueInfo(graph->add_input(), "input", onnx::TensorProto::FLOAT,
            {1, in.height, in.width, in.channels});
  b.Ints(b.Node("Transpose", {"input"}, "x"), "perm", {0, 3, 1, 2});
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const PlannedOp& op = plan.ops[i];
    const int64_t index = static_cast<int64_t>(i);
    const std::string y = absl::StrCat("raw", i);
    const std::string x = name(op.inputs[0]);
    const int8::FloatLayer& layer = network.layers[i];
    switch (op.kind) {
      case OpKind::kConv2D:
      case OpKind::kDepthwiseConv2D:
      case OpKind::kDense: {
        const Shape& in_shape = plan.shape_of(op.inputs[0]);
        v1::QuantizedTensor w;  // only its shape, in our layout
        v1::QuantizedOpType type = v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
        if (op.kind == OpKind::kConv2D) {
          type = v1::QUANTIZED_OP_TYPE_CONV2D;
          for (int64_t d : {op.output.channels, int64_t{op.kernel_height}, int64_t{op.kernel_width},
                            in_shape.channels}) {
            w.add_shape(static_cast<int32_t>(d));
          }
        } else if (op.kind == OpKind::kDepthwiseConv2D) {
          type = v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D;
          for (int64_t d : {int64_t{1}, int64_t{op.kernel_height}, int64_t{op.kernel_width},
                            op.output.channels}) {
            w.add_shape(static_cast<int32_t>(d));
          }
        } else {
          w.add_shape(static_cast<int32_t>(op.output.channels));
          w.add_shape(static_cast<int32_t>(in_shape.elements()));
        }
        int64_t size = 1;
        for (int d : w.shape()) size *= d;
        if (static_cast<int64_t>(layer.weights.size()) != size ||
            static_cast<int64_t>(layer.bias.size()) != op.output.channels) {
          return absl::InvalidArgumentError(
              absl::StrCat(op.name, ": weights or bias do not fit the layer"));
        }
        std::vector<int64_t> dims;
        const std::vector<float> weights = OnnxWeightLayout(layer.weights, type, w, &dims);
        onnx::TensorProto* wt =
            b.Initializer(absl::StrCat("w", index), onnx::TensorProto::FLOAT, dims);
        for (float v : weights) wt->add_float_data(v);
        const std::string bias = b.Floats(absl::StrCat("b", index), layer.bias, false);
        if (op.kind == OpKind::kDense) {
          std::string input = x;
          if (!flat(op.inputs[0])) {
            b.Ints(b.Node("Transpose", {x}, y + "_nhwc"), "perm", {0, 2, 3, 1});
            b.Int(b.Node("Flatten", {y + "_nhwc"}, y + "_flat"), "axis", 1);
            input = y + "_flat";
          }
          b.Int(b.Node("Gemm", {input, wt->name(), bias}, y), "transB", 1);
        } else {
          onnx::NodeProto* conv = b.Node("Conv", {x, wt->name(), bias}, y);
          b.Ints(conv, "kernel_shape", {op.kernel_height, op.kernel_width});
          b.Ints(conv, "strides", {op.stride_height, op.stride_width});
          if (op.kind == OpKind::kDepthwiseConv2D) b.Int(conv, "group", op.output.channels);
        }
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        onnx::NodeProto* pool =
            b.Node(op.kind == OpKind::kMaxPool ? "MaxPool" : "AveragePool", {x}, y);
        b.Ints(pool, "kernel_shape", {op.kernel_height, op.kernel_width});
        b.Ints(pool, "strides", {op.stride_height, op.stride_width});
        break;
      }
      case OpKind::kAdd: {
        std::vector<std::string> padded;
        for (size_t j = 0; j < op.inputs.size(); ++j) {
          const Shape& s = plan.shape_of(op.inputs[j]);
          const std::string p = absl::StrCat(y, "_in", j);
          const std::vector<int64_t> pads = {0,
                                             0,
                                             0,
                                             0,
                                             0,
                                             op.output.channels - s.channels,
                                             op.output.height - s.height,
                                             op.output.width - s.width};
          b.Node("Pad", {name(op.inputs[j]), b.Int64s(p + "_pads", pads)}, p);
          padded.push_back(p);
        }
        b.Node("Sum", padded, y);
        break;
      }
    }
    if (op.relu) {
      b.Node("Relu", {y}, name(index));
    } else {
      b.Node("Identity", {y}, name(index));
    }
  }
  const int last = static_cast<int>(plan.ops.size()) - 1;
  if (!flat(last)) return absl::InvalidArgumentError("the last op is not a dense layer");
  b.Node("Identity", {name(last)}, "logits");
  ValueInfo(graph->add_output(), "logits", onnx::TensorProto::FLOAT,
            {1, plan.ops.back().output.channels});
  return proto.SerializeAsString();
}

}  // namespace unas::codegen
