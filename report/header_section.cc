// The page's header section (internal::HeaderHtml): the job's name, state
// and chips (dataset, algorithm, space, pruning, seed, times), the summary
// cards (evaluations, feasible, Pareto set, best feasible model) and one
// card per bound with the best feasible model's use of it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "report/format.h"
#include "report/report_internal.h"

namespace unas::report::internal {
namespace {

using v1::Candidate;

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

// "2023-11-14 22:13 UTC" for people.
std::string TimeForPeople(const google::protobuf::Timestamp& t) {
  std::string text = TimeText(t);
  if (text.size() < 16) return text;
  text[10] = ' ';
  return absl::StrCat(text.substr(0, 16), " UTC");
}

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

}  // namespace

std::string HeaderHtml(const ReportData& data, const std::vector<Objective>& objectives,
                       const Candidate* best) {
  const v1::Job& job = data.job;
  const v1::JobSpec& spec = job.spec();
  const std::string state = StateName(job.state());
  std::string out = absl::StrCat(
      "<header class=\"page\">\n<div class=\"eyebrow\">μNAS search report</div>\n<h1 "
      "id=\"job-name\">",
      EscapeHtml(JobTitle(spec)), "</h1>\n<div class=\"meta\">", "<span class=\"chip\">job ",
      job.job_id(), "</span>", "<span class=\"badge state-",
      EscapeHtml(absl::AsciiStrToLower(state)), "\">", EscapeHtml(state), "</span>",
      "<span class=\"chip\">", EscapeHtml(DatasetName(spec.dataset())), "</span>",
      "<span class=\"chip\">", EscapeHtml(AlgorithmName(spec.algorithm())), "</span>");
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
  // Candidates stopped early count towards the rounds.
  const int64_t stopped =
      std::max<int64_t>(p.candidates_stopped(), static_cast<int64_t>(data.stopped.size()));
  const int64_t done =
      std::max<int64_t>(p.evaluations_done(), static_cast<int64_t>(data.history.size())) + stopped;
  const int64_t feasible = CountFeasible(data.history);
  absl::StrAppend(&out, "<section class=\"cards\" id=\"summary\">\n");
  absl::StrAppend(
      &out,
      Card(
          "Evaluations",
          absl::StrCat("<span id=\"evaluations-done\">", done, "</span> <small>/ ",
                       rounds > 0 ? absl::StrCat(rounds) : std::string("?"), "</small>"),
          absl::StrCat(
              p.evaluations_in_flight(), " in flight · ", p.evaluations_queued(), " queued · ",
              p.evaluations_failed(), " failed · ", p.candidates_skipped(), " skipped",
              stopped > 0 || job.spec().has_automated_stopping()
                  ? absl::StrCat(" · <span id=\"stopped-count\">", stopped, "</span> stopped early")
                  : std::string(),
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
      sub = o.bound_note.empty() ? "not constrained; still minimised for the Pareto set"
                                 : o.bound_note;
      if (best != nullptr)
        absl::StrAppend(&sub, "<br>best feasible model: ", o.format(o.value(*best)));
    }
    absl::StrAppend(&out, Card(EscapeHtml(o.name), value, sub));
  }
  absl::StrAppend(&out, "</section>\n");
  return out;
}

}  // namespace unas::report::internal
