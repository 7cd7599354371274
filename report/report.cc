#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <system_error>
#include <variant>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/objectives/objectives.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/describe.h"
#include "common/status/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "report/format.h"
#include "report/page_template.h"
#include "report/svg_plot.h"

namespace unas::report {
namespace {

using v1::Candidate;

// ---------------------------------------------------------------------------
// The job's bounds as the search applies them.

struct Objective {
  std::string name;        // "peak memory"
  std::string short_name;  // "PMU"
  std::optional<double> bound;
  std::string bound_note;  // why a set bound is not applied
  std::function<double(const Candidate&)> value;
  std::function<std::string(double)> format;
};

std::vector<Objective> Objectives(const v1::JobSpec& spec) {
  const v1::Bounds& b = spec.bounds();
  // The bounds exactly as the search applies them (one implementation,
  // common/objectives/objectives.h); a bound the spec sets but the search
  // drops gets a note.
  const search::BoundVector applied = search::MakeBounds(spec);
  std::vector<Objective> out(4);
  out[0] = {"validation error",
            "error",
            std::nullopt,
            "",
            [](const Candidate& c) { return c.evaluation().validation_error(); },
            [](double v) { return absl::StrCat(FormatMinimalDecimals(v * 100, 2), "%"); }};
  out[1] = {"peak memory",
            "PMU",
            std::nullopt,
            "",
            [](const Candidate& c) { return static_cast<double>(c.metrics().peak_memory_bytes()); },
            [](double v) { return FormatBytes(v); }};
  out[2] = {"model size",
            "size",
            std::nullopt,
            "",
            [](const Candidate& c) { return static_cast<double>(c.metrics().model_size_bytes()); },
            [](double v) { return FormatBytes(v); }};
  out[3] = {"MACs",
            "MACs",
            std::nullopt,
            "",
            [](const Candidate& c) { return static_cast<double>(c.metrics().macs()); },
            [](double v) { return FormatCount(v); }};
  const bool set[search::kNumObjectives] = {b.has_error(), b.has_peak_memory_bytes(),
                                            b.has_model_size_bytes(), b.has_macs()};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].bound = applied[i];
    if (set[i] && !applied[i]) out[i].bound_note = "set, but not applied with unstructured pruning";
  }
  return out;
}

// ---------------------------------------------------------------------------
// Names people read.

std::string StateName(v1::JobState state) {
  std::string name(absl::StripPrefix(v1::JobState_Name(state), "JOB_STATE_"));
  return name.empty() ? "UNKNOWN" : name;
}

std::string DatasetName(const v1::DatasetSpec& dataset) {
  std::string name;
  switch (dataset.name()) {
    case v1::DATASET_NAME_MNIST:
      name = "MNIST";
      break;
    case v1::DATASET_NAME_FASHION_MNIST:
      name = "Fashion-MNIST";
      break;
    case v1::DATASET_NAME_CIFAR10:
      name = "CIFAR-10";
      break;
    case v1::DATASET_NAME_CHARS74K:
      name = "Chars74K";
      break;
    case v1::DATASET_NAME_SPEECH_COMMANDS:
      name = "Speech Commands";
      break;
    case v1::DATASET_NAME_VISUAL_WAKE_WORDS:
      name = "Visual Wake Words";
      break;
    default:
      name = "unspecified dataset";
      break;
  }
  if (dataset.binary()) absl::StrAppend(&name, " (binary)");
  return name;
}

std::string AlgorithmName(const v1::AlgorithmSpec& algorithm) {
  switch (algorithm.kind_case()) {
    case v1::AlgorithmSpec::kAgingEvolution: {
      const auto& a = algorithm.aging_evolution();
      std::vector<std::string> params;
      if (a.has_population_size())
        params.push_back(absl::StrCat("population ", a.population_size()));
      if (a.has_sample_size()) params.push_back(absl::StrCat("sample ", a.sample_size()));
      return params.empty() ? "aging evolution"
                            : absl::StrCat("aging evolution (", absl::StrJoin(params, ", "), ")");
    }
    case v1::AlgorithmSpec::kBayesianOptimization:
      return algorithm.bayesian_optimization().multi_fidelity()
                 ? "Bayesian optimisation (multi-fidelity)"
                 : "Bayesian optimisation";
    case v1::AlgorithmSpec::kRandomSearch:
      return "random search";
    default:
      return "aging evolution (default)";
  }
}

int Rounds(const v1::Job& job) {
  if (job.progress().rounds() > 0) return job.progress().rounds();
  return job.spec().algorithm().rounds();
}

// RFC 3339 ("2023-11-14T22:13:20Z"), or "" when unset.
std::string TimeText(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return google::protobuf::util::TimeUtil::ToString(t);
}

// "2023-11-14 22:13 UTC" for people.
std::string TimeForPeople(const google::protobuf::Timestamp& t) {
  std::string text = TimeText(t);
  if (text.size() < 16) return text;
  text[10] = ' ';
  return absl::StrCat(text.substr(0, 16), " UTC");
}

std::string ParentText(const Candidate& c) {
  return c.has_parent_id() ? absl::StrCat("#", c.parent_id()) : "random";
}

double ErrorOf(const Candidate& c, ErrorMetric metric) {
  return metric == ErrorMetric::kTest ? c.evaluation().test_error()
                                      : c.evaluation().validation_error();
}

std::string ErrorName(ErrorMetric metric) {
  return metric == ErrorMetric::kTest ? "test error" : "validation error";
}

std::string PercentLabel(double v) { return absl::StrCat(FormatMinimalDecimals(v * 100, 2), "%"); }

// The error bound's label; it applies to the validation error, which the
// label says where the plot shows the test error.
std::string ErrorBoundLabel(double bound, ErrorMetric metric) {
  return absl::StrCat("error bound ", PercentLabel(bound),
                      metric == ErrorMetric::kTest ? " (validation)" : "");
}

// The feasible candidate with the lowest error (the earliest of equals), or
// null.
const Candidate* BestFeasible(const std::vector<Candidate>& history, ErrorMetric metric) {
  const Candidate* best = nullptr;
  for (const Candidate& c : history) {
    if (!c.feasible() || !std::isfinite(ErrorOf(c, metric))) continue;
    if (best == nullptr || ErrorOf(c, metric) < ErrorOf(*best, metric)) best = &c;
  }
  return best;
}

// ---------------------------------------------------------------------------
// The rows of candidates.csv, pareto.csv and candidates.json.

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
  for (const Candidate& c : data.pareto) ctx.pareto_ids.insert(c.candidate_id());
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

// ---------------------------------------------------------------------------
// Plots.

// Style(css class, fill, stroke, stroke width, fill opacity, radius, dash).
svg::Style MakeStyle(std::string css_class, std::string fill, std::string stroke,
                     double stroke_width, double opacity, double radius, std::string dash = "") {
  svg::Style s;
  s.css_class = std::move(css_class);
  s.fill = std::move(fill);
  s.stroke = std::move(stroke);
  s.stroke_width = stroke_width;
  s.opacity = opacity;
  s.radius = radius;
  s.dash = std::move(dash);
  return s;
}

struct PlotStyles {
  svg::Style pareto = MakeStyle("pt pt-pareto", "#e8590c", "#7a2e06", 1.2, 1, 5.5);
  svg::Style feasible = MakeStyle("pt pt-feasible", "#1c7ed6", "#1864ab", 0.6, 0.55, 4);
  svg::Style infeasible = MakeStyle("pt pt-infeasible", "none", "#9aa3ab", 1.2, 1, 3.6);
  svg::Style bound = MakeStyle("bound-line", "none", "#c92a2a", 1.4, 1, 0, "6 4");
  svg::Style best_line = MakeStyle("best-line", "none", "#0b7285", 2.4, 1, 0);
  svg::Style small_feasible = MakeStyle("pt pt-feasible", "#1c7ed6", "none", 0, 0.45, 3);
  svg::Style small_infeasible = MakeStyle("pt pt-infeasible", "none", "#adb5bd", 1, 1, 2.8);
  svg::Style best_step = MakeStyle("best-step", "#0b7285", "#ffffff", 1.2, 1, 4);
};

std::string Tooltip(const Candidate& c, bool pareto) {
  std::string text = absl::StrCat(
      "#", c.candidate_id(), pareto ? " (Pareto)" : (c.feasible() ? "" : " (infeasible)"),
      "\nvalidation error ", FormatPercent(c.evaluation().validation_error()), ", test error ",
      FormatPercent(c.evaluation().test_error()));
  if (c.evaluation().has_int8_test_error()) {
    absl::StrAppend(&text, ", int8 ", FormatPercent(c.evaluation().int8_test_error()));
  }
  absl::StrAppend(&text, "\nPMU ",
                  FormatBytes(static_cast<double>(c.metrics().peak_memory_bytes())), ", size ",
                  FormatBytes(static_cast<double>(c.metrics().model_size_bytes())), " (deployed ",
                  FormatBytes(static_cast<double>(c.metrics().model_size_deployed_bytes())),
                  "), MACs ", FormatCount(static_cast<double>(c.metrics().macs())), "\n",
                  DescribeArchitecture(c.architecture()));
  return text;
}

// Every evaluated candidate once: the history, then Pareto members the
// history lacks (a caller may pass a shortened history).
std::vector<const Candidate*> PlottedCandidates(const ReportData& data) {
  std::vector<const Candidate*> out;
  absl::flat_hash_set<int64_t> seen;
  for (const Candidate& c : data.history) {
    if (seen.insert(c.candidate_id()).second) out.push_back(&c);
  }
  for (const Candidate& c : data.pareto) {
    if (seen.insert(c.candidate_id()).second) out.push_back(&c);
  }
  return out;
}

std::string ScatterPlot(const ReportData& data, const std::vector<Objective>& objectives, int index,
                        const std::string& id, const std::string& y_label, const PlotStyles& styles,
                        const absl::flat_hash_set<int64_t>& pareto_ids) {
  const Objective& error = objectives[0];
  const Objective& resource = objectives[index];
  const ErrorMetric metric = data.error_metric;
  svg::Plot plot;
  plot.id = id;
  plot.css_class = "plot scatter";
  plot.title = absl::StrCat("Error vs ", resource.name);
  plot.x_label = ErrorName(metric);
  plot.y_label = y_label;
  plot.x_scale = svg::Scale::kLinear;
  plot.y_scale = svg::Scale::kLog;
  plot.x_format = [](double v) { return absl::StrCat(FormatMinimalDecimals(v * 100, 2), "%"); };
  plot.y_format = resource.format;
  plot.empty_message = "No evaluated candidates yet";

  // Infeasible first, then feasible, then the Pareto set on top.
  const std::vector<const Candidate*> candidates = PlottedCandidates(data);
  for (int layer = 0; layer < 3; ++layer) {
    for (const Candidate* c : candidates) {
      const bool pareto = pareto_ids.contains(c->candidate_id());
      const int kind = pareto ? 2 : (c->feasible() ? 1 : 0);
      if (kind != layer) continue;
      const double x = ErrorOf(*c, metric);
      const double y = resource.value(*c);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      plot.points.push_back({.x = x,
                             .y = y,
                             .style = kind == 2   ? &styles.pareto
                                      : kind == 1 ? &styles.feasible
                                                  : &styles.infeasible,
                             .tooltip = Tooltip(*c, pareto),
                             .id = absl::StrCat(c->candidate_id())});
    }
  }
  plot.legend = {{svg::Marker::kDot, &styles.pareto, "Pareto set"},
                 {svg::Marker::kDot, &styles.feasible, "feasible"},
                 {svg::Marker::kHollow, &styles.infeasible, "infeasible"}};
  if (error.bound) {
    plot.ref_lines.push_back({.vertical = true,
                              .value = *error.bound,
                              .label = ErrorBoundLabel(*error.bound, metric),
                              .style = &styles.bound});
    plot.shade_x_max = *error.bound;
  }
  if (resource.bound) {
    plot.ref_lines.push_back(
        {.vertical = false,
         .value = *resource.bound,
         .label = absl::StrCat(resource.short_name, " bound ", resource.format(*resource.bound)),
         .style = &styles.bound});
    plot.shade_y_max = *resource.bound;
  }
  if (error.bound || resource.bound) {
    plot.legend.push_back({svg::Marker::kDashedLine, &styles.bound, "bound"});
  }
  return svg::Render(plot);
}

std::string ProgressPlot(const ReportData& data, const std::vector<Objective>& objectives,
                         const PlotStyles& styles) {
  svg::Plot plot;
  plot.id = "plot-progress";
  plot.css_class = "plot progress";
  plot.title = "Best feasible error vs evaluations";
  plot.x_label = "evaluations";
  plot.y_label = ErrorName(data.error_metric);
  plot.x_integer = true;
  plot.x_format = [](double v) { return FormatMinimalDecimals(v, 0); };
  plot.y_format = [](double v) { return absl::StrCat(FormatMinimalDecimals(v * 100, 2), "%"); };
  plot.empty_message = "No evaluated candidates yet";

  svg::Polyline best{.points = {}, .step = true, .style = &styles.best_line};
  std::optional<double> best_error;
  std::vector<svg::Point> feasible_points;
  std::vector<svg::Point> best_markers;
  for (size_t i = 0; i < data.history.size(); ++i) {
    const Candidate& c = data.history[i];
    const double n = static_cast<double>(i + 1);
    const double e = ErrorOf(c, data.error_metric);
    if (!std::isfinite(e)) continue;
    svg::Point point{.x = n,
                     .y = e,
                     .style = c.feasible() ? &styles.small_feasible : &styles.small_infeasible,
                     .tooltip = absl::StrCat("evaluation ", i + 1, ": ", Tooltip(c, false)),
                     .id = absl::StrCat(c.candidate_id())};
    // Infeasible under feasible: the feasible ones carry the line.
    if (c.feasible()) {
      feasible_points.push_back(std::move(point));
      if (!best_error || e < *best_error) {
        best_error = e;
        best.points.push_back({n, e});
        best_markers.push_back(
            {.x = n,
             .y = e,
             .style = &styles.best_step,
             .tooltip = absl::StrCat("new best at evaluation ", i + 1, ": ", Tooltip(c, false)),
             .id = absl::StrCat(c.candidate_id())});
      }
    } else {
      plot.points.push_back(std::move(point));
    }
  }
  for (svg::Point& p : feasible_points) plot.points.push_back(std::move(p));
  // A marker where the best improved (also shows a lone first point).
  for (svg::Point& p : best_markers) plot.points.push_back(std::move(p));
  if (!best.points.empty()) {
    // Carry the last best to the latest evaluation.
    const double last = static_cast<double>(data.history.size());
    if (best.points.back().first < last) best.points.push_back({last, *best_error});
    plot.lines.push_back(best);
  }
  plot.legend = {{svg::Marker::kLine, &styles.best_line, "best feasible"},
                 {svg::Marker::kDot, &styles.small_feasible, "feasible"},
                 {svg::Marker::kHollow, &styles.small_infeasible, "infeasible"}};
  if (objectives[0].bound) {
    plot.ref_lines.push_back({.vertical = false,
                              .value = *objectives[0].bound,
                              .label = ErrorBoundLabel(*objectives[0].bound, data.error_metric),
                              .style = &styles.bound});
    plot.legend.push_back({svg::Marker::kDashedLine, &styles.bound, "bound"});
  }
  if (!data.history.empty() && best.points.empty()) {
    plot.notice = "No feasible candidate yet";
  }
  return svg::Render(plot);
}

// ---------------------------------------------------------------------------
// The page.

std::string Card(absl::string_view label, absl::string_view value_html, absl::string_view sub_html,
                 absl::string_view extra_class = "") {
  return absl::StrCat(
      "<div class=\"card", extra_class.empty() ? "" : " ", extra_class, "\"><div class=\"label\">",
      label, "</div><div class=\"value\">", value_html, "</div>",
      sub_html.empty() ? "" : absl::StrCat("<div class=\"sub\">", sub_html, "</div>"), "</div>\n");
}

std::string Bar(double fraction, bool over) {
  const double pct = std::clamp(fraction, 0.0, 1.0) * 100;
  return absl::StrCat("<div class=\"bar", over ? " over" : "",
                      "\"><div style=\"width:", FormatMinimalDecimals(std::round(pct * 10) / 10, 1),
                      "%\"></div></div>");
}

std::string HeaderHtml(const ReportData& data, const std::vector<Objective>& objectives,
                       const Candidate* best) {
  const v1::Job& job = data.job;
  const v1::JobSpec& spec = job.spec();
  const std::string state = StateName(job.state());
  std::string out = absl::StrCat(
      "<header class=\"page\">\n<div class=\"eyebrow\">μNAS search report</div>\n<h1 "
      "id=\"job-name\">",
      EscapeHtml(spec.name().empty() ? "(unnamed job)" : spec.name()),
      "</h1>\n<div class=\"meta\">", "<span class=\"chip\">job ", job.job_id(), "</span>",
      "<span class=\"badge state-", EscapeHtml(absl::AsciiStrToLower(state)), "\">",
      EscapeHtml(state), "</span>", "<span class=\"chip\">",
      EscapeHtml(DatasetName(spec.dataset())), "</span>", "<span class=\"chip\">",
      EscapeHtml(AlgorithmName(spec.algorithm())), "</span>");
  if (spec.search_space().kind() == v1::SEARCH_SPACE_KIND_CNN) {
    absl::StrAppend(&out, "<span class=\"chip\">CNN space</span>");
  } else if (spec.search_space().kind() == v1::SEARCH_SPACE_KIND_MLP) {
    absl::StrAppend(&out, "<span class=\"chip\">MLP space</span>");
  }
  if (spec.training().has_pruning()) {
    absl::StrAppend(&out, "<span class=\"chip\">",
                    spec.training().pruning().structured() ? "structured" : "unstructured",
                    " pruning</span>");
  }
  if (spec.training().has_distillation())
    absl::StrAppend(&out, "<span class=\"chip\">distillation</span>");
  if (spec.has_seed()) absl::StrAppend(&out, "<span class=\"chip\">seed ", spec.seed(), "</span>");
  const std::string created = TimeForPeople(job.create_time());
  const std::string updated = TimeForPeople(job.update_time());
  if (!created.empty() || !updated.empty()) {
    absl::StrAppend(&out, "<span class=\"chip\">",
                    created.empty() ? "" : absl::StrCat("created ", EscapeHtml(created)),
                    !created.empty() && !updated.empty() ? " · " : "",
                    updated.empty() ? "" : absl::StrCat("updated ", EscapeHtml(updated)),
                    "</span>");
  }
  absl::StrAppend(&out, "</div>\n");
  if (!job.failure_reason().empty()) {
    absl::StrAppend(&out, "<div class=\"alert\"><b>Job failed:</b> ",
                    EscapeHtml(job.failure_reason()), "</div>\n");
  }
  absl::StrAppend(&out, "</header>\n");

  // Summary cards.
  const v1::JobProgress& p = job.progress();
  const int rounds = Rounds(job);
  const int64_t done =
      std::max<int64_t>(p.evaluations_done(), static_cast<int64_t>(data.history.size()));
  int64_t feasible = 0;
  for (const Candidate& c : data.history) feasible += c.feasible() ? 1 : 0;
  absl::StrAppend(&out, "<section class=\"cards\" id=\"summary\">\n");
  absl::StrAppend(
      &out,
      Card("Evaluations",
           absl::StrCat("<span id=\"evaluations-done\">", done, "</span> <small>/ ",
                        rounds > 0 ? absl::StrCat(rounds) : std::string("?"), "</small>"),
           absl::StrCat(
               p.evaluations_in_flight(), " in flight · ", p.evaluations_queued(), " queued · ",
               p.evaluations_failed(), " failed · ", p.candidates_skipped(), " skipped",
               rounds > 0 ? Bar(static_cast<double>(done) / rounds, false) : std::string())));
  absl::StrAppend(
      &out,
      Card("Feasible", absl::StrCat(feasible, " <small>of ", data.history.size(), "</small>"),
           absl::StrCat(p.feasible_in_last_25(), " of the last 25 within every bound",
                        data.history.empty() ? std::string()
                                             : Bar(static_cast<double>(feasible) /
                                                       static_cast<double>(data.history.size()),
                                                   false))));
  absl::StrAppend(&out,
                  Card("Pareto set", absl::StrCat(data.pareto.size(), " <small>models</small>"),
                       "feasible and non-dominated in error, PMU, size and MACs"));
  if (best != nullptr) {
    const auto& e = best->evaluation();
    const auto& m = best->metrics();
    std::string grid = absl::StrCat(
        "<div class=\"best-grid\">", "<div><span>validation error</span><b>",
        FormatPercent(e.validation_error()), "</b></div>", "<div><span>int8 test error</span><b>",
        e.has_int8_test_error() ? FormatPercent(e.int8_test_error()) : std::string("—"),
        "</b></div>", "<div><span>peak memory</span><b>",
        FormatBytes(static_cast<double>(m.peak_memory_bytes())), "</b></div>",
        "<div><span>model size (deployed)</span><b>",
        FormatBytes(static_cast<double>(m.model_size_bytes())), " (",
        FormatBytes(static_cast<double>(m.model_size_deployed_bytes())), ")</b></div>",
        "<div><span>MACs</span><b>", FormatCount(static_cast<double>(m.macs())), "</b></div>",
        "<div><span>candidate</span><b>#", best->candidate_id(), "</b></div></div>");
    absl::StrAppend(&out, Card("Best feasible model · test error",
                               absl::StrCat("<span id=\"best-test-error\">",
                                            FormatPercent(e.test_error()), "</span>"),
                               grid, "best"));
  } else {
    absl::StrAppend(&out,
                    Card("Best feasible model", "<span class=\"unbounded\">none yet</span>",
                         data.history.empty() ? "no candidate evaluated yet"
                                              : "no evaluated candidate is within every bound",
                         "best"));
  }
  absl::StrAppend(&out, "</section>\n");

  // Bounds, with the best feasible model's use of each.
  absl::StrAppend(&out, "<h2>Bounds</h2>\n<section class=\"bounds\" id=\"bounds\">\n");
  const v1::Bounds& b = spec.bounds();
  const bool set[4] = {b.has_error(), b.has_peak_memory_bytes(), b.has_model_size_bytes(),
                       b.has_macs()};
  for (int i = 0; i < 4; ++i) {
    const Objective& o = objectives[i];
    std::string value;
    std::string sub;
    if (o.bound) {
      value = absl::StrCat("≤ ", o.format(*o.bound));
      if (i > 0)
        absl::StrAppend(&value, " <small>", GroupThousands(static_cast<int64_t>(*o.bound)),
                        i == 3 ? "" : " B", "</small>");
      if (best != nullptr) {
        const double v = o.value(*best);
        const double use = *o.bound > 0 ? v / *o.bound : 0;
        sub = absl::StrCat("best feasible model: ", o.format(v), " (",
                           FormatMinimalDecimals(std::round(use * 1000) / 10, 1), "% of the bound)",
                           Bar(use, use > 1));
      } else {
        sub = "no feasible model yet";
      }
    } else {
      value = "<span class=\"unbounded\">unbounded</span>";
      sub = set[i] ? o.bound_note : "not constrained; still minimised for the Pareto set";
      if (best != nullptr)
        absl::StrAppend(&sub, "<br>best feasible model: ", o.format(o.value(*best)));
    }
    absl::StrAppend(&out, Card(EscapeHtml(o.name), value, sub));
  }
  absl::StrAppend(&out, "</section>\n");
  return out;
}

std::string ParetoTableHtml(const ReportData& data, const Candidate* best) {
  bool any_int8 = false;
  for (const Candidate& c : data.pareto) any_int8 |= c.evaluation().has_int8_test_error();
  std::string out = absl::StrCat(
      "<div class=\"table-wrap\"><table id=\"pareto-table\">\n<thead><tr>",
      "<th class=\"num\">candidate</th><th class=\"num\">test error</th>",
      "<th class=\"num\">val. error</th>", any_int8 ? "<th class=\"num\">int8 test error</th>" : "",
      "<th class=\"num\">PMU <small>B</small></th>",
      "<th class=\"num\">model size <small>B, μNAS</small></th>",
      "<th class=\"num\">model size <small>B, int8 deployed</small></th>",
      "<th class=\"num\">MACs</th><th>architecture</th><th class=\"num\">parent</th>",
      "</tr></thead>\n<tbody>\n");
  if (data.pareto.empty()) {
    absl::StrAppend(&out, "<tr><td class=\"empty\" colspan=\"", any_int8 ? 10 : 9,
                    "\">No feasible candidate yet: the Pareto set is empty.</td></tr>\n");
  }
  for (const Candidate& c : data.pareto) {
    const auto& e = c.evaluation();
    const auto& m = c.metrics();
    const bool is_best = best != nullptr && best->candidate_id() == c.candidate_id();
    absl::StrAppend(
        &out, "<tr class=\"pareto-row", is_best ? " best-row" : "", "\" data-id=\"",
        c.candidate_id(), "\"><td class=\"num\">#", c.candidate_id(),
        is_best ? "<span class=\"tag\">BEST</span>" : "",
        data.exports_dir.empty() ? std::string()
                                 : absl::StrCat(" <a href=\"", EscapeHtml(data.exports_dir),
                                                "/candidate-", c.candidate_id(), "/\">export</a>"),
        "</td><td class=\"num\">", FormatPercent(e.test_error()), "</td><td class=\"num\">",
        FormatPercent(e.validation_error()), "</td>",
        any_int8 ? absl::StrCat("<td class=\"num\">",
                                e.has_int8_test_error() ? FormatPercent(e.int8_test_error())
                                                        : std::string("—"),
                                "</td>")
                 : std::string(),
        "<td class=\"num\">", GroupThousands(m.peak_memory_bytes()), "</td><td class=\"num\">",
        GroupThousands(m.model_size_bytes()), "</td><td class=\"num\">",
        GroupThousands(m.model_size_deployed_bytes()), "</td><td class=\"num\" title=\"",
        GroupThousands(m.macs()), "\">", FormatCount(static_cast<double>(m.macs())),
        "</td><td class=\"arch\">", EscapeHtml(DescribeArchitecture(c.architecture())),
        "</td><td class=\"num\">", EscapeHtml(ParentText(c)), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody></table></div>\n");
  return out;
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
    file.write(content.data(), static_cast<std::streamsize>(content.size()));
    file.close();
    if (!file) return absl::InternalError(absl::StrCat("error writing ", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::InternalError(absl::StrCat("cannot move ", tmp.string(), " to ", path.string()));
  }
  return absl::OkStatus();
}

// The three scatter plots: objective index, <svg> id, y label, caption.
struct ScatterSpec {
  int index;
  const char* id;
  const char* y_label;
  const char* caption;
};
constexpr ScatterSpec kScatters[] = {
    {1, "plot-pmu", "peak memory (bytes, log)",
     "Peak memory: activation buffers with the best operator order, model input excluded."},
    {2, "plot-size", "model size (bytes, log)",
     "Model size as μNAS counts it: one byte per (non-zero) weight and bias."},
    {3, "plot-macs", "MACs (log)", "Multiply-accumulates: conv and dense, plus pooling and Add."},
};

}  // namespace

std::string RenderHtml(const ReportData& data) {
  const std::vector<Objective> objectives = Objectives(data.job.spec());
  const Candidate* best = BestFeasible(data.history, data.error_metric);
  const std::string error_name = ErrorName(data.error_metric);
  const PlotStyles styles;
  absl::flat_hash_set<int64_t> pareto_ids;
  for (const Candidate& c : data.pareto) pareto_ids.insert(c.candidate_id());
  const std::string name =
      data.job.spec().name().empty() ? "(unnamed job)" : data.job.spec().name();

  int64_t infeasible = 0;
  for (const Candidate& c : data.history) infeasible += c.feasible() ? 0 : 1;
  const std::string counts = absl::StrCat(data.history.size(), " evaluated · ", data.pareto.size(),
                                          " on the Pareto set · ", infeasible,
                                          " infeasible (hollow). Hover a point for its details.");

  std::string plots;
  for (const ScatterSpec& s : kScatters) {
    absl::StrAppend(&plots, "<figure>\n",
                    ScatterPlot(data, objectives, s.index, s.id, s.y_label, styles, pareto_ids),
                    "<figcaption>", EscapeHtml(s.caption), " ", counts,
                    " The shaded region is within the plotted bounds.</figcaption>\n</figure>\n");
  }
  absl::StrAppend(
      &plots, "<figure>\n", ProgressPlot(data, objectives, styles),
      "<figcaption>Each dot is one evaluation in the order results arrived; the line is the "
      "lowest ",
      error_name,
      " among the feasible candidates so far, with a marker at each "
      "improvement.</figcaption>\n</figure>\n");

  // The page itself is report/page.html, with these placeholders.
  std::string out =
      absl::StrReplaceAll(kPageTemplate, {{"{{title}}", EscapeHtml(name)},
                                          {"{{header}}", HeaderHtml(data, objectives, best)},
                                          {"{{plots}}", plots},
                                          {"{{pareto_count}}", absl::StrCat(data.pareto.size())},
                                          {"{{error_name}}", error_name},
                                          {"{{pareto_table}}", ParetoTableHtml(data, best)},
                                          {"{{job_id}}", absl::StrCat(data.job.job_id())}});
  return out;
}

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

std::string RenderJobPlot(const ReportData& data, JobPlot plot) {
  const std::vector<Objective> objectives = Objectives(data.job.spec());
  const PlotStyles styles;
  if (plot == JobPlot::kProgress) return ProgressPlot(data, objectives, styles);
  absl::flat_hash_set<int64_t> pareto_ids;
  for (const Candidate& c : data.pareto) pareto_ids.insert(c.candidate_id());
  const ScatterSpec& s = plot == JobPlot::kPeakMemory  ? kScatters[0]
                         : plot == JobPlot::kModelSize ? kScatters[1]
                                                       : kScatters[2];
  return ScatterPlot(data, objectives, s.index, s.id, s.y_label, styles, pareto_ids);
}

absl::Status WriteReport(const ReportData& data, const std::string& out_dir) {
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return absl::InternalError(absl::StrCat("cannot create report folder ", out_dir,
                                            ec ? absl::StrCat(": ", ec.message()) : std::string()));
  }
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "candidates.csv", RenderCandidatesCsv(data)));
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "candidates.json", RenderCandidatesJson(data)));
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "pareto.csv", RenderParetoCsv(data)));
  // The page last: it links to the data files.
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "index.html", RenderHtml(data)));
  return absl::OkStatus();
}

}  // namespace unas::report
