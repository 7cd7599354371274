// The identity of a candidate within a job: two candidates with the same
// identity give the same result, so the coordinator trains only one of them.
// It is the network's fingerprint (architecture, input shape, class count;
// common/search_space/fingerprint.h) extended with what else a candidate
// varies in: the target sparsity of pruning jobs. Everything else that
// changes a result (dataset, training) is the same for every candidate of a
// job.
#ifndef UNAS_COORDINATOR_CORE_CANDIDATE_IDENTITY_H_
#define UNAS_COORDINATOR_CORE_CANDIDATE_IDENTITY_H_

#include <cstdint>
#include <optional>

#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"

namespace unas::coordinator {

// Fingerprint(arch, data) without a sparsity (so dense jobs keep the
// network's fingerprint); with one, FNV-1a of the canonical bytes followed by
// "sparsity" and the sparsity's IEEE-754 bits.
uint64_t CandidateFingerprint(const v1::Architecture& architecture, const DataShape& data,
                              std::optional<double> sparsity);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_CANDIDATE_IDENTITY_H_
