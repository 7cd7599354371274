#include "coordinator/core/proposal_pipeline.h"

#include "coordinator/core/candidate_metrics.h"

namespace unas::coordinator {

bool ProposalPipeline::TryBegin(std::vector<search::Evaluated>* batch) {
  if (running_ || released()) return false;
  running_ = true;
  batch->swap(observations_);
  observations_.clear();
  return true;
}

ProposalOutcome ProposalPipeline::Run(std::vector<search::Evaluated> batch,
                                      const search::ProposalContext& context,
                                      const std::vector<InFlightCandidate>& in_flight) {
  for (search::Evaluated& evaluated : batch) algorithm_->Observe(evaluated);
  std::vector<search::PendingCandidate> pending;
  pending.reserve(in_flight.size());
  for (const InFlightCandidate& candidate : in_flight) {
    pending.push_back({candidate.candidate_id, &candidate.architecture, candidate.sparsity});
  }
  ProposalOutcome outcome;
  outcome.proposal = algorithm_->ProposeWithPending(context, pending);
  if (outcome.proposal.ok() && outcome.proposal->has_value()) {
    outcome.metrics = ComputeCandidateMetrics((*outcome.proposal)->architecture, data_);
  }
  next_status_ = algorithm_->ModelStatus();
  outcome.model_records = algorithm_->TakeModelRecords();
  return outcome;
}

}  // namespace unas::coordinator
