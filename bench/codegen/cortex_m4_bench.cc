// Cortex-M4 latency of the generated C against MACs (docs/deploy.md,
// "Latency"): random architectures of the default CNN space on 28x28x1
// inputs, with random int8 weights (instruction counts hardly depend on the
// values), are generated, cross-compiled and run on QEMU's mps2-an386 with
// -icount shift=0, where SysTick counts 40 instructions per tick. Per
// network: instructions per inference (mean over two inputs) and MACs; per
// operator (a -DUNAS_PROFILE build): instructions and MACs by type. Prints
// the Pearson and Spearman correlations of instructions with MACs, a linear
// fit, and instructions per MAC by operator type; writes the rows as CSV.
//
//   cortex_m4_bench [--networks 200] [--seed 11] [--csv FILE] [--ops-csv FILE]
//                   [--keep DIR]   (keeps the named networks' projects and int8 models
//                                   in DIR)
//
// Also measures named networks (a demo-sized CNN and the architectures of the
// codegen tests' trained networks) the same way.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "codegen/c_project.h"
#include "codegen/cortex_m4.h"
#include "codegen/write_files.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/random_architecture.h"
#include "google/protobuf/text_format.h"
#include "int8/interpreter.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

const char* TypeName(v1::QuantizedOpType type) {
  switch (type) {
    case v1::QUANTIZED_OP_TYPE_CONV2D:
      return "conv2d";
    case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
      return "depthwise";
    case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED:
      return "dense";
    case v1::QUANTIZED_OP_TYPE_MAX_POOL:
      return "max_pool";
    case v1::QUANTIZED_OP_TYPE_AVG_POOL:
      return "avg_pool";
    case v1::QUANTIZED_OP_TYPE_ADD:
      return "add";
    default:
      return "?";
  }
}

// MACs of a weighted op; for pools and adds the output elements (their work).
int64_t OpWork(const v1::QuantizedModel& model, const v1::QuantizedOp& op) {
  auto tensor = [&](const std::string& name) -> const v1::QuantizedTensor& {
    for (const auto& t : model.tensors())
      if (t.name() == name) return t;
    return model.tensors(0);
  };
  int64_t out = 1;
  for (int d : tensor(op.output()).shape()) out *= d;
  switch (op.type()) {
    case v1::QUANTIZED_OP_TYPE_CONV2D:
    case v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED: {
      const auto& w = tensor(op.inputs(1));
      int64_t per_output = 1;
      for (int d = 1; d < w.shape_size(); ++d) per_output *= w.shape(d);
      return out * per_output;
    }
    case v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D:
      return out * op.kernel_height() * op.kernel_width();
    default:
      return out;
  }
}

bool IsMacOp(v1::QuantizedOpType type) {
  return type == v1::QUANTIZED_OP_TYPE_CONV2D || type == v1::QUANTIZED_OP_TYPE_DEPTHWISE_CONV2D ||
         type == v1::QUANTIZED_OP_TYPE_FULLY_CONNECTED;
}

struct Measured {
  int64_t instructions = 0, macs = 0;
  std::vector<int64_t> op_instructions;  // in run order
  std::vector<int> op_index;             // model op of each
};

// Generates, builds and runs `model` twice: plain (instructions per
// inference) and profiled (per operator).
bool Measure(const v1::QuantizedModel& model, const std::string& dir, Measured* m) {
  absl::StatusOr<int8::Interpreter> interpreter = int8::Interpreter::Create(model);
  if (!interpreter.ok()) return false;
  CProjectOptions options;
  std::mt19937 rng(1);
  std::uniform_int_distribution<int> value(-128, 127);
  for (int i = 0; i < 2; ++i) {
    auto& in = options.test_inputs.emplace_back(interpreter->input_size());
    for (int8_t& v : in) v = static_cast<int8_t>(value(rng));
  }
  absl::StatusOr<CProject> project = GenerateCProject(model, options);
  if (!project.ok()) return false;
  std::filesystem::remove_all(dir);
  if (!WriteFolder(dir, project->files).ok()) return false;
  absl::StatusOr<CortexM4Run> run = RunCortexM4(dir);
  if (!run.ok() || run->differing != 0) {
    std::fprintf(stderr, "run failed: %s\n",
                 run.ok() ? run->printed.c_str() : std::string(run.status().message()).c_str());
    return false;
  }
  m->instructions = run->instructions();
  std::filesystem::remove(std::filesystem::path(dir) / "unas_cm4.elf");
  absl::StatusOr<CortexM4Run> profiled = RunCortexM4(dir, "EXTRA_CFLAGS=-DUNAS_PROFILE");
  if (!profiled.ok()) return false;
  m->op_instructions.assign(project->info.op_order.size(), 0);
  for (absl::string_view line : absl::StrSplit(profiled->printed, '\n')) {
    if (!absl::ConsumePrefix(&line, "op ")) continue;
    std::vector<std::string> f = absl::StrSplit(line, absl::ByAnyChar(": "), absl::SkipEmpty());
    int k = 0;
    int64_t ticks = 0;
    if (f.size() >= 2 && absl::SimpleAtoi(f[0], &k) && absl::SimpleAtoi(f[1], &ticks) && k >= 0 &&
        k < static_cast<int>(m->op_instructions.size())) {
      m->op_instructions[k] = ticks * 40;
    }
  }
  m->macs = 0;
  m->op_index.clear();
  for (const std::string& name : project->info.op_order) {
    for (int i = 0; i < model.ops_size(); ++i) {
      if (model.ops(i).output() != name) continue;
      m->op_index.push_back(i);
      if (IsMacOp(model.ops(i).type())) m->macs += OpWork(model, model.ops(i));
    }
  }
  return true;
}

double Pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

std::vector<double> Ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size(); ++i) ranks[order[i]] = static_cast<double>(i);
  return ranks;
}

const char* kNamed[][2] = {
    {"demo_sized",
     R"pb(cnn {
            conv_blocks {
              layers {
                type: CONV_LAYER_TYPE_CONV2D
                kernel_size: 7
                filters: 8
                stride2: true
                has_relu: true
              }
            }
            conv_blocks {
              layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 5 filters: 16 has_relu: true }
            }
            conv_blocks {
              is_branch: true
              layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 stride2: true has_relu: true }
            }
            pooling { type: POOL_TYPE_AVG pool_size: 2 }
            dense_blocks { units: 40 }
          })pb"},
    {"chain",
     R"pb(cnn {
            conv_blocks {
              layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 has_relu: true }
            }
            conv_blocks {
              layers {
                type: CONV_LAYER_TYPE_CONV2D
                kernel_size: 3
                filters: 12
                stride2: true
                has_relu: true
              }
            }
            dense_blocks { units: 16 }
          })pb"},
    {"branched_add",
     R"pb(cnn {
            conv_blocks {
              layers { type: CONV_LAYER_TYPE_CONV2D kernel_size: 3 filters: 8 has_relu: true }
            }
            conv_blocks {
              layers {
                type: CONV_LAYER_TYPE_CONV2D
                kernel_size: 3
                filters: 16
                stride2: true
                has_prepool: true
                has_relu: true
              }
            }
            conv_blocks {
              is_branch: true
              layers { type: CONV_LAYER_TYPE_DEPTHWISE kernel_size: 3 stride2: true has_relu: true }
            }
            pooling { type: POOL_TYPE_MAX pool_size: 2 }
          })pb"},
    {"pooling",
     R"pb(cnn {
            conv_blocks {
              layers {
                type: CONV_LAYER_TYPE_CONV2D
                kernel_size: 5
                filters: 6
                has_bn: true
                has_relu: true
              }
            }
            conv_blocks {
              layers {
                type: CONV_LAYER_TYPE_DEPTHWISE
                kernel_size: 3
                has_prepool: true
                has_relu: true
              }
            }
            pooling { type: POOL_TYPE_AVG pool_size: 2 }
            dense_blocks { units: 20 }
          })pb"},
    {"mlp", R"pb(mlp {
                   layers { units: 32 }
                   layers { units: 16 }
                 })pb"},
};

int Main(int argc, char** argv) {
  int networks = 200;
  uint32_t seed = 11;
  std::string csv, ops_csv, keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--networks")) networks = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seed")) seed = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--csv")) csv = argv[i + 1];
    if (!std::strcmp(argv[i], "--ops-csv")) ops_csv = argv[i + 1];
    if (!std::strcmp(argv[i], "--keep")) keep = argv[i + 1];
  }
  if (!CortexM4ToolsAvailable()) {
    std::fprintf(stderr, "needs arm-none-eabi-gcc and qemu-system-arm (scripts/install-deps)\n");
    return 1;
  }
  const std::string dir = absl::StrCat("/tmp/unas-cm4-bench-", getpid());
  const DataShape data{28, 28, 1, 10};

  for (const auto& named : kNamed) {
    v1::Architecture arch;
    if (!google::protobuf::TextFormat::ParseFromString(named[1], &arch)) return 1;
    absl::StatusOr<NetworkPlan> plan = PlanNetwork(arch, data);
    if (!plan.ok()) return 1;
    absl::StatusOr<v1::QuantizedModel> model = testing::QuantizeRandomWeights(*plan, 3);
    Measured m;
    const std::string where = keep.empty() ? dir : absl::StrCat(keep, "/", named[0]);
    if (!model.ok() || !Measure(*model, where, &m)) return 1;
    if (!keep.empty()) {
      std::ofstream(absl::StrCat(where, "/model.int8.pb"), std::ios::binary)
          << model->SerializeAsString();
    }
    std::printf("%-12s %3d ops %9lld MACs %11lld instructions per inference (%.2f per MAC)\n",
                named[0], model->ops_size(), static_cast<long long>(m.macs),
                static_cast<long long>(m.instructions),
                static_cast<double>(m.instructions) / static_cast<double>(m.macs));
    for (size_t k = 0; k < m.op_index.size(); ++k) {
      const v1::QuantizedOp& op = model->ops(m.op_index[k]);
      std::printf("    %-10s %9lld work %10lld instructions\n", TypeName(op.type()),
                  static_cast<long long>(OpWork(*model, op)),
                  static_cast<long long>(m.op_instructions[k]));
    }
  }

  std::ofstream rows(csv.empty() ? "/dev/null" : csv);
  std::ofstream op_rows(ops_csv.empty() ? "/dev/null" : ops_csv);
  rows << "network,ops,macs,instructions\n";
  op_rows << "network,op,type,work,instructions\n";
  std::vector<double> macs, instructions;
  std::map<std::string, std::pair<double, double>> by_type;  // work, instructions
  Rng rng(seed);
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  int failures = 0;
  while (static_cast<int>(macs.size()) < networks && failures < 50) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    if (!arch.ok()) continue;
    absl::StatusOr<NetworkPlan> plan = PlanNetwork(*arch, data);
    if (!plan.ok()) continue;
    absl::StatusOr<v1::QuantizedModel> model =
        testing::QuantizeRandomWeights(*plan, static_cast<uint32_t>(macs.size()));
    Measured m;
    if (!model.ok() || !Measure(*model, dir, &m)) {
      ++failures;
      continue;
    }
    const int id = static_cast<int>(macs.size());
    macs.push_back(static_cast<double>(m.macs));
    instructions.push_back(static_cast<double>(m.instructions));
    rows << id << "," << model->ops_size() << "," << m.macs << "," << m.instructions << "\n";
    for (size_t k = 0; k < m.op_index.size(); ++k) {
      const v1::QuantizedOp& op = model->ops(m.op_index[k]);
      const int64_t work = OpWork(*model, op);
      op_rows << id << "," << k << "," << TypeName(op.type()) << "," << work << ","
              << m.op_instructions[k] << "\n";
      by_type[TypeName(op.type())].first += static_cast<double>(work);
      by_type[TypeName(op.type())].second += static_cast<double>(m.op_instructions[k]);
    }
    if (id % 20 == 19) std::fprintf(stderr, "%d networks measured\n", id + 1);
  }
  std::filesystem::remove_all(dir);
  if (macs.size() < 2) return 1;
  const double n = static_cast<double>(macs.size());
  const double mx = std::accumulate(macs.begin(), macs.end(), 0.0) / n;
  const double my = std::accumulate(instructions.begin(), instructions.end(), 0.0) / n;
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < macs.size(); ++i) {
    sxy += (macs[i] - mx) * (instructions[i] - my);
    sxx += (macs[i] - mx) * (macs[i] - mx);
  }
  const double slope = sxy / sxx;
  std::printf("%zu random networks (default CNN space, 28x28x1, seed %u), %d failed\n", macs.size(),
              seed, failures);
  std::printf(
      "MACs: median %.0f, range %.0f to %.0f\n",
      [&] {
        auto v = macs;
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
      }(),
      *std::min_element(macs.begin(), macs.end()), *std::max_element(macs.begin(), macs.end()));
  std::printf("instructions vs MACs: Pearson r = %.4f, Spearman rho = %.4f\n",
              Pearson(macs, instructions), Pearson(Ranks(macs), Ranks(instructions)));
  std::printf("fit: instructions = %.3f * MACs + %.0f\n", slope, my - slope * mx);
  std::printf(
      "instructions per unit of work by operator type (work: MACs, or output values "
      "for pools and adds):\n");
  for (const auto& [type, wi] : by_type) {
    std::printf("  %-10s %8.3f  (%.0f instructions over %.0f)\n", type.c_str(),
                wi.second / wi.first, wi.second, wi.first);
  }
  return 0;
}

}  // namespace
}  // namespace unas::codegen

int main(int argc, char** argv) { return unas::codegen::Main(argc, argv); }
