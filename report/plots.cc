// The report's plots (RenderJobPlot): error versus peak memory, model size
// and MACs, each with its bounds shaded and the Pareto set on top, and the
// best feasible error versus evaluations. The static page and the
// coordinator's dashboard both draw them here.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/search_space/describe.h"
#include "report/format.h"
#include "report/report.h"
#include "report/report_internal.h"
#include "report/svg_plot.h"

namespace unas::report {
namespace {

using internal::ErrorBoundLabel;
using internal::ErrorName;
using internal::ErrorOf;
using internal::Objective;
using internal::PercentLabel;
using v1::Candidate;

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
                        const std::string& id, const std::string& y_label,
                        const PlotStyles& styles) {
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
  plot.x_format = PercentLabel;
  plot.y_format = resource.format;
  plot.empty_message = "No evaluated candidates yet";

  // Infeasible first, then feasible, then the Pareto set on top.
  const absl::flat_hash_set<int64_t> pareto_ids = internal::CandidateIds(data.pareto);
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
  plot.y_format = PercentLabel;
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

}  // namespace

std::string RenderJobPlot(const ReportData& data, JobPlot plot) {
  const std::vector<Objective> objectives = internal::Objectives(data.job.spec());
  const PlotStyles styles;
  switch (plot) {
    case JobPlot::kPeakMemory:
      return ScatterPlot(data, objectives, 1, "plot-pmu", "peak memory (bytes, log)", styles);
    case JobPlot::kModelSize:
      return ScatterPlot(data, objectives, 2, "plot-size", "model size (bytes, log)", styles);
    case JobPlot::kMacs:
      return ScatterPlot(data, objectives, 3, "plot-macs", "MACs (log)", styles);
    case JobPlot::kProgress:
      break;
  }
  return ProgressPlot(data, objectives, styles);
}

}  // namespace unas::report
