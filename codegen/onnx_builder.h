// Small helpers shared by the ONNX writers (onnx_int8.h, onnx_float.h):
// nodes, attributes, initializers, and our weight layouts turned into ONNX's.
#ifndef UNAS_CODEGEN_ONNX_BUILDER_H_
#define UNAS_CODEGEN_ONNX_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "onnx/onnx.pb.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::codegen {

inline constexpr int kOnnxOpset = 13;

class OnnxBuilder {
 public:
  explicit OnnxBuilder(onnx::GraphProto* graph) : graph_(graph) {}

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

inline void ValueInfo(onnx::ValueInfoProto* info, const std::string& name,
                      onnx::TensorProto::DataType type, const std::vector<int64_t>& dims) {
  info->set_name(name);
  onnx::TypeProto::Tensor* t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(type);
  for (int64_t d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
}

// IR version 7, opset 13, producer "unas".
inline void StartOnnxModel(onnx::ModelProto* proto) {
  proto->set_ir_version(7);
  proto->set_producer_name("unas");
  proto->add_opset_import()->set_version(kOnnxOpset);
}

// A kernel in our layout (conv OHWI, depthwise 1HWC, dense [out, in]; the
// shape of `w`) in ONNX's (conv OIHW, depthwise C1HW, dense unchanged for
// Gemm with transB); `dims` gets the ONNX shape.
template <typename T>
std::vector<T> OnnxWeightLayout(const std::vector<T>& data, v1::QuantizedOpType type,
                                const v1::QuantizedTensor& w, std::vector<int64_t>* dims) {
  if (type == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED) {
    *dims = {w.shape(0), w.shape(1)};
    return data;
  }
  const bool depthwise = type == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D;
  const int64_t out = depthwise ? w.shape(3) : w.shape(0);
  const int64_t kh = w.shape(1), kw = w.shape(2), ci = depthwise ? 1 : w.shape(3);
  *dims = {out, ci, kh, kw};
  std::vector<T> result(data.size());
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t c = 0; c < ci; ++c) {
      for (int64_t y = 0; y < kh; ++y) {
        for (int64_t x = 0; x < kw; ++x) {
          const int64_t from =
              depthwise ? (y * kw + x) * out + o : ((o * kh + y) * kw + x) * ci + c;
          result[((o * ci + c) * kh + y) * kw + x] = data[from];
        }
      }
    }
  }
  return result;
}

}  // namespace unas::codegen

#endif  // UNAS_CODEGEN_ONNX_BUILDER_H_
