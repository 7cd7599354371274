// The data files of the report: candidates.csv and pareto.csv (one row per
// candidate, RFC 4180) and candidates.json (the same rows with numbers as
// JSON numbers, plus the job and the Pareto ids). One column table serves
// all three, so the files always agree.
#include <cmath>
#include <cstdint>
#include <functional>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/describe.h"
#include "report/format.h"
#include "report/report.h"
#include "report/report_internal.h"

namespace unas::report {
namespace {

using internal::TimeText;
using v1::Candidate;

using Cell = std::variant<std::monostate, int64_t, double, bool, std::string>;

struct Column {
  const char* name;
  std::function<Cell(const Candidate&)> get;
};

struct RowContext {
  absl::flat_hash_set<int64_t> pareto_ids;
  absl::flat_hash_map<int64_t, int64_t> evaluation_index;  // 1-based, by candidate id
};

RowContext MakeRowContext(const ReportData& data) {
  RowContext ctx;
  ctx.pareto_ids = internal::CandidateIds(data.pareto);
  for (size_t i = 0; i < data.history.size(); ++i) {
    ctx.evaluation_index.emplace(data.history[i].candidate_id(), static_cast<int64_t>(i + 1));
  }
  return ctx;
}

std::vector<Column> Columns(const RowContext& ctx) {
  auto optional_double = [](bool has, double v) -> Cell {
    return has ? Cell(v) : Cell(std::monostate());
  };
  return {
      {"evaluation",
       [&ctx](const Candidate& c) -> Cell {
         auto it = ctx.evaluation_index.find(c.candidate_id());
         return it == ctx.evaluation_index.end() ? Cell() : Cell(it->second);
       }},
      {"candidate_id", [](const Candidate& c) -> Cell { return c.candidate_id(); }},
      {"parent_id",
       [](const Candidate& c) -> Cell { return c.has_parent_id() ? Cell(c.parent_id()) : Cell(); }},
      {"feasible", [](const Candidate& c) -> Cell { return c.feasible(); }},
      {"pareto",
       [&ctx](const Candidate& c) -> Cell { return ctx.pareto_ids.contains(c.candidate_id()); }},
      {"validation_error",
       [](const Candidate& c) -> Cell { return c.evaluation().validation_error(); }},
      {"test_error", [](const Candidate& c) -> Cell { return c.evaluation().test_error(); }},
      {"int8_test_error",
       [optional_double](const Candidate& c) {
         return optional_double(c.evaluation().has_int8_test_error(),
                                c.evaluation().int8_test_error());
       }},
      {"peak_memory_bytes",
       [](const Candidate& c) -> Cell { return c.metrics().peak_memory_bytes(); }},
      {"peak_memory_with_input_bytes",
       [](const Candidate& c) -> Cell { return c.metrics().peak_memory_with_input_bytes(); }},
      {"model_size_bytes",
       [](const Candidate& c) -> Cell { return c.metrics().model_size_bytes(); }},
      {"model_size_deployed_bytes",
       [](const Candidate& c) -> Cell { return c.metrics().model_size_deployed_bytes(); }},
      {"macs", [](const Candidate& c) -> Cell { return c.metrics().macs(); }},
      {"conv_dense_macs", [](const Candidate& c) -> Cell { return c.metrics().conv_dense_macs(); }},
      {"parameter_count", [](const Candidate& c) -> Cell { return c.metrics().parameter_count(); }},
      {"latency_proxy", [](const Candidate& c) -> Cell { return c.metrics().latency_proxy(); }},
      {"sparsity",
       [optional_double](const Candidate& c) {
         return optional_double(c.has_sparsity(), c.sparsity());
       }},
      {"achieved_sparsity",
       [optional_double](const Candidate& c) {
         return optional_double(c.evaluation().has_achieved_sparsity(),
                                c.evaluation().achieved_sparsity());
       }},
      {"epochs",
       [](const Candidate& c) -> Cell {
         return static_cast<int64_t>(c.evaluation().epochs_size());
       }},
      {"training_seconds",
       [](const Candidate& c) -> Cell { return c.evaluation().training_seconds(); }},
      {"attempts", [](const Candidate& c) -> Cell { return static_cast<int64_t>(c.attempts()); }},
      {"worker_id", [](const Candidate& c) -> Cell { return c.worker_id(); }},
      {"device", [](const Candidate& c) -> Cell { return c.evaluation().device(); }},
      {"finish_time", [](const Candidate& c) -> Cell { return TimeText(c.finish_time()); }},
      {"architecture",
       [](const Candidate& c) -> Cell { return DescribeArchitecture(c.architecture()); }},
  };
}

std::string CsvCell(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return ""; }
    std::string operator()(int64_t v) const { return absl::StrCat(v); }
    std::string operator()(double v) const { return ShortestDouble(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return CsvField(v); }
  };
  return std::visit(Visitor{}, cell);
}

std::string JsonCell(const Cell& cell) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "null"; }
    std::string operator()(int64_t v) const { return absl::StrCat(v); }
    std::string operator()(double v) const {
      return std::isfinite(v) ? ShortestDouble(v) : std::string("null");
    }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return JsonString(v); }
  };
  return std::visit(Visitor{}, cell);
}

std::string Csv(const std::vector<Candidate>& rows, const RowContext& ctx) {
  const std::vector<Column> columns = Columns(ctx);
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) absl::StrAppend(&out, i ? "," : "", columns[i].name);
  out += "\r\n";
  for (const Candidate& c : rows) {
    for (size_t i = 0; i < columns.size(); ++i) {
      absl::StrAppend(&out, i ? "," : "", CsvCell(columns[i].get(c)));
    }
    out += "\r\n";
  }
  return out;
}

}  // namespace

std::string RenderCandidatesCsv(const ReportData& data) {
  const RowContext ctx = MakeRowContext(data);
  return Csv(data.history, ctx);
}

std::string RenderParetoCsv(const ReportData& data) {
  const RowContext ctx = MakeRowContext(data);
  return Csv(data.pareto, ctx);
}

std::string RenderCandidatesJson(const ReportData& data) {
  const RowContext ctx = MakeRowContext(data);
  const std::vector<Column> columns = Columns(ctx);
  std::string out = "{\n\"job\": ";
  absl::StrAppend(&out, ToJson(data.job, /*pretty=*/false), ",\n\"pareto_ids\": [");
  for (size_t i = 0; i < data.pareto.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", data.pareto[i].candidate_id());
  }
  absl::StrAppend(&out, "],\n\"candidates\": [");
  for (size_t r = 0; r < data.history.size(); ++r) {
    const Candidate& c = data.history[r];
    absl::StrAppend(&out, r ? ",\n" : "\n", "  {");
    for (size_t i = 0; i < columns.size(); ++i) {
      absl::StrAppend(&out, i ? ", " : "", JsonString(columns[i].name), ": ",
                      JsonCell(columns[i].get(c)));
    }
    absl::StrAppend(&out, ", \"architecture_spec\": ", ToJson(c.architecture(), /*pretty=*/false),
                    "}");
  }
  absl::StrAppend(&out, data.history.empty() ? "]\n}\n" : "\n]\n}\n");
  return out;
}

}  // namespace unas::report
