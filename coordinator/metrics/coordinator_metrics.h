// The coordinator's Prometheus metrics (docs/operations.md, "Metrics"):
// counters and histograms fed by the core as things happen (it is the core's
// CoordinatorObserver), gauges read from the Coordinator at each scrape, and
// the HTTP endpoint /metrics that serves them.
#ifndef UNAS_COORDINATOR_METRICS_COORDINATOR_METRICS_H_
#define UNAS_COORDINATOR_METRICS_COORDINATOR_METRICS_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/core/observer.h"

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace unas::coordinator {

class CoordinatorMetrics final : public CoordinatorObserver {
 public:
  CoordinatorMetrics();
  ~CoordinatorMetrics() override;

  // Serves /metrics on `listen` (HOST:PORT; port 0 picks a free one), with
  // gauges read from `coordinator` at each scrape. Call StopServing() before
  // the coordinator goes away.
  absl::Status Serve(const std::string& listen, Coordinator* coordinator);
  void StopServing();
  // The port bound by Serve (0 before).
  int port() const { return port_; }

  // The text a scrape returns (also used by tests without HTTP).
  std::string Render();

  // CoordinatorObserver.
  void EvaluationDone(int64_t job_id, double lease_seconds) override;
  void AttemptEnded(int64_t job_id, bool candidate_failed, bool lease_expired) override;
  void StoreCommit(const char* operation, double seconds) override;

 private:
  struct Families;
  class Scrape;

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  std::shared_ptr<Scrape> scrape_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_METRICS_COORDINATOR_METRICS_H_
