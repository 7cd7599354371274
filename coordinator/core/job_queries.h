// Read-only queries over one job's in-memory model (job_state.h): candidate
// listings with filters, orders and pages, and Pareto fronts. The coordinator
// calls them under its lock; they change nothing.
#ifndef UNAS_COORDINATOR_CORE_JOB_QUERIES_H_
#define UNAS_COORDINATOR_CORE_JOB_QUERIES_H_

#include "absl/status/statusor.h"
#include "coordinator/core/job_state.h"
#include "unas/v1/job_service.pb.h"

namespace unas::coordinator {

// A copy without the weights and the int8 model (answers stay small).
v1::Candidate LightCandidate(const v1::Candidate& candidate);

// ListCandidates: by id or finish order, optionally only the aging-evolution
// population, filtered by state, paged (page_token = offset).
absl::StatusOr<v1::ListCandidatesResponse> ListJobCandidates(
    const JobEntry& job, const v1::ListCandidatesRequest& request);

// GetParetoFront: the non-dominated evaluated candidates in the requested
// objectives, by error then id.
absl::StatusOr<v1::GetParetoFrontResponse> JobParetoFront(const JobEntry& job,
                                                          const v1::GetParetoFrontRequest& request);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_JOB_QUERIES_H_
