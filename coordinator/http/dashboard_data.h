// What the dashboard shows, as JSON documents and SVG pictures, read only
// through the Coordinator's public query methods (GetJob, ListJobs,
// ListCandidates, GetCandidate, GetParetoFront, ListWorkers). One method per
// endpoint of docs/api.md ("Dashboard endpoints"); the HTTP server
// (dashboard_server.h) only routes to them. Protobuf messages are written
// with their .proto field names (int64 values as strings, as proto3 JSON
// does); the numbers the dashboard derives (rates, ETA) are plain JSON
// numbers. Plots are the report's (report/report.h, RenderJobPlot).
#ifndef UNAS_COORDINATOR_HTTP_DASHBOARD_DATA_H_
#define UNAS_COORDINATOR_HTTP_DASHBOARD_DATA_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/http/history_cache.h"
#include "unas/v1/job.pb.h"

namespace unas::dashboard {

// Evaluations per hour over the latest results, and the time left.
struct JobPace {
  std::optional<double> evaluations_per_hour;
  std::optional<double> eta_seconds;  // running jobs only
};

// From the finish times of the last (up to) 20 results of `history` (in
// evaluation order); none with fewer than two results.
JobPace ComputePace(const v1::Job& job, const std::vector<v1::Candidate>& history);

// Changes whenever a result arrives, a candidate fails or is skipped, or the
// job's state changes: what a long poll waits for.
std::string JobVersion(const v1::Job& job);

class DashboardData {
 public:
  explicit DashboardData(coordinator::Coordinator* coordinator,
                         size_t history_cache_bytes = kDefaultHistoryCacheBytes)
      : coordinator_(coordinator), cache_(coordinator, history_cache_bytes) {}

  absl::StatusOr<std::string> JobsJson();
  // With `changed_since` (the "version" of an earlier answer) a long poll:
  // waits, up to `max_wait`, until the job's version differs (a result
  // arrived, a candidate failed, the job ended). The page then updates the
  // moment something happens, and a headless browser's virtual clock stands
  // still while it waits.
  absl::StatusOr<std::string> JobJson(int64_t job_id, const std::string& changed_since = "",
                                      absl::Duration max_wait = absl::Seconds(25));
  // The report's candidates.json for the job (report/report.h).
  absl::StatusOr<std::string> HistoryJson(int64_t job_id);
  absl::StatusOr<std::string> PopulationJson(int64_t job_id);
  // `name`: pmu, size, macs or progress.
  absl::StatusOr<std::string> PlotSvg(int64_t job_id, absl::string_view name);
  absl::StatusOr<std::string> CandidateJson(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<std::string> EpochsSvg(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<std::string> NetworkSvg(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<std::string> NetworkDot(int64_t job_id, int64_t candidate_id);
  absl::StatusOr<std::string> WorkersJson();

  // Ends the long polls in progress (within a second) and refuses new ones:
  // for shutdown.
  void Stop() { stopping_ = true; }

  const HistoryCache& cache() const { return cache_; }

 private:
  absl::StatusOr<std::shared_ptr<const JobSnapshot>> Snapshot(int64_t job_id);
  std::string SummaryJson(const JobSnapshot& snapshot);

  coordinator::Coordinator* coordinator_;
  HistoryCache cache_;
  std::atomic<bool> stopping_{false};
};

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_DASHBOARD_DATA_H_
