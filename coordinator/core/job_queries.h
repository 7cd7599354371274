// Read-only queries over one job: candidate listings with filters, orders
// and pages, and Pareto fronts. The coordinator chooses under its lock, from
// the job's compact in-memory index (job_state.h), which candidates an
// answer holds and copies the rows still in memory; the finished rows are
// read from the store after it lets go of the lock (they no longer change).
#ifndef UNAS_COORDINATOR_CORE_JOB_QUERIES_H_
#define UNAS_COORDINATOR_CORE_JOB_QUERIES_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "coordinator/core/job_state.h"
#include "coordinator/store/store.h"
#include "unas/v1/job_service.pb.h"

namespace unas::coordinator {

// A copy without the weights and the int8 model (answers stay small).
v1::Candidate LightCandidate(const v1::Candidate& candidate);

// The candidates one ListCandidates page shows.
struct CandidatePage {
  std::vector<int64_t> ids;  // in the requested order
  int32_t total_size = 0;
  std::string next_page_token;
};

// ListCandidates: by id or finish order, optionally only the aging-evolution
// population, filtered by state, paged (page_token = offset).
absl::StatusOr<CandidatePage> SelectCandidatePage(const JobEntry& job,
                                                  const v1::ListCandidatesRequest& request);

// The rows of `ids`, in that order, light: those in `in_memory` (copied
// under the lock), the others read from the store. A missing one is an
// INTERNAL error (every id came from the job's index).
absl::StatusOr<std::vector<v1::Candidate>> AssembleCandidates(
    store::Store& store, int64_t job_id, const std::vector<int64_t>& ids,
    absl::flat_hash_map<int64_t, v1::Candidate> in_memory);

// Every read of candidates by id, in its two halves: from memory where a
// row still is (a finished row whose write is not yet durable is invisible
// to the store's reader), else from the store, which may be read without
// the coordinator's lock since finished rows never change.
class CandidateAssembly {
 public:
  // Under the lock: copies (light) those of `ids` whose rows are in memory.
  void CopyInMemory(const JobEntry& job, const std::vector<int64_t>& ids);
  // Lock held or not: the candidates of `ids`, in that order, light; those
  // not copied are read from the store (AssembleCandidates).
  absl::StatusOr<std::vector<v1::Candidate>> Read(store::Store& store, int64_t job_id,
                                                  const std::vector<int64_t>& ids) &&;

 private:
  absl::flat_hash_map<int64_t, v1::Candidate> in_memory_;
};

// A DONE candidate's numbers, as the store reads them for Pareto fronts.
store::EvaluationPoint EvaluationPointOf(const v1::Candidate& candidate);

// GetParetoFront: the ids of the non-dominated evaluated candidates in the
// requested objectives, by error then id. `points` may come in any order.
absl::StatusOr<std::vector<int64_t>> ParetoFrontIds(
    const std::vector<store::EvaluationPoint>& points, const v1::GetParetoFrontRequest& request);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_JOB_QUERIES_H_
