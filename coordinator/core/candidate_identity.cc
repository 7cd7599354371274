#include "coordinator/core/candidate_identity.h"

#include <bit>
#include <string>

#include "common/search_space/fingerprint.h"

namespace unas::coordinator {

uint64_t CandidateFingerprint(const v1::Architecture& architecture, const DataShape& data,
                              std::optional<double> sparsity) {
  if (!sparsity) return Fingerprint(architecture, data);
  std::string bytes = CanonicalBytes(architecture, data);
  bytes += "sparsity";
  uint64_t bits = std::bit_cast<uint64_t>(*sparsity);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  return Fnv1a64(bytes);
}

}  // namespace unas::coordinator
