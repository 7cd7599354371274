#include "coordinator/metrics/coordinator_metrics.h"

#include <exception>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace unas::coordinator {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

struct CoordinatorMetrics::Families {
  explicit Families(prometheus::Registry& r)
      : done(BuildCounter()
                 .Name("unas_evaluations_done_total")
                 .Help("Results accepted from workers, per job")
                 .Register(r)),
        failed(BuildCounter()
                   .Name("unas_evaluations_failed_total")
                   .Help("Candidates that failed for good (max_attempts or a permanent failure)")
                   .Register(r)),
        requeued(BuildCounter()
                     .Name("unas_evaluations_requeued_total")
                     .Help("Attempts that ended without a result and went back to the queue")
                     .Register(r)),
        lease_expiries(BuildCounter()
                           .Name("unas_lease_expiries_total")
                           .Help("Leases that expired without a heartbeat (dead or pre-empted "
                                 "workers)")
                           .Register(r)),
        queue_depth(BuildGauge()
                        .Name("unas_queue_depth")
                        .Help("Candidates waiting for a worker (re-queued after a failure)")
                        .Register(r)),
        leased(BuildGauge()
                   .Name("unas_leased_candidates")
                   .Help("Candidates being evaluated by a worker now")
                   .Register(r)),
        workers(BuildGauge()
                    .Name("unas_connected_workers")
                    .Help("Workers heard from within six heartbeat intervals")
                    .Register(r)),
        jobs(BuildGauge().Name("unas_jobs").Help("Jobs in the store by state").Register(r)),
        evaluation_seconds(BuildHistogram()
                               .Name("unas_evaluation_duration_seconds")
                               .Help("From lease to accepted result")
                               .Register(r)),
        commit_seconds(BuildHistogram()
                           .Name("unas_store_commit_seconds")
                           .Help("One SQLite transaction of the coordinator's store")
                           .Register(r)),
        store_healthy(BuildGauge()
                          .Name("unas_store_healthy")
                          .Help("1 while the store commits; 0 while commits fail (a full disk) "
                                "and changes are refused")
                          .Register(r)
                          .Add({})),
        store_commit_failures(BuildGauge()
                                  .Name("unas_store_commit_failures")
                                  .Help("Store commits that failed (and were retried) since start")
                                  .Register(r)
                                  .Add({})),
        store_pending_writes(BuildGauge()
                                 .Name("unas_store_pending_writes")
                                 .Help("Writes queued or waiting for a commit retry")
                                 .Register(r)
                                 .Add({})),
        evaluation_histogram(evaluation_seconds.Add(
            {}, prometheus::Histogram::BucketBoundaries{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600,
                                                        1200, 1800, 3600, 7200, 14400})),
        connected_workers(workers.Add({})) {}

  prometheus::Histogram& Commit(const char* operation) {
    return commit_seconds.Add({{"operation", operation}}, prometheus::Histogram::BucketBoundaries{
                                                              0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                              0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  }

  prometheus::Family<prometheus::Counter>& done;
  prometheus::Family<prometheus::Counter>& failed;
  prometheus::Family<prometheus::Counter>& requeued;
  prometheus::Family<prometheus::Counter>& lease_expiries;
  prometheus::Family<prometheus::Gauge>& queue_depth;
  prometheus::Family<prometheus::Gauge>& leased;
  prometheus::Family<prometheus::Gauge>& workers;
  prometheus::Family<prometheus::Gauge>& jobs;
  prometheus::Family<prometheus::Histogram>& evaluation_seconds;
  prometheus::Family<prometheus::Histogram>& commit_seconds;
  prometheus::Gauge& store_healthy;
  prometheus::Gauge& store_commit_failures;
  prometheus::Gauge& store_pending_writes;
  prometheus::Histogram& evaluation_histogram;
  prometheus::Gauge& connected_workers;
};

namespace {

prometheus::Labels JobLabel(int64_t job_id) { return {{"job", absl::StrCat(job_id)}}; }

std::string StateLabel(v1::JobState state) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::JobState_Name(state), "JOB_STATE_"));
}

}  // namespace

// What the exposer collects: the gauges refreshed from the coordinator, then
// everything in the registry. Scrapes are rare (seconds apart), so reading
// the job list each time costs nothing worth caching.
class CoordinatorMetrics::Scrape final : public prometheus::Collectable {
 public:
  Scrape(std::shared_ptr<prometheus::Registry> registry, Families* families)
      : registry_(std::move(registry)), families_(families) {}

  void set_coordinator(Coordinator* coordinator) {
    std::lock_guard<std::mutex> lock(mu_);
    coordinator_ = coordinator;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard<std::mutex> lock(mu_);
    if (coordinator_ != nullptr) Refresh();
    return registry_->Collect();
  }

 private:
  void Refresh() const {
    std::map<std::string, int> by_state;
    for (int s = v1::JobState_MIN; s <= v1::JobState_MAX; ++s) {
      if (v1::JobState_IsValid(s) && s != v1::JOB_STATE_UNSPECIFIED) {
        by_state[StateLabel(static_cast<v1::JobState>(s))] = 0;
      }
    }
    for (const v1::Job& job : coordinator_->ListJobs({})) {
      ++by_state[StateLabel(job.state())];
      families_->queue_depth.Add(JobLabel(job.job_id())).Set(job.progress().evaluations_queued());
      families_->leased.Add(JobLabel(job.job_id())).Set(job.progress().evaluations_in_flight());
    }
    for (const auto& [state, count] : by_state) {
      families_->jobs.Add({{"state", state}}).Set(count);
    }
    const store::CommitHealth store = coordinator_->StoreCommitHealth();
    families_->store_healthy.Set(store.status.ok() ? 1 : 0);
    families_->store_commit_failures.Set(static_cast<double>(store.failed_commits));
    families_->store_pending_writes.Set(static_cast<double>(store.pending_writes));
    families_->connected_workers.Set(
        static_cast<double>(coordinator_->ListWorkers(/*include_inactive=*/false).size()));
  }

  std::shared_ptr<prometheus::Registry> registry_;
  Families* families_;
  mutable std::mutex mu_;
  Coordinator* coordinator_ = nullptr;
};

CoordinatorMetrics::CoordinatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>(*registry_)),
      scrape_(std::make_shared<Scrape>(registry_, families_.get())) {}

CoordinatorMetrics::~CoordinatorMetrics() { StopServing(); }

absl::Status CoordinatorMetrics::Serve(const std::string& listen, Coordinator* coordinator) {
  scrape_->set_coordinator(coordinator);
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("--metrics-listen ", listen, ": cannot listen (", e.what(), ")"));
  }
  exposer_->RegisterCollectable(scrape_);
  std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    exposer_.reset();
    return absl::UnavailableError(absl::StrCat("--metrics-listen ", listen, ": no port bound"));
  }
  port_ = ports.front();
  return absl::OkStatus();
}

void CoordinatorMetrics::StopServing() {
  exposer_.reset();
  scrape_->set_coordinator(nullptr);
}

std::string CoordinatorMetrics::Render() {
  return prometheus::TextSerializer().Serialize(scrape_->Collect());
}

void CoordinatorMetrics::EvaluationDone(int64_t job_id, double lease_seconds) {
  families_->done.Add(JobLabel(job_id)).Increment();
  if (lease_seconds >= 0) families_->evaluation_histogram.Observe(lease_seconds);
}

void CoordinatorMetrics::AttemptEnded(int64_t job_id, bool candidate_failed, bool lease_expired) {
  (candidate_failed ? families_->failed : families_->requeued).Add(JobLabel(job_id)).Increment();
  if (lease_expired) families_->lease_expiries.Add(JobLabel(job_id)).Increment();
}

void CoordinatorMetrics::StoreCommit(const char* operation, double seconds) {
  families_->Commit(operation).Observe(seconds);
}

}  // namespace unas::coordinator
