#include "coordinator/http/dashboard_data.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/resource_graph.h"
#include "common/search_space/space.h"
#include "coordinator/http/network_svg.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "report/format.h"
#include "report/report.h"
#include "report/svg_plot.h"
#include "resource_models/dot_export.h"
#include "spdlog/spdlog.h"

namespace unas::dashboard {
namespace {

using google::protobuf::util::TimeUtil;
using report::JsonString;

constexpr int kPaceWindow = 20;

std::string ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  // Fails only on invalid UTF-8 or Any types, neither of which we have.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string Number(double v) { return std::isfinite(v) ? report::ShortestDouble(v) : "null"; }
std::string Number(const std::optional<double>& v) { return v ? Number(*v) : "null"; }

std::string StateName(v1::JobState state) {
  return std::string(absl::StripPrefix(v1::JobState_Name(state), "JOB_STATE_"));
}

double Seconds(const google::protobuf::Timestamp& t) {
  return static_cast<double>(TimeUtil::TimestampToMilliseconds(t)) / 1000.0;
}

// A candidate without its weights and int8 model (large, and of no use on a page).
v1::Candidate Light(v1::Candidate c) {
  c.mutable_evaluation()->clear_trained_weights();
  c.mutable_evaluation()->clear_quantized_model();
  return c;
}

// The few numbers a table row of a candidate needs.
std::string CandidateRow(const v1::Candidate& c) {
  return absl::StrCat(
      "{\"candidate_id\": ", c.candidate_id(),
      ", \"parent_id\": ", c.has_parent_id() ? absl::StrCat(c.parent_id()) : "null",
      ", \"state\": ",
      JsonString(absl::StripPrefix(v1::CandidateState_Name(c.state()), "CANDIDATE_STATE_")),
      ", \"feasible\": ", c.feasible() ? "true" : "false",
      ", \"validation_error\": ", Number(c.evaluation().validation_error()),
      ", \"test_error\": ", Number(c.evaluation().test_error()),
      ", \"peak_memory_bytes\": ", c.metrics().peak_memory_bytes(),
      ", \"model_size_bytes\": ", c.metrics().model_size_bytes(),
      ", \"macs\": ", c.metrics().macs(), ", \"worker_id\": ", JsonString(c.worker_id()), "}");
}

const v1::Candidate* BestFeasible(const std::vector<v1::Candidate>& history) {
  const v1::Candidate* best = nullptr;
  for (const v1::Candidate& c : history) {
    if (!c.feasible()) continue;
    if (best == nullptr || c.evaluation().test_error() < best->evaluation().test_error()) best = &c;
  }
  return best;
}

report::ReportData ReportDataOf(const JobSnapshot& snapshot) {
  report::ReportData data;
  data.job = snapshot.job;
  data.history = snapshot.history;
  data.pareto = snapshot.pareto;
  data.error_metric = report::ErrorMetric::kTest;
  return data;
}

}  // namespace

JobPace ComputePace(const v1::Job& job, const std::vector<v1::Candidate>& history) {
  JobPace pace;
  const size_t k = std::min<size_t>(history.size(), kPaceWindow);
  if (k < 2) return pace;
  double first = Seconds(history[history.size() - k].finish_time());
  double last = first;
  for (size_t i = history.size() - k; i < history.size(); ++i) {
    first = std::min(first, Seconds(history[i].finish_time()));
    last = std::max(last, Seconds(history[i].finish_time()));
  }
  if (!(last > first)) return pace;
  pace.evaluations_per_hour = static_cast<double>(k - 1) / (last - first) * 3600.0;
  if (job.state() == v1::JOB_STATE_RUNNING) {
    const int rounds =
        job.progress().rounds() > 0 ? job.progress().rounds() : job.spec().algorithm().rounds();
    // Candidates stopped early count towards the rounds.
    const double left = std::max(
        0, rounds - job.progress().evaluations_done() - job.progress().candidates_stopped());
    pace.eta_seconds = left / *pace.evaluations_per_hour * 3600.0;
  }
  return pace;
}

std::string JobVersion(const v1::Job& job) {
  const v1::JobProgress& p = job.progress();
  return absl::StrCat(p.evaluations_done(), "-", p.evaluations_failed(), "-",
                      p.candidates_skipped(), "-", p.candidates_stopped(), "-",
                      StateName(job.state()));
}

absl::StatusOr<std::shared_ptr<const JobSnapshot>> DashboardData::Snapshot(int64_t job_id) {
  absl::StatusOr<v1::Job> job = coordinator_->GetJob(job_id);
  if (!job.ok()) return job.status();
  return cache_.Get(*job);
}

std::string DashboardData::SummaryJson(const JobSnapshot& snapshot) {
  const v1::Job& job = snapshot.job;
  const v1::JobProgress& p = job.progress();
  const JobPace pace = ComputePace(job, snapshot.history);
  const v1::Candidate* best = BestFeasible(snapshot.history);
  int64_t feasible = 0;
  for (const v1::Candidate& c : snapshot.history) feasible += c.feasible() ? 1 : 0;
  const int rounds = p.rounds() > 0 ? p.rounds() : job.spec().algorithm().rounds();
  return absl::StrCat(
      "{\"job_id\": ", job.job_id(), ", \"name\": ", JsonString(job.spec().name()),
      ", \"state\": ", JsonString(StateName(job.state())), ", \"rounds\": ", rounds,
      ", \"evaluations_done\": ", p.evaluations_done(),
      ", \"evaluations_in_flight\": ", p.evaluations_in_flight(),
      ", \"evaluations_queued\": ", p.evaluations_queued(),
      ", \"evaluations_failed\": ", p.evaluations_failed(),
      ", \"candidates_skipped\": ", p.candidates_skipped(),
      ", \"candidates_stopped\": ", p.candidates_stopped(),
      ", \"automated_stopping\": ", job.spec().has_automated_stopping() ? "true" : "false",
      ", \"feasible\": ", feasible, ", \"pareto_size\": ", snapshot.pareto.size(),
      ", \"best_feasible_validation_error\": ",
      p.has_best_feasible_error() ? Number(p.best_feasible_error()) : "null",
      ", \"best_feasible_test_error\": ", best ? Number(best->evaluation().test_error()) : "null",
      ", \"best_candidate_id\": ", best ? absl::StrCat(best->candidate_id()) : "null",
      ", \"evaluations_per_hour\": ", Number(pace.evaluations_per_hour),
      ", \"eta_seconds\": ", Number(pace.eta_seconds), "}");
}

absl::StatusOr<std::string> DashboardData::JobsJson() {
  std::string out = "{\"jobs\": [";
  bool first = true;
  for (const v1::Job& job : coordinator_->ListJobs({})) {
    absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = cache_.Get(job);
    if (!snapshot.ok()) return snapshot.status();
    absl::StrAppend(&out, first ? "\n" : ",\n", "{\"summary\": ", SummaryJson(**snapshot),
                    ", \"create_time\": ", JsonString(TimeUtil::ToString(job.create_time())),
                    ", \"update_time\": ", JsonString(TimeUtil::ToString(job.update_time())), "}");
    first = false;
  }
  const absl::Status store = coordinator_->StoreHealth();
  absl::StrAppend(&out, "\n], \"store_error\": ", store.ok() ? "null" : JsonString(store.message()),
                  "}\n");
  return out;
}

absl::StatusOr<std::string> DashboardData::JobJson(int64_t job_id, const std::string& changed_since,
                                                   absl::Duration max_wait) {
  if (!changed_since.empty()) {
    // Events after this cursor wake us; the version is read after taking it,
    // so no change can slip between the two.
    int64_t cursor = 0;
    std::vector<v1::JobEvent> events;
    absl::StatusOr<bool> more =
        coordinator_->NextEvents(job_id, &cursor, absl::ZeroDuration(), &events);
    if (!more.ok()) return more.status();
    const absl::Time deadline = absl::Now() + max_wait;
    bool logged = false;
    while (*more && !stopping_ && absl::Now() < deadline) {
      absl::StatusOr<v1::Job> job = coordinator_->GetJob(job_id);
      if (!job.ok()) return job.status();
      if (JobVersion(*job) != changed_since) break;
      if (!logged) {
        spdlog::debug("dashboard: waiting for job {} to change from {}", job_id, changed_since);
        logged = true;
      }
      events.clear();
      // One-second slices: Stop() ends a wait within a second.
      more = coordinator_->NextEvents(job_id, &cursor,
                                      std::min(absl::Seconds(1), deadline - absl::Now()), &events);
      if (!more.ok()) return more.status();
    }
  }
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = Snapshot(job_id);
  if (!snapshot.ok()) return snapshot.status();
  std::string pareto_ids;
  for (const v1::Candidate& c : (*snapshot)->pareto) {
    absl::StrAppend(&pareto_ids, pareto_ids.empty() ? "" : ", ", c.candidate_id());
  }
  return absl::StrCat("{\"version\": ", JsonString(JobVersion((*snapshot)->job)),
                      ",\n\"job\": ", ProtoJson((*snapshot)->job),
                      ",\n\"summary\": ", SummaryJson(**snapshot), ",\n\"pareto_ids\": [",
                      pareto_ids, "]}\n");
}

absl::StatusOr<std::string> DashboardData::HistoryJson(int64_t job_id) {
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = Snapshot(job_id);
  if (!snapshot.ok()) return snapshot.status();
  return report::RenderCandidatesJson(ReportDataOf(**snapshot));
}

absl::StatusOr<std::string> DashboardData::PopulationJson(int64_t job_id) {
  v1::ListCandidatesRequest request;
  request.set_job_id(job_id);
  request.set_population_only(true);
  request.set_page_size(1000);
  absl::StatusOr<v1::ListCandidatesResponse> page = coordinator_->ListCandidates(request);
  if (!page.ok() && page.status().code() == absl::StatusCode::kInvalidArgument) {
    return absl::StrCat("{\"candidates\": [], \"note\": ", JsonString(page.status().message()),
                        "}\n");
  }
  if (!page.ok()) return page.status();
  std::string out = "{\"candidates\": [";
  for (int i = 0; i < page->candidates_size(); ++i) {
    absl::StrAppend(&out, i ? ",\n" : "\n", CandidateRow(page->candidates(i)));
  }
  absl::StrAppend(&out, "\n]}\n");
  return out;
}

absl::StatusOr<std::string> DashboardData::PlotSvg(int64_t job_id, absl::string_view name) {
  report::JobPlot plot;
  if (name == "pmu") {
    plot = report::JobPlot::kPeakMemory;
  } else if (name == "size") {
    plot = report::JobPlot::kModelSize;
  } else if (name == "macs") {
    plot = report::JobPlot::kMacs;
  } else if (name == "progress") {
    plot = report::JobPlot::kProgress;
  } else {
    return absl::NotFoundError(absl::StrCat("no plot \"", name, "\" (pmu, size, macs, progress)"));
  }
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = Snapshot(job_id);
  if (!snapshot.ok()) return snapshot.status();
  return report::RenderJobPlot(ReportDataOf(**snapshot), plot);
}

absl::StatusOr<std::string> DashboardData::CandidateJson(int64_t job_id, int64_t candidate_id) {
  absl::StatusOr<v1::Candidate> candidate = coordinator_->GetCandidate(job_id, candidate_id);
  if (!candidate.ok()) return candidate.status();
  // Lineage: the ancestors, oldest first, then the candidate itself.
  std::vector<v1::Candidate> lineage = {Light(*candidate)};
  while (lineage.front().has_parent_id() && lineage.size() < 200) {
    absl::StatusOr<v1::Candidate> parent =
        coordinator_->GetCandidate(job_id, lineage.front().parent_id());
    if (!parent.ok()) break;
    lineage.insert(lineage.begin(), Light(*std::move(parent)));
  }
  std::string out =
      absl::StrCat("{\"candidate\": ", ProtoJson(Light(*candidate)), ",\n\"lineage\": [");
  for (size_t i = 0; i < lineage.size(); ++i) {
    absl::StrAppend(&out, i ? ",\n" : "\n", CandidateRow(lineage[i]));
  }
  absl::StrAppend(&out, "],\n\"children\": [");
  bool pareto = false;
  int64_t evaluation = 0;
  if (absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = Snapshot(job_id);
      snapshot.ok()) {
    bool first = true;
    const std::vector<v1::Candidate>& history = (*snapshot)->history;
    for (size_t i = 0; i < history.size(); ++i) {
      const v1::Candidate& c = history[i];
      if (c.has_parent_id() && c.parent_id() == candidate_id) {
        absl::StrAppend(&out, first ? "\n" : ",\n", CandidateRow(c));
        first = false;
      }
      if (c.candidate_id() == candidate_id) evaluation = static_cast<int64_t>(i + 1);
    }
    for (const v1::Candidate& c : (*snapshot)->pareto) pareto |= c.candidate_id() == candidate_id;
  }
  absl::StrAppend(&out, "],\n\"pareto\": ", pareto ? "true" : "false",
                  ",\n\"evaluation\": ", evaluation > 0 ? absl::StrCat(evaluation) : "null", "}\n");
  return out;
}

absl::StatusOr<std::string> DashboardData::EpochsSvg(int64_t job_id, int64_t candidate_id) {
  absl::StatusOr<v1::Candidate> candidate = coordinator_->GetCandidate(job_id, candidate_id);
  if (!candidate.ok()) return candidate.status();
  report::svg::Style validation;
  validation.css_class = "epoch-validation";
  validation.stroke = "#1c7ed6";
  validation.fill = "#1c7ed6";
  validation.stroke_width = 2;
  validation.radius = 3.5;
  // Lines take a style without fill: a filled path would shade the area
  // between the curve and its chord.
  report::svg::Style validation_line_style = validation;
  validation_line_style.fill = "none";
  report::svg::Style train = validation_line_style;
  train.css_class = "epoch-train";
  train.stroke = "#e8590c";
  report::svg::Plot plot;
  plot.id = "plot-epochs";
  plot.css_class = "plot epochs";
  plot.title = "Error per epoch";
  plot.x_label = "epoch";
  plot.y_label = "error";
  plot.x_integer = true;
  plot.x_format = [](double v) { return report::FormatMinimalDecimals(v, 0); };
  plot.y_format = [](double v) {
    return absl::StrCat(report::FormatMinimalDecimals(v * 100, 2), "%");
  };
  plot.empty_message = "No epochs recorded";
  plot.width = 600;
  plot.height = 320;
  report::svg::Polyline validation_line{
      .points = {}, .step = false, .style = &validation_line_style};
  report::svg::Polyline train_line{.points = {}, .step = false, .style = &train};
  for (const v1::EpochRecord& e : candidate->evaluation().epochs()) {
    const double x = e.epoch();
    validation_line.points.push_back({x, 1.0 - e.validation_accuracy()});
    plot.points.push_back(
        {.x = x,
         .y = 1.0 - e.validation_accuracy(),
         .style = &validation,
         .tooltip = absl::StrCat("epoch ", e.epoch(), ": validation error ",
                                 report::FormatPercent(1.0 - e.validation_accuracy())),
         .id = ""});
    if (e.train_accuracy() > 0) train_line.points.push_back({x, 1.0 - e.train_accuracy()});
  }
  if (!train_line.points.empty()) plot.lines.push_back(train_line);
  if (!validation_line.points.empty()) plot.lines.push_back(validation_line);
  plot.legend = {{report::svg::Marker::kLine, &validation_line_style, "validation error"}};
  if (!train_line.points.empty()) {
    plot.legend.push_back({report::svg::Marker::kLine, &train, "training error"});
  }
  return report::svg::Render(plot);
}

namespace {

// The candidate's network as the resource model sees it: the trained
// (pruned) network when the worker reported per-layer sizes, else the dense one.
absl::StatusOr<rm::Graph> CandidateGraph(coordinator::Coordinator* coordinator, int64_t job_id,
                                         int64_t candidate_id) {
  absl::StatusOr<v1::Job> job = coordinator->GetJob(job_id);
  if (!job.ok()) return job.status();
  absl::StatusOr<v1::Candidate> candidate = coordinator->GetCandidate(job_id, candidate_id);
  if (!candidate.ok()) return candidate.status();
  const DataShape data = MakeDataShape(job->spec().input_shape(), job->spec().num_classes());
  PlanOptions options;
  if (candidate->evaluation().pruning_size() > 0) {
    options.pruning = &candidate->evaluation().pruning();
  }
  return BuildResourceGraph(candidate->architecture(), data, options);
}

}  // namespace

absl::StatusOr<std::string> DashboardData::NetworkSvg(int64_t job_id, int64_t candidate_id) {
  absl::StatusOr<rm::Graph> graph = CandidateGraph(coordinator_, job_id, candidate_id);
  if (!graph.ok()) return graph.status();
  return RenderNetworkSvg(*graph);
}

absl::StatusOr<std::string> DashboardData::NetworkDot(int64_t job_id, int64_t candidate_id) {
  absl::StatusOr<rm::Graph> graph = CandidateGraph(coordinator_, job_id, candidate_id);
  if (!graph.ok()) return graph.status();
  return rm::ToDot(*graph);
}

absl::StatusOr<std::string> DashboardData::WorkersJson() {
  // Current tasks: the LEASED candidates of the running jobs, by worker.
  absl::flat_hash_map<std::string, std::vector<std::pair<int64_t, int64_t>>> tasks;
  // Throughput: results each worker delivered within the last hour.
  absl::flat_hash_map<std::string, int64_t> last_hour;
  const double now = absl::ToUnixMillis(absl::Now()) / 1000.0;
  for (const v1::Job& job : coordinator_->ListJobs({})) {
    if (job.state() == v1::JOB_STATE_RUNNING) {
      v1::ListCandidatesRequest request;
      request.set_job_id(job.job_id());
      request.add_states(v1::CANDIDATE_STATE_LEASED);
      request.set_page_size(1000);
      absl::StatusOr<v1::ListCandidatesResponse> leased = coordinator_->ListCandidates(request);
      if (leased.ok()) {
        for (const v1::Candidate& c : leased->candidates()) {
          tasks[c.worker_id()].push_back({c.job_id(), c.candidate_id()});
        }
      }
    }
    absl::StatusOr<std::shared_ptr<const JobSnapshot>> snapshot = cache_.Get(job);
    if (!snapshot.ok()) continue;
    for (const v1::Candidate& c : (*snapshot)->history) {
      if (now - Seconds(c.finish_time()) <= 3600) ++last_hour[c.worker_id()];
    }
  }
  std::string out = "{\"workers\": [";
  bool first = true;
  for (const v1::WorkerInfo& w : coordinator_->ListWorkers(/*include_inactive=*/true)) {
    std::string current;
    for (const auto& [job_id, candidate_id] : tasks[w.worker_id()]) {
      absl::StrAppend(&current, current.empty() ? "" : ", ", "{\"job_id\": ", job_id,
                      ", \"candidate_id\": ", candidate_id, "}");
    }
    const double heartbeat = Seconds(w.last_heartbeat());
    absl::StrAppend(&out, first ? "\n" : ",\n", "{\"worker\": ", ProtoJson(w),
                    ", \"current_tasks\": [", current,
                    "], \"evaluations_last_hour\": ", last_hour[w.worker_id()],
                    ", \"heartbeat_age_seconds\": ",
                    heartbeat > 0 ? Number(std::max(0.0, now - heartbeat)) : "null", "}");
    first = false;
  }
  absl::StrAppend(&out, "\n]}\n");
  return out;
}

}  // namespace unas::dashboard
