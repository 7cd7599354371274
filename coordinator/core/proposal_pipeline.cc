#include "coordinator/core/proposal_pipeline.h"

#include "coordinator/core/candidate_metrics.h"

namespace unas::coordinator {

bool ProposalPipeline::TryBegin(std::vector<search::Evaluated>* batch) {
  if (running_) return false;
  running_ = true;
  batch->swap(observations_);
  observations_.clear();
  return true;
}

ProposalOutcome ProposalPipeline::Run(std::vector<search::Evaluated> batch,
                                      const search::ProposalContext& context) {
  for (search::Evaluated& evaluated : batch) algorithm_->Observe(evaluated);
  ProposalOutcome outcome;
  outcome.proposal = algorithm_->Propose(context);
  if (outcome.proposal.ok() && outcome.proposal->has_value()) {
    outcome.metrics = ComputeCandidateMetrics((*outcome.proposal)->architecture, data_);
  }
  return outcome;
}

}  // namespace unas::coordinator
