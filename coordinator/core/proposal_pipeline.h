// A job's proposal pipeline: the search algorithm and the resource metrics of
// what it proposes, run without the coordinator's lock.
//
// Proposing can be slow: the exact peak-memory search of one architecture of
// the widest space takes up to about a second, and a model-based algorithm
// (Bayesian optimisation) may take longer to choose. The coordinator's lock,
// which every heartbeat, report and query needs, is therefore held only to
// hand work in and out:
//
//   under the lock      Observe(...)          evaluations, in history order
//                       TryBegin()            claims the pipeline (one proposal
//                                             at a time per job), takes the
//                                             observations queued so far
//   without the lock    Run(batch, context,   feeds them to the algorithm,
//                           pending)          proposes (told the candidates in
//                                             flight), computes dense metrics
//   under the lock      End()                 releases it
//
// Only the claimant touches the algorithm, so it needs no lock of its own.
// Any SearchAlgorithm plugs in unchanged.
#ifndef UNAS_COORDINATOR_CORE_PROPOSAL_PIPELINE_H_
#define UNAS_COORDINATOR_CORE_PROPOSAL_PIPELINE_H_

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "coordinator/search/algorithm.h"
#include "unas/v1/job.pb.h"
#include "unas/v1/metrics.pb.h"

namespace unas::coordinator {

// A candidate in flight (queued, leased or waiting for a duplicate's result),
// copied under the lock for a Run outside it.
struct InFlightCandidate {
  int64_t candidate_id = 0;
  v1::Architecture architecture;
  std::optional<double> sparsity;
};

// What one Run produced.
struct ProposalOutcome {
  // nullopt: the algorithm waits for results before it proposes again.
  absl::StatusOr<std::optional<search::Proposal>> proposal;
  // The dense network's metrics (set when a proposal was made).
  absl::StatusOr<v1::ResourceMetrics> metrics = v1::ResourceMetrics();
  // The algorithm's new model records (algorithm.h), for the store.
  std::vector<search::ModelRecord> model_records;
  // A proposal of a network the job has evaluated: that evaluation's
  // candidate, read without the lock (scheduling.cc), for RecordReuse.
  int64_t reuse_source_id = 0;
  std::optional<v1::Candidate> reuse_source;
};

class ProposalPipeline {
 public:
  ProposalPipeline() = default;
  ProposalPipeline(std::unique_ptr<search::SearchAlgorithm> algorithm, DataShape data)
      : algorithm_(std::move(algorithm)), data_(data) {}

  // Under the coordinator's lock.
  void Observe(search::Evaluated evaluated) {
    if (algorithm_ && !release_) observations_.push_back(std::move(evaluated));
  }
  // Under the lock, when the job has ended: frees the algorithm (a
  // population, or a BO model with its distance matrices: tens of megabytes
  // at 800 observations) now, or at End if a Run is using it. An ended job
  // never proposes again, so nothing of its search outlives it in memory.
  void Release() {
    observations_.clear();
    observations_.shrink_to_fit();
    if (running_) {
      release_ = true;
    } else {
      algorithm_.reset();
    }
  }
  bool released() const { return !algorithm_ || release_; }
  // After a restart, before the replay: the model records the store kept.
  void RestoreModelRecords(std::vector<search::ModelRecord> records) {
    if (algorithm_) algorithm_->RestoreModelRecords(std::move(records));
  }
  // False while another caller runs the pipeline or after Release; else
  // claims it and moves the queued observations into `batch`.
  bool TryBegin(std::vector<search::Evaluated>* batch);
  // Also publishes the model status the last Run left.
  void End() {
    running_ = false;
    if (release_) algorithm_.reset();
    release_ = false;
    if (next_status_) status_ = std::move(next_status_);
    next_status_.reset();
  }
  bool running() const { return running_; }
  // The algorithm's model status as of the last finished Run (under the lock).
  const std::optional<v1::BayesianOptimizationStatus>& model_status() const { return status_; }

  // Without the lock, by the claimant only.
  ProposalOutcome Run(std::vector<search::Evaluated> batch, const search::ProposalContext& context,
                      const std::vector<InFlightCandidate>& in_flight = {});

 private:
  std::unique_ptr<search::SearchAlgorithm> algorithm_;
  DataShape data_;
  std::vector<search::Evaluated> observations_;  // not yet fed to the algorithm
  bool running_ = false;
  bool release_ = false;  // Release came while a Run was using the algorithm
  std::optional<v1::BayesianOptimizationStatus> next_status_;  // written by Run
  std::optional<v1::BayesianOptimizationStatus> status_;       // published by End
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_PROPOSAL_PIPELINE_H_
