#include "cli/unasctl/arch_commands.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/unasctl/json_output.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/architecture_io.h"
#include "common/search_space/describe.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "common/search_space/validate.h"
#include "resource_models/dot_export.h"
#include "resource_models/macs.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// Options shared by several subcommands.
struct SpaceFlags {
  std::string kind;  // "cnn", "mlp" or "" (the architecture's own kind)
  std::string spec_file;
};

struct DataFlags {
  std::string input;  // "28x28x1"; empty: not given
  int classes = 0;
};

void AddSpaceFlags(CLI::App* cmd, SpaceFlags* flags, bool kind_required) {
  CLI::Option* kind = cmd->add_option("--space", flags->kind, "Search space kind: cnn or mlp")
                          ->check(CLI::IsMember({"cnn", "mlp"}));
  if (kind_required) kind->required();
  cmd->add_option("--space-spec", flags->spec_file,
                  "SearchSpaceSpec file (textproto or JSON) with the space's bounds; "
                  "absent bounds take the defaults")
      ->check(CLI::ExistingFile);
}

void AddDataFlags(CLI::App* cmd, DataFlags* flags, bool required) {
  CLI::Option* input =
      cmd->add_option("--input", flags->input, "Input shape HEIGHTxWIDTHxCHANNELS, e.g. 28x28x1");
  CLI::Option* classes = cmd->add_option("--classes", flags->classes, "Number of classes (>= 2)");
  if (required) {
    input->required();
    classes->required();
  } else {
    input->needs(classes);
    classes->needs(input);
  }
}

// The space: --space-spec if given, else the defaults of --space, else of
// the architecture's kind.
absl::StatusOr<SearchSpace> LoadSpace(const SpaceFlags& flags, const v1::Architecture* arch) {
  SearchSpace space;
  if (!flags.spec_file.empty()) {
    v1::SearchSpaceSpec spec;
    if (absl::Status s = ReadProtoFile(flags.spec_file, &spec); !s.ok()) return s;
    auto resolved = ResolveSearchSpace(spec);
    if (!resolved.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flags.spec_file, ": ", resolved.status().message()));
    }
    space = *resolved;
    if (!flags.kind.empty()) space.kind = flags.kind == "mlp" ? SpaceKind::kMlp : SpaceKind::kCnn;
    return space;
  }
  if (!flags.kind.empty()) {
    return DefaultSearchSpace(flags.kind == "mlp" ? SpaceKind::kMlp : SpaceKind::kCnn);
  }
  return DefaultSearchSpace(arch != nullptr && arch->has_mlp() ? SpaceKind::kMlp : SpaceKind::kCnn);
}

absl::StatusOr<std::optional<DataShape>> LoadData(const DataFlags& flags) {
  if (flags.input.empty()) return std::optional<DataShape>();
  auto data = ParseInputShape(flags.input, flags.classes);
  if (!data.ok()) return data.status();
  return std::optional<DataShape>(*data);
}

int Fail(const absl::Status& status) {
  std::cerr << "unasctl: " << status.message() << "\n";
  return 1;
}

// Writes the architecture to `path` (format by extension), "-" for stdout.
absl::Status WriteArchitecture(const std::string& path, const v1::Architecture& arch) {
  if (path == "-") {
    std::cout << ToTextproto(arch);
    return absl::OkStatus();
  }
  return WriteProtoFile(path, arch);
}

// Header comments + textproto: the human form of one architecture.
std::string HumanArchitecture(const v1::Architecture& arch, const std::optional<DataShape>& data,
                              const std::string& note) {
  std::string out;
  if (!note.empty()) absl::StrAppend(&out, "# ", note, "\n");
  absl::StrAppend(&out, "# ", DescribeArchitecture(arch), "\n");
  if (data) {
    absl::StrAppend(&out, "# fingerprint ", FingerprintHex(Fingerprint(arch, *data)), " for ",
                    data->height, "x", data->width, "x", data->channels, ", ", data->num_classes,
                    " classes\n");
  }
  absl::StrAppend(&out, ToTextproto(arch));
  return out;
}

Value JsonArchitecture(const v1::Architecture& arch, const std::optional<DataShape>& data,
                       const std::string& change) {
  Value v;
  auto& fields = *v.mutable_struct_value()->mutable_fields();
  if (!change.empty()) fields["change"] = JsonString(change);
  fields["summary"] = JsonString(DescribeArchitecture(arch));
  if (data) fields["fingerprint"] = JsonString(FingerprintHex(Fingerprint(arch, *data)));
  fields["architecture"] = JsonMessage(arch);
  return v;
}

// --- arch random -------------------------------------------------------------

struct RandomFlags {
  SpaceFlags space;
  DataFlags data;
  uint64_t seed = 0;
  int count = 1;
  std::string out;
  bool json = false;
};

int RunRandom(const RandomFlags& f) {
  auto space = LoadSpace(f.space, nullptr);
  if (!space.ok()) return Fail(space.status());
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  if (!f.out.empty() && f.count != 1) {
    return Fail(absl::InvalidArgumentError("--out writes one architecture: use --count 1"));
  }
  Rng rng(f.seed);
  Value list;
  list.mutable_list_value();
  for (int i = 0; i < f.count; ++i) {
    auto arch = RandomArchitecture(*space, **data, rng);
    if (!arch.ok()) return Fail(arch.status());
    if (!f.out.empty()) {
      if (absl::Status s = WriteArchitecture(f.out, *arch); !s.ok()) return Fail(s);
    }
    if (f.json) {
      *list.mutable_list_value()->add_values() = JsonArchitecture(*arch, *data, "");
    } else if (f.out != "-") {
      if (i > 0) std::cout << "\n";
      std::cout << HumanArchitecture(
          *arch, *data,
          absl::StrCat("random architecture ", i + 1, " of ", f.count, ", seed ", f.seed));
    }
  }
  if (f.json) {
    Struct result;
    (*result.mutable_fields())["seed"] = JsonNumber(static_cast<double>(f.seed));
    (*result.mutable_fields())["architectures"] = list;
    std::cout << ToJsonText(result);
  }
  return 0;
}

// --- arch validate -----------------------------------------------------------

struct ValidateFlags {
  std::string file;
  SpaceFlags space;
  DataFlags data;
  bool json = false;
};

int RunValidate(const ValidateFlags& f) {
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  auto arch = ReadArchitectureFile(f.file);
  absl::Status status = arch.status();
  std::optional<SearchSpace> space;
  if (status.ok()) {
    auto loaded = LoadSpace(f.space, &*arch);
    if (!loaded.ok()) return Fail(loaded.status());
    space = *loaded;
    status = ValidateArchitecture(*arch, *space);
    if (status.ok() && *data) status = ValidateForData(*arch, **data);
    if (!status.ok())
      status = absl::InvalidArgumentError(absl::StrCat(f.file, ": ", status.message()));
  }
  if (f.json) {
    Struct result;
    auto& fields = *result.mutable_fields();
    fields["file"] = JsonString(f.file);
    fields["valid"] = JsonBool(status.ok());
    if (!status.ok()) fields["error"] = JsonString(std::string(status.message()));
    if (arch.ok()) {
      fields["summary"] = JsonString(DescribeArchitecture(*arch));
      if (*data) fields["fingerprint"] = JsonString(FingerprintHex(Fingerprint(*arch, **data)));
    }
    std::cout << ToJsonText(result);
  } else if (status.ok()) {
    std::cout << f.file << ": valid " << (space->kind == SpaceKind::kMlp ? "MLP" : "CNN")
              << " architecture: " << DescribeArchitecture(*arch) << "\n";
    if (*data) {
      std::cout << "  builds for " << f.data.input << ", " << f.data.classes
                << " classes; fingerprint " << FingerprintHex(Fingerprint(*arch, **data)) << "\n";
    }
  } else {
    std::cerr << status.message() << "\n";
  }
  return status.ok() ? 0 : 1;
}

// --- arch mutate -------------------------------------------------------------

struct MutateFlags {
  std::string file;
  SpaceFlags space;
  DataFlags data;
  uint64_t seed = 0;
  bool all = false;
  std::string out;
  bool json = false;
};

int RunMutate(const MutateFlags& f) {
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  auto arch = ReadArchitectureFile(f.file);
  if (!arch.ok()) return Fail(arch.status());
  auto space = LoadSpace(f.space, &*arch);
  if (!space.ok()) return Fail(space.status());
  Rng rng(f.seed);
  if (f.all) {
    auto all = Neighbours(*arch, *space, rng);
    if (!all.ok())
      return Fail(absl::InvalidArgumentError(absl::StrCat(f.file, ": ", all.status().message())));
    if (f.json) {
      Struct result;
      Value list;
      list.mutable_list_value();
      for (const Neighbour& n : *all) {
        *list.mutable_list_value()->add_values() =
            JsonArchitecture(n.architecture, *data, n.change);
      }
      (*result.mutable_fields())["parent"] = JsonArchitecture(*arch, *data, "");
      (*result.mutable_fields())["count"] = JsonNumber(static_cast<double>(all->size()));
      (*result.mutable_fields())["neighbours"] = list;
      std::cout << ToJsonText(result);
      return 0;
    }
    std::cout << all->size() << " neighbours of " << DescribeArchitecture(*arch) << "\n";
    for (size_t i = 0; i < all->size(); ++i) {
      std::cout << absl::StrFormat("%4d  %-48s  %s\n", i + 1, (*all)[i].change,
                                   DescribeArchitecture((*all)[i].architecture));
    }
    return 0;
  }
  absl::StatusOr<Neighbour> chosen;
  if (*data) {
    chosen = RandomNeighbour(*arch, *space, **data, rng);
  } else {
    auto all = Neighbours(*arch, *space, rng);
    if (all.ok()) {
      chosen = (*all)[rng.Index(all->size())];
    } else {
      chosen = all.status();
    }
  }
  if (!chosen.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(f.file, ": ", chosen.status().message())));
  }
  if (!f.out.empty()) {
    if (absl::Status s = WriteArchitecture(f.out, chosen->architecture); !s.ok()) return Fail(s);
  }
  if (f.json) {
    std::cout << ToJsonText(JsonArchitecture(chosen->architecture, *data, chosen->change));
  } else if (f.out != "-") {
    std::cout << HumanArchitecture(chosen->architecture, *data, "change: " + chosen->change);
  }
  return 0;
}

// --- arch resources ----------------------------------------------------------

struct ResourcesFlags {
  std::string file;
  DataFlags data;
  std::string pruning_file;
  double compute_weight = 1.0;
  double memory_weight = 0.0;
  std::string dot;
  bool json = false;
};

std::string Dims(const Shape& s, OpKind kind) {
  if (kind == OpKind::kDense) return absl::StrCat(s.channels);
  return absl::StrCat(s.height, "x", s.width, "x", s.channels);
}

int RunResources(const ResourcesFlags& f) {
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  auto arch = ReadArchitectureFile(f.file);
  if (!arch.ok()) return Fail(arch.status());
  v1::EvaluationResult evaluation;
  PlanOptions plan_options;
  if (!f.pruning_file.empty()) {
    if (absl::Status s = ReadProtoFile(f.pruning_file, &evaluation); !s.ok()) return Fail(s);
    plan_options.pruning = &evaluation.pruning();
  }
  auto plan = PlanNetwork(*arch, **data, plan_options);
  if (!plan.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(f.file, ": ", plan.status().message())));
  }
  auto graph = BuildResourceGraph(*plan);
  if (!graph.ok()) return Fail(graph.status());
  rm::ResourceOptions options;
  options.pmu_without_add_reuse = true;
  options.pmu.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
  options.latency =
      rm::LatencyWeights{.compute = f.compute_weight, .memory_access = f.memory_weight};
  auto report = rm::ComputeResources(*graph, options);
  if (!report.ok()) return Fail(report.status());
  rm::ResourceOptions with_input = options;
  with_input.pmu.include_input = true;
  auto report_in = rm::ComputeResources(*graph, with_input);
  if (!report_in.ok()) return Fail(report_in.status());
  const bool pmu_upper_bound = !report->pmu_optimal || !report_in->pmu_optimal;
  rm::ModelSizeOptions dense_sizes;
  dense_sizes.use_sparse_sizes = false;
  const bool pruned = plan_options.pruning != nullptr && !plan_options.pruning->empty();

  if (!f.dot.empty()) {
    auto pmu = rm::ComputePmu(*graph, options.pmu);
    if (!pmu.ok()) return Fail(pmu.status());
    rm::DotOptions dot_options;
    dot_options.schedule = &*pmu;
    const std::string dot = rm::ToDot(*graph, dot_options);
    if (f.dot == "-") {
      std::cout << dot;
      return 0;
    }
    std::ofstream out(f.dot);
    out << dot;
    if (!out) return Fail(absl::PermissionDeniedError(absl::StrCat(f.dot, ": cannot write")));
  }

  if (f.json) {
    Struct result;
    auto& r = *result.mutable_fields();
    r["file"] = JsonString(f.file);
    r["fingerprint"] = JsonString(FingerprintHex(Fingerprint(*arch, **data)));
    r["pruned"] = JsonBool(pruned);
    r["peak_memory_bytes"] = JsonNumber(report->pmu_bytes);
    r["peak_memory_with_input_bytes"] = JsonNumber(report->pmu_with_input_bytes);
    r["peak_memory_is_upper_bound"] = JsonBool(pmu_upper_bound);
    r["peak_memory_without_add_reuse_bytes"] =
        JsonNumber(report->pmu_without_add_reuse_bytes.value_or(0));
    r["peak_memory_with_input_without_add_reuse_bytes"] =
        JsonNumber(report_in->pmu_without_add_reuse_bytes.value_or(0));
    r["model_size_bytes"] = JsonNumber(report->model_size_unas);
    r["model_size_deployed_bytes"] = JsonNumber(report->model_size_deployed);
    r["model_size_dense_bytes"] = JsonNumber(rm::ModelSizeUnas(*graph, dense_sizes));
    r["macs"] = JsonNumber(report->macs);
    r["conv_dense_macs"] = JsonNumber(report->conv_dense_macs);
    r["memory_loads"] = JsonNumber(report->memory_loads);
    r["latency_proxy"] = JsonNumber(report->latency_proxy);
    r["parameter_count"] = JsonNumber(report->parameter_count);
    Value ops;
    ops.mutable_list_value();
    for (const PlannedOp& op : plan->ops) {
      Value v;
      auto& o = *v.mutable_struct_value()->mutable_fields();
      o["name"] = JsonString(op.name);
      o["kind"] = JsonString(OpKindName(op.kind));
      o["output"] = JsonString(Dims(op.output, op.kind));
      o["parameters"] = JsonNumber(op.kernel_elements + op.bias_elements);
      *ops.mutable_list_value()->add_values() = v;
    }
    r["operators"] = ops;
    Value order;
    order.mutable_list_value();
    for (size_t i = 0; i < report->order_names.size(); ++i) {
      Value v;
      auto& o = *v.mutable_struct_value()->mutable_fields();
      o["op"] = JsonString(report->order_names[i]);
      o["live_bytes"] = JsonNumber(report->step_bytes[i]);
      *order.mutable_list_value()->add_values() = v;
    }
    r["operator_order"] = order;
    std::cout << ToJsonText(result);
    return 0;
  }
  if (f.dot == "-") return 0;

  std::cout << f.file << ": " << DescribeArchitecture(*arch) << "\n";
  std::cout << "input " << f.data.input << ", " << f.data.classes << " classes"
            << (pruned ? ", pruned view of " + f.pruning_file : "") << "; fingerprint "
            << FingerprintHex(Fingerprint(*arch, **data)) << "\n\n";
  std::cout << absl::StrFormat("%-36s %-16s %12s %10s\n", "operator", "kind", "output", "params");
  for (const PlannedOp& op : plan->ops) {
    std::string params = absl::StrCat(op.kernel_elements + op.bias_elements);
    if (op.nonzero_kernel_elements) {
      absl::StrAppend(&params, " (", *op.nonzero_kernel_elements + op.bias_elements, " nz)");
    }
    std::cout << absl::StrFormat("%-36s %-16s %12s %10s\n", op.name, OpKindName(op.kind),
                                 Dims(op.output, op.kind), params);
  }
  auto line = [](const std::string& label, const std::string& value) {
    std::cout << absl::StrFormat("%-44s %s\n", label, value);
  };
  std::cout << "\n";
  line("peak memory (input excluded)", absl::StrCat(report->pmu_bytes, " B"));
  line("peak memory (input included)", absl::StrCat(report->pmu_with_input_bytes, " B"));
  line("peak memory, no Add reuse (input excluded)",
       absl::StrCat(report->pmu_without_add_reuse_bytes.value_or(0), " B"));
  line("peak memory, no Add reuse (input included)",
       absl::StrCat(report_in->pmu_without_add_reuse_bytes.value_or(0), " B"));
  if (pmu_upper_bound) {
    std::cout << "(peak memory: upper bounds, achieved by the order shown; the exact search "
                 "stopped at its state limit)\n";
  }
  line(pruned ? "model size (paper accounting, sparse)" : "model size (paper accounting)",
       absl::StrCat(report->model_size_unas, " B"));
  line("model size (int8 deployment)", absl::StrCat(report->model_size_deployed, " B"));
  line("parameters", absl::StrCat(report->parameter_count));
  line("MACs (incl. pooling and Add work)", absl::StrCat(report->macs));
  line("MACs (conv and dense only)", absl::StrCat(report->conv_dense_macs));
  line(absl::StrFormat("latency proxy (compute %g, memory %g)", f.compute_weight, f.memory_weight),
       absl::StrFormat("%.0f", report->latency_proxy));
  std::cout << "\nbest operator order (input excluded):\n";
  std::cout << absl::StrFormat("%4s  %-36s %12s\n", "step", "operator", "live bytes");
  for (size_t i = 0; i < report->order_names.size(); ++i) {
    std::cout << absl::StrFormat("%4d  %-36s %12d\n", i + 1, report->order_names[i],
                                 report->step_bytes[i]);
  }
  return 0;
}

}  // namespace

void AddArchCommands(CLI::App& app, int* exit_code) {
  CLI::App* arch = app.add_subcommand("arch", "Offline commands on architecture files");
  arch->require_subcommand(1);

  auto random_flags = std::make_shared<RandomFlags>();
  CLI::App* random = arch->add_subcommand("random", "Print a random architecture of a space");
  AddSpaceFlags(random, &random_flags->space, /*kind_required=*/true);
  AddDataFlags(random, &random_flags->data, /*required=*/true);
  random->add_option("--seed", random_flags->seed, "Random seed")->required();
  random->add_option("--count", random_flags->count, "How many architectures")
      ->check(CLI::PositiveNumber);
  random->add_option("-o,--out", random_flags->out,
                     "Also write the architecture to this file (.textproto or .json; - = stdout)");
  random->add_flag("--json", random_flags->json, "JSON output");
  random->callback([random_flags, exit_code] { *exit_code = RunRandom(*random_flags); });

  auto validate_flags = std::make_shared<ValidateFlags>();
  CLI::App* validate = arch->add_subcommand("validate", "Check an architecture file");
  validate->add_option("FILE", validate_flags->file, "Architecture file (.textproto or .json)")
      ->required();
  AddSpaceFlags(validate, &validate_flags->space, /*kind_required=*/false);
  AddDataFlags(validate, &validate_flags->data, /*required=*/false);
  validate->add_flag("--json", validate_flags->json, "JSON output");
  validate->callback([validate_flags, exit_code] { *exit_code = RunValidate(*validate_flags); });

  auto mutate_flags = std::make_shared<MutateFlags>();
  CLI::App* mutate = arch->add_subcommand("mutate", "Print one random neighbour, or all of them");
  mutate->add_option("FILE", mutate_flags->file, "Architecture file (.textproto or .json)")
      ->required();
  AddSpaceFlags(mutate, &mutate_flags->space, /*kind_required=*/false);
  AddDataFlags(mutate, &mutate_flags->data, /*required=*/false);
  mutate->add_option("--seed", mutate_flags->seed, "Random seed (default 0)");
  mutate->add_flag("--all", mutate_flags->all, "Every neighbour, in the morphisms' order");
  mutate->add_option("-o,--out", mutate_flags->out,
                     "Also write the neighbour to this file (.textproto or .json; - = stdout)");
  mutate->add_flag("--json", mutate_flags->json, "JSON output");
  mutate->callback([mutate_flags, exit_code] { *exit_code = RunMutate(*mutate_flags); });

  auto resources_flags = std::make_shared<ResourcesFlags>();
  CLI::App* resources =
      arch->add_subcommand("resources", "Resource metrics of an architecture for an input");
  resources->add_option("FILE", resources_flags->file, "Architecture file (.textproto or .json)")
      ->required();
  AddDataFlags(resources, &resources_flags->data, /*required=*/true);
  resources
      ->add_option("--pruning", resources_flags->pruning_file,
                   "EvaluationResult file whose `pruning` entries give the pruned view")
      ->check(CLI::ExistingFile);
  resources->add_option("--compute-weight", resources_flags->compute_weight,
                        "Latency proxy weight of compute (default 1)");
  resources->add_option("--memory-weight", resources_flags->memory_weight,
                        "Latency proxy weight of memory accesses (default 0)");
  resources->add_option("--dot", resources_flags->dot,
                        "Write the graph (with the best order) as Graphviz DOT; - = stdout");
  resources->add_flag("--json", resources_flags->json, "JSON output");
  resources->callback(
      [resources_flags, exit_code] { *exit_code = RunResources(*resources_flags); });
}

}  // namespace unas::cli
