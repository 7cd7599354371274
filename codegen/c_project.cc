#include "codegen/c_project.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "codegen/model_graph.h"
#include "codegen/runtime_files.h"
#include "common/status/status_macros.h"
#include "int8/interpreter.h"
#include "resource_models/pmu.h"

namespace unas::codegen {
namespace {

// Sizes on a 32-bit target (4-byte int32 and pointers), for flash_bytes.
constexpr int64_t kLayerParamsBytes = 14 * 4 + 4 * 4;  // unas_layer_params
constexpr int64_t kAddInputBytes = 6 * 4;              // unas_add_input
constexpr int64_t kAddParamsBytes = 10 * 4 + 4;        // unas_add_params

// A tensor name made safe for a C comment.
std::string CommentText(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '_' || c == '.' || c == '[' || c == ']' || c == '-';
    out += plain ? c : '_';
  }
  return out;
}

template <typename T>
std::string ArrayBody(const T* values, int64_t count) {
  std::string out;
  for (int64_t i = 0; i < count; ++i) {
    absl::StrAppend(&out, i % 16 == 0 ? "\n   " : "", " ", static_cast<int64_t>(values[i]),
                    i + 1 < count ? "," : "");
  }
  return out + "\n";
}

// unas_kernels.h: a conv2d gathers its windows when they fit UNAS_GATHER_BYTES.
constexpr int64_t kGatherBytes = 256;

// OHWI ([out][in]) weights of `channels` output channels, each `rows` rows
// of `n` values, in the kernels' order: for every group of four channels
// and every row, four-value blocks of each channel in turn, then the row's
// n mod 4 last values of each channel in turn; the channels after the last
// group in plain order.
std::vector<int8_t> InterleaveGroupsOfFour(const int8_t* w, int64_t channels, int64_t rows,
                                           int64_t n) {
  std::vector<int8_t> out;
  out.reserve(channels * rows * n);
  const int64_t patch = rows * n, blocks = n / 4, tail = n % 4;
  int64_t c = 0;
  for (; c + 4 <= channels; c += 4) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t b = 0; b < blocks; ++b) {
        for (int64_t j = 0; j < 4; ++j) {
          const int8_t* from = w + (c + j) * patch + r * n + 4 * b;
          out.insert(out.end(), from, from + 4);
        }
      }
      for (int64_t j = 0; j < 4; ++j) {
        const int8_t* from = w + (c + j) * patch + r * n + 4 * blocks;
        out.insert(out.end(), from, from + tail);
      }
    }
  }
  out.insert(out.end(), w + c * patch, w + channels * patch);
  return out;
}

struct Emitter {
  const v1::QuantizedModel& model;
  const ModelGraph& mg;
  const MemoryPlan& plan;
  std::string constants;
  std::string calls;
  int64_t weight_bytes = 0;
  int64_t flash_bytes = 0;

  std::string Arena(int model_tensor) const {
    return absl::StrCat("unas_arena + ", plan.offset_of(mg.tensor_of[model_tensor]));
  }
  int Tensor(const std::string& name) const {
    for (int i = 0; i < model.tensors_size(); ++i) {
      if (model.tensors(i).name() == name) return i;
    }
    return -1;
  }
  // h, w, c of an activation ([1, H, W, C] or [1, units]).
  std::array<int64_t, 3> Extent(int t) const {
    const auto& s = model.tensors(t).shape();
    if (s.size() == 4) return {s[1], s[2], s[3]};
    return {1, 1, s[1]};
  }

  void Array(const std::string& type, const std::string& name, const std::string& body,
             int64_t count, int64_t element_bytes) {
    absl::StrAppend(&constants, "static const ", type, " ", name, "[", count, "] = {", body,
                    "};\n");
    flash_bytes += count * element_bytes;
  }

  void Layer(int index, const v1::QuantizedOp& op, int x, int y) {
    const std::string id = absl::StrCat("unas_op", index);
    const auto in = Extent(x);
    const auto out = Extent(y);
    const int32_t in_zero = model.tensors(x).zero_point(0);
    const int32_t out_zero = model.tensors(y).zero_point(0);
    const bool has_weights = op.type() == v1::QUANTIZED_OP_TYPE_CONV2D ||
                             op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D ||
                             op.type() == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
    std::string pointers = "NULL, NULL, NULL, NULL";
    const bool dense = op.type() == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
    // A conv2d whose kernel rows are short reads each window as one gathered
    // row (unas_kernels.h, `gather`).
    const int64_t row = dense ? in[0] * in[1] * in[2] : op.kernel_width() * in[2];
    const bool gather =
        op.type() == v1::QUANTIZED_OP_TYPE_CONV2D && op.kernel_height() * row <= kGatherBytes;
    if (has_weights) {
      const v1::QuantizedTensor& w = model.tensors(Tensor(op.inputs(op.inputs_size() - 2)));
      const v1::QuantizedTensor& b = model.tensors(Tensor(op.inputs(op.inputs_size() - 1)));
      const auto* wdata = reinterpret_cast<const int8_t*>(w.int8_data().data());
      const int64_t wcount = static_cast<int64_t>(w.int8_data().size());
      if (op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D) {
        Array("int8_t", id + "_weights", ArrayBody(wdata, wcount), wcount, 1);
      } else {
        const int64_t rows = dense || gather ? 1 : op.kernel_height();
        const std::vector<int8_t> grouped =
            InterleaveGroupsOfFour(wdata, out[2], rows, wcount / out[2] / rows);
        Array("int8_t", id + "_weights", ArrayBody(grouped.data(), wcount), wcount, 1);
      }
      // The input zero point folded into the bias, as CMSIS-NN does:
      // sum (x - zp) w + b = sum x w + (b - zp sum w). It fits int32, since
      // the interpreter admits only models whose |b| + 255 sum |w| does.
      const int64_t channels = b.int32_data_size();
      const bool depthwise = op.type() == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D;
      std::vector<int64_t> folded(b.int32_data().begin(), b.int32_data().end());
      for (int64_t k = 0; k < wcount; ++k) {
        const int64_t c = depthwise ? k % channels : k / (wcount / channels);
        folded[c] -= int64_t{in_zero} * wdata[k];
      }
      Array("int32_t", id + "_bias", ArrayBody(folded.data(), channels), channels, 4);
      Array("int32_t", id + "_multiplier",
            ArrayBody(op.output_multiplier().data(), op.output_multiplier_size()),
            op.output_multiplier_size(), 4);
      Array("int32_t", id + "_shift", ArrayBody(op.output_shift().data(), op.output_shift_size()),
            op.output_shift_size(), 4);
      weight_bytes += wcount + 4 * b.int32_data_size();
      pointers = absl::StrCat(id, "_weights, ", id, "_bias, ", id, "_multiplier, ", id, "_shift");
    }
    absl::StrAppend(&constants, "static const unas_layer_params ", id, " = {", in[0], ", ", in[1],
                    ", ", in[2], ", ", out[0], ", ", out[1], ", ", out[2], ", ",
                    dense ? 1 : op.kernel_height(), ", ", dense ? 1 : op.kernel_width(), ", ",
                    dense ? 1 : op.stride_height(), ", ", dense ? 1 : op.stride_width(), ", ",
                    out_zero, ", ", op.activation_min(), ", ", op.activation_max(), ", ",
                    gather ? 1 : 0, ", ", pointers, "};\n\n");
    flash_bytes += kLayerParamsBytes;
    const char* kernel = "";
    switch (op.type()) {
      case v1::QUANTIZED_OP_TYPE_CONV2D:
        kernel = "unas_conv2d";
        break;
      case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
        kernel = "unas_depthwise_conv2d";
        break;
      case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED:
        kernel = "unas_fully_connected";
        break;
      case v1::QUANTIZED_OP_TYPE_MAX_POOL:
        kernel = "unas_max_pool";
        break;
      default:
        kernel = "unas_avg_pool";
        break;
    }
    absl::StrAppend(&calls, "  ", kernel, "(&", id, ", ", Arena(x), ", ", Arena(y), ");\n");
  }

  void Add(int index, const v1::QuantizedOp& op, int y) {
    const std::string id = absl::StrCat("unas_op", index);
    const auto out = Extent(y);
    std::vector<std::string> inputs, pointers;
    for (int j = 0; j < op.inputs_size(); ++j) {
      const int x = Tensor(op.inputs(j));
      const auto e = Extent(x);
      inputs.push_back(absl::StrCat("{", e[0], ", ", e[1], ", ", e[2], ", ",
                                    model.tensors(x).zero_point(0), ", ", op.input_multiplier(j),
                                    ", ", op.input_shift(j), "}"));
      pointers.push_back(Arena(x));
    }
    absl::StrAppend(&constants, "static const unas_add_input ", id, "_inputs[", inputs.size(),
                    "] = {\n    ", absl::StrJoin(inputs, ",\n    "), "};\n");
    absl::StrAppend(&constants, "static const unas_add_params ", id, " = {", out[0], ", ", out[1],
                    ", ", out[2], ", ", model.tensors(y).zero_point(0), ", ",
                    op.output_multiplier(0), ", ", op.output_shift(0), ", ", op.input_left_shift(),
                    ", ", op.activation_min(), ", ", op.activation_max(), ", ", inputs.size(), ", ",
                    id, "_inputs};\n\n");
    flash_bytes += kAddInputBytes * static_cast<int64_t>(inputs.size()) + kAddParamsBytes;
    absl::StrAppend(&calls, "  {\n    const int8_t* const inputs[", pointers.size(), "] = {",
                    absl::StrJoin(pointers, ", "), "};\n    unas_add(&", id, ", inputs, ", Arena(y),
                    ");\n  }\n");
  }
};

std::string Describe(const v1::QuantizedOp& op) {
  switch (op.type()) {
    case v1::QUANTIZED_OP_TYPE_CONV2D:
      return absl::StrCat("conv2d ", op.kernel_height(), "x", op.kernel_width(), " stride ",
                          op.stride_height());
    case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
      return absl::StrCat("depthwise conv2d ", op.kernel_height(), "x", op.kernel_width(),
                          " stride ", op.stride_height());
    case v1::QUANTIZED_OP_TYPE_MAX_POOL:
      return absl::StrCat("max pool ", op.kernel_height(), "x", op.kernel_width());
    case v1::QUANTIZED_OP_TYPE_AVG_POOL:
      return absl::StrCat("average pool ", op.kernel_height(), "x", op.kernel_width());
    case v1::QUANTIZED_OP_TYPE_ADD:
      return absl::StrCat("add of ", op.inputs_size());
    case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED:
      return "fully connected";
    default:
      return "?";
  }
}

// A float as a C literal that reads back as the same float.
std::string FloatLiteral(float v) {
  std::string text = absl::StrFormat("%.9g", v);
  if (text.find_first_of(".eE") == std::string::npos) text += ".0";
  return text + "f";
}

std::string ModelHeader(const CProjectInfo& info, const CProjectOptions& options) {
  return absl::StrCat(
      "/* The network exported by unasctl from ", CommentText(options.source),
      ".\n * Generated: do not edit (README.md explains the numbers). */\n"
      "#ifndef UNAS_MODEL_H_\n#define UNAS_MODEL_H_\n\n#include <stdint.h>\n\n",
      "/* Values of one input: NHWC int8, real = scale * (q - zero point) with scale ",
      info.input_scale, ",\n * zero point ", info.input_zero_point,
      ". Raw-image models read q = byte - 128. */\n", "#define UNAS_MODEL_INPUT_SIZE ",
      info.input_size, "\n",
      "/* int8 logits; the class is their arg-max (one logit: q > its zero point). */\n",
      "#define UNAS_MODEL_OUTPUT_SIZE ", info.output_size, "\n",
      "/* Quantisation of the input and the logits (real = scale * (q - zero point)), as\n",
      " * float literals that read back exactly. */\n", "#define UNAS_MODEL_INPUT_SCALE ",
      FloatLiteral(info.input_scale), "\n", "#define UNAS_MODEL_INPUT_ZERO_POINT ",
      info.input_zero_point, "\n", "#define UNAS_MODEL_OUTPUT_SCALE ",
      FloatLiteral(info.output_scale), "\n", "#define UNAS_MODEL_OUTPUT_ZERO_POINT ",
      info.output_zero_point, "\n",
      "/* The one static buffer (.bss) that holds every activation, the input included. */\n",
      "#define UNAS_MODEL_ARENA_BYTES ", info.arena_bytes, "\n",
      "/* The arena's alignment (16: what Arm Ethos-U NPUs need) and, when defined, the\n",
      " * linker section it goes to (e.g. -DUNAS_ARENA_SECTION='\".sram2\"'). */\n",
      "#ifndef UNAS_ARENA_ALIGNMENT\n#define UNAS_ARENA_ALIGNMENT 16\n#endif\n",
      "#ifdef UNAS_ARENA_SECTION\n", "#define UNAS_ARENA_ATTRIBUTES \\\n",
      "  __attribute__((section(UNAS_ARENA_SECTION), aligned(UNAS_ARENA_ALIGNMENT)))\n",
      "#else\n#define UNAS_ARENA_ATTRIBUTES __attribute__((aligned(UNAS_ARENA_ALIGNMENT)))\n",
      "#endif\n", "#define UNAS_MODEL_RAW_IMAGE_INPUT ", info.raw_image_input ? 1 : 0, "\n",
      "/* Operators run by unas_model_run, in order (README.md lists them). */\n",
      "#define UNAS_MODEL_OPS ", info.op_order.size(), "\n\n",
      "/* Runs the network on one input; returns 0. Not reentrant (one arena). */\n",
      "int unas_model_run(const int8_t* input, int8_t* logits);\n\n",
      "/* The class of one input's logits. */\n",
      "int unas_model_predict(const int8_t* logits);\n\n",
      info.raw_image_input
          ? "/* The class of one raw image (UNAS_MODEL_INPUT_SIZE bytes, HWC). */\n"
            "int unas_model_classify(const uint8_t* image);\n\n"
          : "",
      "#endif /* UNAS_MODEL_H_ */\n");
}

}  // namespace

std::string CProjectReadme(const CProjectInfo& info, const std::string& source) {
  std::string order;
  for (size_t i = 0; i < info.op_order.size(); ++i) {
    absl::StrAppend(&order, i + 1, ". `", info.op_order[i], "`\n");
  }
  return absl::StrCat(
      "# Generated int8 network\n\nExported by `unasctl` from ", source,
      ". Plain C99, no heap, no floating point at run time.\n\n", "| | bytes |\n|---|---:|\n",
      "| arena (`.bss`, the input included) | ", info.arena_bytes, " |\n",
      "| predicted peak memory (PMU), input included | ", info.pmu_with_input_bytes, " |\n",
      "| predicted peak memory (PMU), input excluded | ", info.pmu_bytes, " |\n",
      "| flash: const model data (weights, biases, requantisation, op parameters) | ",
      info.flash_bytes, " |\n", "| of which weights and biases | ", info.weight_bytes, " |\n\n",
      "The arena holds every activation buffer at an offset planned from the operator order ",
      "with the smallest peak memory (placement: ", PlacementName(info.placement), ").",
      info.pmu_optimal ? "" : " The PMU is an upper bound (its search stopped at its limit).",
      "\n\n## Use\n\n```c\n#include \"unas_model.h\"\n\nint8_t logits[UNAS_MODEL_OUTPUT_SIZE];\n",
      "unas_model_run(input, logits);            /* int8 input, UNAS_MODEL_INPUT_SIZE values */\n",
      "int label = unas_model_predict(logits);\n",
      info.raw_image_input ? "int same = unas_model_classify(image); /* raw uint8 image */\n" : "",
      "```\n\nInput: ", info.input_size, " int8 values, NHWC (height, width, channels), ",
      info.raw_image_input
          ? "q = byte - 128 for raw image bytes"
          : absl::StrCat("real = ", info.input_scale, " * (q - ", info.input_zero_point, ")"),
      ". Output: ", info.output_size, " int8 logits.\n\n",
      "## Build\n\n- `make host`: `unas_run` (`./unas_run logits < inputs > logits`, ",
      "`./unas_run classify < images > classes`).\n",
      "- `make cortex-m4`: `unas_cm4.elf` for QEMU's mps2-an386 (arm-none-eabi-gcc, newlib); ",
      "`make run-qemu` runs it on the embedded test inputs and exits with the number of ",
      "inputs whose logits differ from the reference interpreter's; it also prints the ",
      "SysTick ticks of one inference.\n",
      "- `EXTRA_CFLAGS=-DUNAS_POISON` (a debug build): every buffer is overwritten after its ",
      "last use, so a wrong arena plan changes the logits.\n\n",
      "Compile `unas_model.c` and `unas_kernels.c` into any other firmware as they are. ",
      "On a Cortex-M with the DSP extension (M4, M7, M33) the kernels use its dual ",
      "multiply-accumulate; elsewhere portable C computes the same bits.\n\n", "## Latency\n\n",
      info.cortex_m4_instructions > 0
          ? absl::StrCat(info.cortex_m4_instructions,
                         " Cortex-M4 instructions per inference: `make run-qemu` on QEMU's ",
                         "mps2-an386 with `-icount shift=0`, where SysTick counts 40 ",
                         "instructions per tick (mean over the embedded test inputs). ",
                         "QEMU is not cycle-accurate: on a Cortex-M4 most data instructions ",
                         "take one cycle, loads two and taken branches two to four, so ",
                         "cycles are somewhat more. On a board the same program's SysTick ",
                         "ticks are core clock cycles.\n\n")
          : "Not measured (arm-none-eabi-gcc and qemu-system-arm were not installed). "
            "`make run-qemu` prints SysTick ticks per inference (40 instructions each under "
            "QEMU's -icount shift=0).\n\n",
      "## Operator order\n\n", order);
}

namespace {

std::string TestData(const std::vector<std::vector<int8_t>>& inputs,
                     const std::vector<std::vector<int8_t>>& logits,
                     const std::vector<int32_t>& labels) {
  std::string out =
      "/* Test inputs and the reference interpreter's logits (generated). */\n"
      "#ifndef UNAS_CM4_TEST_DATA_H_\n#define UNAS_CM4_TEST_DATA_H_\n\n#include <stdint.h>\n\n"
      "#include \"unas_model.h\"\n\n";
  absl::StrAppend(&out, "#define UNAS_TEST_INPUTS ", inputs.size(), "\n");
  absl::StrAppend(&out, "#define UNAS_TEST_LABELS ", labels.empty() ? 0 : 1, "\n\n");
  absl::StrAppend(&out,
                  "__attribute__((section(\".testdata\"))) static const int8_t "
                  "unas_test_inputs[UNAS_TEST_INPUTS][UNAS_MODEL_INPUT_SIZE] = {\n");
  for (const auto& in : inputs)
    absl::StrAppend(&out, "  {", ArrayBody(in.data(), in.size()), "  },\n");
  absl::StrAppend(&out,
                  "};\n\n__attribute__((section(\".testdata\"))) static const int8_t "
                  "unas_test_logits[UNAS_TEST_INPUTS][UNAS_MODEL_OUTPUT_SIZE] = {\n");
  for (const auto& l : logits)
    absl::StrAppend(&out, "  {", ArrayBody(l.data(), l.size()), "  },\n");
  absl::StrAppend(&out, "};\n");
  if (!labels.empty()) {
    absl::StrAppend(&out,
                    "\n__attribute__((section(\".testdata\"))) static const uint8_t "
                    "unas_test_labels[UNAS_TEST_INPUTS] = {",
                    ArrayBody(labels.data(), labels.size()), "};\n");
  }
  return out + "\n#endif /* UNAS_CM4_TEST_DATA_H_ */\n";
}

}  // namespace

absl::StatusOr<CProject> GenerateCProject(const v1::QuantizedModel& model,
                                          const CProjectOptions& options) {
  UNAS_ASSIGN_OR_RETURN(const int8::Interpreter interpreter, int8::Interpreter::Create(model));
  UNAS_ASSIGN_OR_RETURN(const ModelGraph mg, BuildModelGraph(model));
  CProject project;
  project.source = options.source;
  CProjectInfo& info = project.info;

  const rm::PmuOptions pmu_options{.include_input = true,
                                   .on_search_limit = rm::SearchLimitPolicy::kUpperBound};
  UNAS_ASSIGN_OR_RETURN(const rm::PmuResult with_input, rm::ComputePmu(mg.graph, pmu_options));
  rm::PmuOptions without = pmu_options;
  without.include_input = false;
  UNAS_ASSIGN_OR_RETURN(const rm::PmuResult without_input, rm::ComputePmu(mg.graph, without));
  info.pmu_with_input_bytes = with_input.peak_bytes;
  info.pmu_bytes = without_input.peak_bytes;
  info.pmu_optimal = with_input.optimal && without_input.optimal;

  // The stored order, or the PMU's with the input counted if its plan is smaller.
  UNAS_ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(mg.graph, mg.op_of));
  std::vector<rm::OpId> order = mg.op_of;
  UNAS_ASSIGN_OR_RETURN(MemoryPlan pmu_plan, PlanMemory(mg.graph, with_input.order));
  if (pmu_plan.arena_bytes < plan.arena_bytes) {
    plan = std::move(pmu_plan);
    order = with_input.order;
    info.stored_order = false;
  }
  UNAS_RETURN_IF_ERROR(CheckMemoryPlan(plan));
  info.arena_bytes = plan.arena_bytes;
  info.order_peak_bytes = plan.peak_bytes;
  info.placement = plan.placement;
  info.arena_by_placement = plan.arena_by_placement;

  const int input = interpreter.FindTensor(model.input());
  const int output = interpreter.FindTensor(model.output());
  info.input_size = interpreter.input_size();
  info.output_size = interpreter.output_size();
  info.input_zero_point = model.tensors(input).zero_point(0);
  info.input_scale = model.tensors(input).scale(0);
  info.raw_image_input = info.input_zero_point == -128;
  info.output_zero_point = model.tensors(output).zero_point(0);
  info.output_scale = model.tensors(output).scale(0);

  Emitter emit{model, mg, plan, "", "", 0, 0};
  for (rm::OpId id : order) {
    const int index = mg.model_op_of[id];
    const v1::QuantizedOp& op = model.ops(index);
    const int y = emit.Tensor(op.output());
    info.op_order.push_back(op.output());
    absl::StrAppend(&emit.constants, "/* ", CommentText(op.output()), ": ", Describe(op), " */\n");
    absl::StrAppend(&emit.calls, "  /* ", CommentText(op.output()), " */\n");
    if (op.type() == v1::QUANTIZED_OP_TYPE_ADD) {
      emit.Add(index, op, y);
    } else {
      emit.Layer(index, op, emit.Tensor(op.inputs(0)), y);
    }
    absl::StrAppend(&emit.calls, "  UNAS_PROFILE_OP(", info.op_order.size() - 1, ");\n");
    // -DUNAS_POISON: every buffer whose last reader this op was is
    // overwritten, so an overlap with a live buffer changes the logits.
    const int step = static_cast<int>(info.op_order.size()) - 1;
    for (const ArenaBuffer& b : plan.buffers) {
      if (b.last_step == step && step + 1 < static_cast<int>(order.size())) {
        absl::StrAppend(&emit.calls, "  UNAS_POISON_BUFFER(", b.offset, ", ", b.size, ");\n");
      }
    }
  }
  info.weight_bytes = emit.weight_bytes;
  info.flash_bytes = emit.flash_bytes;

  const std::string poison_definition =
      "/* -DUNAS_POISON (a debug build): buffers are filled with a pattern after\n"
      " * their last use. */\n#ifdef UNAS_POISON\n#include <string.h>\n"
      "#define UNAS_POISON_BUFFER(offset, size) memset(unas_arena + (offset), 0xA5, (size))\n"
      "#else\n#define UNAS_POISON_BUFFER(offset, size) ((void)0)\n#endif\n\n";
  const int64_t in_offset = plan.offset_of(mg.tensor_of[input]);
  const int64_t out_offset = plan.offset_of(mg.tensor_of[output]);
  std::string source = absl::StrCat(
      "/* The network exported by unasctl from ", CommentText(options.source),
      ". Generated: do not edit. */\n#include <stddef.h>\n\n#include \"unas_kernels.h\"\n"
      "#include \"unas_model.h\"\n\n",
      "/* Every activation at a planned offset (", PlacementName(plan.placement),
      "); peak of the order ", plan.peak_bytes, " bytes. */\nstatic int8_t unas_arena[",
      plan.arena_bytes, "] UNAS_ARENA_ATTRIBUTES;\n\n", poison_definition,
      "/* -DUNAS_PROFILE: unas_profile_op(k) (the caller's) runs after the k-th op. */\n",
      "#ifdef UNAS_PROFILE\nvoid unas_profile_op(int op);\n",
      "#define UNAS_PROFILE_OP(op) unas_profile_op(op)\n#else\n",
      "#define UNAS_PROFILE_OP(op) ((void)0)\n#endif\n\n", emit.constants,
      "static void unas_model_invoke(void) {\n", emit.calls, "}\n\n",
      "int unas_model_run(const int8_t* input, int8_t* logits) {\n  int32_t i;\n",
      "  for (i = 0; i < UNAS_MODEL_INPUT_SIZE; ++i) unas_arena[", in_offset, " + i] = input[i];\n",
      "  unas_model_invoke();\n",
      "  for (i = 0; i < UNAS_MODEL_OUTPUT_SIZE; ++i) logits[i] = unas_arena[", out_offset,
      " + i];\n  return 0;\n}\n\n",
      "int unas_model_predict(const int8_t* logits) {\n  int32_t i, best = 0;\n",
      "  if (UNAS_MODEL_OUTPUT_SIZE == 1) return logits[0] > UNAS_MODEL_OUTPUT_ZERO_POINT;\n",
      "  for (i = 1; i < UNAS_MODEL_OUTPUT_SIZE; ++i) {\n",
      "    if (logits[i] > logits[best]) best = i;\n  }\n  return (int)best;\n}\n");
  if (info.raw_image_input) {
    absl::StrAppend(&source, "\nint unas_model_classify(const uint8_t* image) {\n  int32_t i;\n",
                    "  for (i = 0; i < UNAS_MODEL_INPUT_SIZE; ++i) {\n    unas_arena[", in_offset,
                    " + i] = (int8_t)((int32_t)image[i] - 128);\n  }\n  unas_model_invoke();\n",
                    "  return unas_model_predict(unas_arena + ", out_offset, ");\n}\n");
  }

  std::vector<std::vector<int8_t>> inputs = options.test_inputs;
  if (inputs.empty()) {
    std::mt19937 rng(1);
    std::uniform_int_distribution<int> value(-128, 127);
    for (int i = 0; i < 3; ++i) {
      std::vector<int8_t>& in = inputs.emplace_back(info.input_size);
      for (int8_t& v : in) v = static_cast<int8_t>(value(rng));
    }
  }
  std::vector<std::vector<int8_t>> logits;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (static_cast<int64_t>(inputs[i].size()) != info.input_size) {
      return absl::InvalidArgumentError(absl::StrCat("test input ", i, " has ", inputs[i].size(),
                                                     " values, the model reads ", info.input_size));
    }
    std::vector<int8_t>& l = logits.emplace_back(info.output_size);
    interpreter.Run(inputs[i].data(), l.data());
  }

  project.plan = plan;
  project.files["unas_model.h"] = ModelHeader(info, options);
  project.files["unas_model.c"] = std::move(source);
  project.files["README.md"] = CProjectReadme(info, options.source);
  if (!options.test_labels.empty() && options.test_labels.size() != inputs.size()) {
    return absl::InvalidArgumentError(absl::StrCat(options.test_labels.size(), " test labels for ",
                                                   inputs.size(), " test inputs"));
  }
  project.files["cortex-m4/test_data.h"] = TestData(inputs, logits, options.test_labels);
  for (const RuntimeFile& file : RuntimeFiles())
    project.files[std::string(file.path)] = std::string(file.contents);
  return project;
}

}  // namespace unas::codegen
