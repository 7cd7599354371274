#include "codegen/tflite_model.h"

#include <bit>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "codegen/tflite_schema_generated.h"
#include "common/status/status_macros.h"
#include "int8/fixed_point.h"
#include "int8/interpreter.h"
#include "int8/two_input_adds.h"

namespace unas::codegen {
namespace {

namespace fb = flatbuffers;
using tflite::BuiltinOperator;
using tflite::BuiltinOptions;

// Constant data is stored little-endian, as TFLite reads it.
static_assert(std::endian::native == std::endian::little);

struct TensorDef {
  std::string name;
  std::vector<int32_t> shape;
  tflite::TensorType type = tflite::TensorType::INT8;
  bool quantized = true;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  std::string data;  // constant bytes; empty for activations
};

using OptionsWriter = std::function<fb::Offset<void>(fb::FlatBufferBuilder&)>;

struct OpDef {
  BuiltinOperator code = BuiltinOperator::ADD;
  std::vector<int32_t> inputs, outputs;
  BuiltinOptions options_type = BuiltinOptions::NONE;
  OptionsWriter options;
};

// The operator versions TFLite's converter gives int8 operators of these
// kinds (the version says which kernel features the model relies on).
int OperatorVersion(BuiltinOperator code, bool per_channel_dense) {
  switch (code) {
    case BuiltinOperator::CONV_2D:
    case BuiltinOperator::DEPTHWISE_CONV_2D:
      return 3;
    case BuiltinOperator::FULLY_CONNECTED:
      return per_channel_dense ? 12 : 4;
    case BuiltinOperator::AVERAGE_POOL_2D:
    case BuiltinOperator::MAX_POOL_2D:
    case BuiltinOperator::ADD:
    case BuiltinOperator::PAD:
      return 2;
    default:
      return 1;
  }
}

template <typename T>
std::string Bytes(const T* values, size_t count) {
  std::string out(count * sizeof(T), '\0');
  if (count > 0) std::memcpy(out.data(), values, out.size());
  return out;
}

class Writer {
 public:
  Writer(const v1::QuantizedModel& model, const TfliteOptions& options)
      : model_(model), options_(options) {}

  absl::Status Build(TfliteInfo& info);
  std::string Serialize() const;

 private:
  absl::Status Error(int op, absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat("quantized_model.ops[", op, "] (", model_.ops(op).output(), "): ", message));
  }
  const v1::QuantizedTensor& ModelTensor(const std::string& name) const {
    return model_.tensors(by_name_.at(name));
  }
  int AddTensor(TensorDef tensor) {
    tensors_.push_back(std::move(tensor));
    return static_cast<int>(tensors_.size()) - 1;
  }
  // An activation of the model, by name (created at its first use).
  int Activation(const std::string& name);
  // A new activation with `like`'s quantisation and another shape.
  int ActivationLike(int like, const std::string& name, std::vector<int32_t> shape);
  int Int32Constant(const std::string& name, std::vector<int32_t> shape,
                    const std::vector<int32_t>& values);
  // The fused activation that gives op `index`'s clamp in TFLite.
  absl::StatusOr<tflite::ActivationFunctionType> Fused(int index, int32_t output_zero_point) const;
  absl::Status Layer(int index, TfliteInfo& info);
  absl::Status Pool(int index);
  absl::Status Add(int index, TfliteInfo& info);
  void CheckMultiplier(int32_t multiplier, int32_t shift, double real, TfliteInfo& info) const {
    const int8::QuantizedMultiplier q = int8::QuantizeMultiplier(real);
    if (q.multiplier != multiplier || q.shift != shift) ++info.multiplier_mismatches;
  }

  // x reshaped to `shape` (a new activation with x's quantisation).
  int Reshape(int x, const std::string& name, std::vector<int32_t> shape, TfliteInfo& info);

  const v1::QuantizedModel& model_;
  const TfliteOptions options_;
  absl::flat_hash_map<std::string, int> by_name_;        // model tensors
  absl::flat_hash_map<std::string, int> activation_of_;  // model tensor name -> tensor
  std::vector<TensorDef> tensors_;
  std::vector<OpDef> ops_;
  bool per_channel_dense_ = false;
};

int Writer::Activation(const std::string& name) {
  auto it = activation_of_.find(name);
  if (it != activation_of_.end()) return it->second;
  const v1::QuantizedTensor& t = ModelTensor(name);
  TensorDef def;
  def.name = name;
  def.shape.assign(t.shape().begin(), t.shape().end());
  def.scale = {t.scale(0)};
  def.zero_point = {t.zero_point(0)};
  const int index = AddTensor(std::move(def));
  activation_of_[name] = index;
  return index;
}

int Writer::ActivationLike(int like, const std::string& name, std::vector<int32_t> shape) {
  TensorDef def;
  def.name = name;
  def.shape = std::move(shape);
  def.scale = tensors_[like].scale;
  def.zero_point = tensors_[like].zero_point;
  return AddTensor(std::move(def));
}

int Writer::Int32Constant(const std::string& name, std::vector<int32_t> shape,
                          const std::vector<int32_t>& values) {
  TensorDef def;
  def.name = name;
  def.shape = std::move(shape);
  def.type = tflite::TensorType::INT32;
  def.quantized = false;
  def.data = Bytes(values.data(), values.size());
  return AddTensor(std::move(def));
}

int Writer::Reshape(int x, const std::string& name, std::vector<int32_t> shape, TfliteInfo& info) {
  const int y = ActivationLike(x, name, shape);
  const int constant = Int32Constant(name + "/shape", {static_cast<int32_t>(shape.size())}, shape);
  ops_.push_back({BuiltinOperator::RESHAPE,
                  {x, constant},
                  {y},
                  BuiltinOptions::ReshapeOptions,
                  [shape](fb::FlatBufferBuilder& fbb) {
                    return tflite::CreateReshapeOptions(fbb, fbb.CreateVector(shape)).Union();
                  }});
  ++info.reshapes;
  return y;
}

absl::StatusOr<tflite::ActivationFunctionType> Writer::Fused(int index,
                                                             int32_t output_zero_point) const {
  const v1::QuantizedOp& op = model_.ops(index);
  if (op.activation_max() != 127) {
    return Error(index, absl::StrCat("its clamp [", op.activation_min(), ", ", op.activation_max(),
                                     "] is no TFLite fused activation"));
  }
  if (op.activation_min() == -128) return tflite::ActivationFunctionType::NONE;
  if (op.activation_min() == output_zero_point) return tflite::ActivationFunctionType::RELU;
  return Error(index,
               absl::StrCat("its clamp [", op.activation_min(), ", 127] is neither none nor ",
                            "a ReLU at the output zero point ", output_zero_point));
}

absl::Status Writer::Layer(int index, TfliteInfo& info) {
  const v1::QuantizedOp& op = model_.ops(index);
  const v1::QuantizedTensor& in = ModelTensor(op.inputs(0));
  const v1::QuantizedTensor& w = ModelTensor(op.inputs(1));
  const v1::QuantizedTensor& b = ModelTensor(op.inputs(2));
  const v1::QuantizedTensor& out = ModelTensor(op.output());
  UNAS_ASSIGN_OR_RETURN(const tflite::ActivationFunctionType fused,
                        Fused(index, out.zero_point(0)));
  int x = Activation(op.inputs(0));
  int y = Activation(op.output());
  const int channels = w.scale_size();
  const bool dense = op.type() == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
  const bool dense_conv = dense && options_.dense_as_conv2d;
  int32_t units = 1;
  for (int d = 1; d < in.shape_size(); ++d) units *= in.shape(d);
  if (dense_conv) {
    x = Reshape(x, op.inputs(0) + "/pixel", {1, 1, 1, units}, info);
  } else if (dense && in.shape_size() == 4) {
    // TFLite's FULLY_CONNECTED would flatten by itself; an explicit RESHAPE
    // keeps every reader (older ones included) to one meaning.
    x = Reshape(x, op.inputs(0) + "/flat", {1, units}, info);
  }
  TensorDef weights;
  weights.name = w.name();
  weights.shape.assign(w.shape().begin(), w.shape().end());
  if (dense_conv) weights.shape = {channels, 1, 1, units};
  weights.scale.assign(w.scale().begin(), w.scale().end());
  weights.zero_point.assign(channels, 0);
  weights.quantized_dimension = op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D ? 3 : 0;
  weights.data = w.int8_data();
  TensorDef bias;
  bias.name = b.name();
  bias.shape = {channels};
  bias.type = tflite::TensorType::INT32;
  bias.zero_point.assign(channels, 0);
  bias.data = Bytes(b.int32_data().data(), b.int32_data_size());
  for (int c = 0; c < channels; ++c) {
    // TFLite: bias scale = input scale x weight scale; the multiplier
    // input scale x weight scale / output scale, from the float scales.
    const double product = static_cast<double>(in.scale(0)) * static_cast<double>(w.scale(c));
    bias.scale.push_back(static_cast<float>(product));
    CheckMultiplier(op.output_multiplier(c), op.output_shift(c),
                    product / static_cast<double>(out.scale(0)), info);
  }
  const int wt = AddTensor(std::move(weights));
  const int bt = AddTensor(std::move(bias));
  const int sh = dense ? 1 : op.stride_height(), sw = dense ? 1 : op.stride_width();
  const int model_output = y;
  if (dense_conv) y = ActivationLike(y, op.output() + "/pixel", {1, 1, 1, channels});
  switch (dense_conv ? v1::QUANTIZED_OP_TYPE_CONV2D : op.type()) {
    case v1::QUANTIZED_OP_TYPE_CONV2D:
      ops_.push_back(
          {BuiltinOperator::CONV_2D,
           {x, wt, bt},
           {y},
           BuiltinOptions::Conv2DOptions,
           [=](fb::FlatBufferBuilder& fbb) {
             return tflite::CreateConv2DOptions(fbb, tflite::Padding::VALID, sw, sh, fused).Union();
           }});
      if (dense_conv) {
        // The model's [1, units] output, as a reshape of the 1x1 pixel.
        const int constant = Int32Constant(op.output() + "/shape", {2}, {1, channels});
        ops_.push_back({BuiltinOperator::RESHAPE,
                        {y, constant},
                        {model_output},
                        BuiltinOptions::ReshapeOptions,
                        [channels](fb::FlatBufferBuilder& fbb) {
                          return tflite::CreateReshapeOptions(
                                     fbb, fbb.CreateVector<int32_t>({1, channels}))
                              .Union();
                        }});
        ++info.reshapes;
      }
      break;
    case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
      ops_.push_back({BuiltinOperator::DEPTHWISE_CONV_2D,
                      {x, wt, bt},
                      {y},
                      BuiltinOptions::DepthwiseConv2DOptions,
                      [=](fb::FlatBufferBuilder& fbb) {
                        return tflite::CreateDepthwiseConv2DOptions(fbb, tflite::Padding::VALID, sw,
                                                                    sh, 1, fused)
                            .Union();
                      }});
      break;
    default:
      per_channel_dense_ = per_channel_dense_ || channels > 1;
      ops_.push_back({BuiltinOperator::FULLY_CONNECTED,
                      {x, wt, bt},
                      {y},
                      BuiltinOptions::FullyConnectedOptions,
                      [=](fb::FlatBufferBuilder& fbb) {
                        return tflite::CreateFullyConnectedOptions(fbb, fused).Union();
                      }});
      break;
  }
  return absl::OkStatus();
}

absl::Status Writer::Pool(int index) {
  const v1::QuantizedOp& op = model_.ops(index);
  UNAS_ASSIGN_OR_RETURN(const tflite::ActivationFunctionType fused,
                        Fused(index, ModelTensor(op.output()).zero_point(0)));
  const int x = Activation(op.inputs(0));
  const int y = Activation(op.output());
  const int sh = op.stride_height(), sw = op.stride_width();
  const int kh = op.kernel_height(), kw = op.kernel_width();
  ops_.push_back({op.type() == v1::QUANTIZED_OP_TYPE_MAX_POOL ? BuiltinOperator::MAX_POOL_2D
                                                              : BuiltinOperator::AVERAGE_POOL_2D,
                  {x},
                  {y},
                  BuiltinOptions::Pool2DOptions,
                  [=](fb::FlatBufferBuilder& fbb) {
                    return tflite::CreatePool2DOptions(fbb, tflite::Padding::VALID, sw, sh, kw, kh,
                                                       fused)
                        .Union();
                  }});
  return absl::OkStatus();
}

absl::Status Writer::Add(int index, TfliteInfo& info) {
  const v1::QuantizedOp& op = model_.ops(index);
  const v1::QuantizedTensor& out = ModelTensor(op.output());
  UNAS_ASSIGN_OR_RETURN(const tflite::ActivationFunctionType fused,
                        Fused(index, out.zero_point(0)));
  const std::vector<int32_t> extent(out.shape().begin(), out.shape().end());
  std::vector<int32_t> inputs;
  for (const std::string& name : op.inputs()) {
    int x = Activation(name);
    const std::vector<int32_t> shape = tensors_[x].shape;
    if (shape != extent) {
      // Zero padding at the end of each axis: TFLite's PAD fills with the
      // zero point, the real value 0, as the model's Add assumes.
      std::vector<int32_t> paddings;
      for (size_t d = 0; d < extent.size(); ++d) {
        paddings.push_back(0);
        paddings.push_back(extent[d] - shape[d]);
      }
      const std::string padded = absl::StrCat(name, "/padded_for_", op.output());
      const int p =
          Int32Constant(padded + "/paddings", {static_cast<int32_t>(extent.size()), 2}, paddings);
      const int y = ActivationLike(x, padded, extent);
      ops_.push_back(
          {BuiltinOperator::PAD,
           {x, p},
           {y},
           BuiltinOptions::PadOptions,
           [](fb::FlatBufferBuilder& fbb) { return tflite::CreatePadOptions(fbb).Union(); }});
      ++info.pads;
      x = y;
    }
    inputs.push_back(x);
  }
  // TFLite's ADD: inputs rescaled to twice the larger input scale.
  const v1::QuantizedTensor& a = ModelTensor(op.inputs(0));
  const v1::QuantizedTensor& b = ModelTensor(op.inputs(1));
  const double twice_max = 2 * std::max<double>(a.scale(0), b.scale(0));
  CheckMultiplier(op.input_multiplier(0), op.input_shift(0), a.scale(0) / twice_max, info);
  CheckMultiplier(op.input_multiplier(1), op.input_shift(1), b.scale(0) / twice_max, info);
  CheckMultiplier(op.output_multiplier(0), op.output_shift(0),
                  twice_max / (std::ldexp(1.0, int8::kAddLeftShift) * out.scale(0)), info);
  if (op.input_left_shift() != int8::kAddLeftShift) ++info.multiplier_mismatches;
  ops_.push_back(
      {BuiltinOperator::ADD,
       inputs,
       {Activation(op.output())},
       BuiltinOptions::AddOptions,
       [=](fb::FlatBufferBuilder& fbb) { return tflite::CreateAddOptions(fbb, fused).Union(); }});
  return absl::OkStatus();
}

absl::Status Writer::Build(TfliteInfo& info) {
  for (int i = 0; i < model_.tensors_size(); ++i) by_name_[model_.tensors(i).name()] = i;
  Activation(model_.input());
  for (int i = 0; i < model_.ops_size(); ++i) {
    switch (model_.ops(i).type()) {
      case v1::QUANTIZED_OP_TYPE_CONV2D:
      case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
      case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED:
        UNAS_RETURN_IF_ERROR(Layer(i, info));
        break;
      case v1::QUANTIZED_OP_TYPE_MAX_POOL:
      case v1::QUANTIZED_OP_TYPE_AVG_POOL:
        UNAS_RETURN_IF_ERROR(Pool(i));
        break;
      case v1::QUANTIZED_OP_TYPE_ADD:
        UNAS_RETURN_IF_ERROR(Add(i, info));
        break;
      default:
        return Error(i, "no TFLite operator for this op type");
    }
  }
  info.operators = static_cast<int>(ops_.size());
  return absl::OkStatus();
}

std::string Writer::Serialize() const {
  fb::FlatBufferBuilder fbb(4096);
  // Every field written, defaults too: a reader built from an older schema
  // then finds each value where it looks (e.g. ADD, operator code 0).
  fbb.ForceDefaults(true);
  std::vector<fb::Offset<tflite::Buffer>> buffers = {tflite::CreateBuffer(fbb)};  // the empty one
  std::vector<fb::Offset<tflite::Tensor>> tensors;
  for (const TensorDef& t : tensors_) {
    uint32_t buffer = 0;
    if (!t.data.empty()) {
      fbb.ForceVectorAlignment(t.data.size(), sizeof(uint8_t), 16);
      const auto data =
          fbb.CreateVector(reinterpret_cast<const uint8_t*>(t.data.data()), t.data.size());
      buffer = static_cast<uint32_t>(buffers.size());
      buffers.push_back(tflite::CreateBuffer(fbb, data));
    }
    fb::Offset<tflite::QuantizationParameters> quantization = 0;
    if (t.quantized) {
      quantization = tflite::CreateQuantizationParameters(fbb, 0, 0, fbb.CreateVector(t.scale),
                                                          fbb.CreateVector(t.zero_point),
                                                          t.quantized_dimension);
    }
    tensors.push_back(tflite::CreateTensor(fbb, fbb.CreateVector(t.shape), t.type, buffer,
                                           fbb.CreateString(t.name), quantization));
  }
  std::map<BuiltinOperator, uint32_t> code_index;
  std::vector<fb::Offset<tflite::OperatorCode>> codes;
  std::vector<fb::Offset<tflite::Operator>> operators;
  for (const OpDef& op : ops_) {
    auto [it, added] = code_index.emplace(op.code, static_cast<uint32_t>(codes.size()));
    if (added) {
      codes.push_back(tflite::CreateOperatorCode(fbb, static_cast<int8_t>(op.code), 0,
                                                 OperatorVersion(op.code, per_channel_dense_),
                                                 op.code));
    }
    operators.push_back(tflite::CreateOperator(fbb, it->second, fbb.CreateVector(op.inputs),
                                               fbb.CreateVector(op.outputs), op.options_type,
                                               op.options ? op.options(fbb) : 0));
  }
  const int32_t input = activation_of_.at(model_.input());
  const int32_t output = activation_of_.at(model_.output());
  const auto subgraph = tflite::CreateSubGraph(
      fbb, fbb.CreateVector(tensors), fbb.CreateVector<int32_t>({input}),
      fbb.CreateVector<int32_t>({output}), fbb.CreateVector(operators), fbb.CreateString("main"));
  const auto signature = tflite::CreateSignatureDef(
      fbb,
      fbb.CreateVector<fb::Offset<tflite::TensorMap>>(
          {tflite::CreateTensorMap(fbb, fbb.CreateString("input"), input)}),
      fbb.CreateVector<fb::Offset<tflite::TensorMap>>(
          {tflite::CreateTensorMap(fbb, fbb.CreateString("logits"), output)}),
      fbb.CreateString("serving_default"), 0);
  const auto model = tflite::CreateModel(
      fbb, 3, fbb.CreateVector(codes), fbb.CreateVector<fb::Offset<tflite::SubGraph>>({subgraph}),
      fbb.CreateString("int8 network exported by unasctl"), fbb.CreateVector(buffers),
      fbb.CreateVector<fb::Offset<tflite::SignatureDef>>({signature}));
  tflite::FinishModelBuffer(fbb, model);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

}  // namespace

std::vector<std::string> TfliteWarnings(const TfliteInfo& info) {
  std::vector<std::string> warnings;
  if (info.wide_adds_split > 0) {
    warnings.push_back(absl::StrCat(
        "the stored model has ", info.wide_adds_split,
        " Add(s) of more than two inputs; model.tflite computes each as a chain of two-input "
        "Adds (TFLite's ADD takes two), so its outputs can differ slightly from the stored "
        "model's and the C project's"));
  }
  if (info.multiplier_mismatches > 0) {
    warnings.push_back(absl::StrCat(info.multiplier_mismatches,
                                    " requantisation multiplier(s) of the stored model differ "
                                    "from those TFLite derives from the scales"));
  }
  return warnings;
}

absl::StatusOr<v1::QuantizedModel> TfliteEquivalentModel(const v1::QuantizedModel& model) {
  return int8::SplitWideAdds(model);
}

absl::StatusOr<std::string> TfliteModel(const v1::QuantizedModel& stored, TfliteInfo* info_out,
                                        const TfliteOptions& options) {
  UNAS_ASSIGN_OR_RETURN(const v1::QuantizedModel model, TfliteEquivalentModel(stored));
  UNAS_RETURN_IF_ERROR(int8::Interpreter::Create(model).status());
  TfliteInfo info;
  info.wide_adds_split = int8::WideAddCount(stored);
  Writer writer(model, options);
  UNAS_RETURN_IF_ERROR(writer.Build(info));
  std::string bytes = writer.Serialize();
  fb::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!tflite::VerifyModelBuffer(verifier)) {
    return absl::InternalError("the written .tflite fails the FlatBuffers verifier");
  }
  if (info_out != nullptr) *info_out = info;
  return bytes;
}

}  // namespace unas::codegen
