// `unasctl arch resources FILE --input --classes`: an architecture's
// resource metrics (peak memory with and without the input, model sizes,
// MACs, latency proxy, parameters), its operators and best operator order,
// as text or JSON, and its graph as Graphviz DOT.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/unasctl/arch_support.h"
#include "cli/unasctl/command_support.h"
#include "cli/unasctl/json_output.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/architecture_io.h"
#include "common/search_space/describe.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/resource_graph.h"
#include "resource_models/dot_export.h"
#include "resource_models/macs.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

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

void AddArchResourcesCommand(CLI::App* arch, int* exit_code) {
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
