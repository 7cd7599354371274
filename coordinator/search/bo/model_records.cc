// The BO model's stored records (model_records.h): the checksum of the
// observations a fit used, and the fitted hyper-parameters as bytes.
#include "coordinator/search/bo/model_records.h"

#include <algorithm>
#include <cstring>

namespace unas::search::bo {
namespace {

// SplitMix64's finaliser, to fold values into a checksum that is the same
// in every process (absl::Hash is not).
uint64_t ChecksumMix(uint64_t h, uint64_t v) {
  uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t DoubleBits(double d) {
  uint64_t b = 0;
  std::memcpy(&b, &d, sizeof(b));
  return b;
}

// A HyperParameters record: the checksum, then every field as raw bytes.
struct StoredHyper {
  uint64_t checksum;
  int32_t kind;
  int32_t wl_depth;
  int32_t fitted_on;
  int32_t pad;
  double beta_lp[kNumCoefficientPairs];
  double beta_emd[kNumCoefficientPairs];
  double alpha, sparsity_length, mean, scale, noise, log_likelihood;
};

}  // namespace

// What a fit on the first m observations depends on: their networks,
// sparsities and errors, in order.
uint64_t ObservationChecksum(const Surrogate& surrogate, int m) {
  uint64_t h = static_cast<uint64_t>(m);
  for (int i = 0; i < m; ++i) {
    const GpPoint& p = surrogate.points()[static_cast<size_t>(i)];
    h = ChecksumMix(h, p.entry->fingerprint);
    h = ChecksumMix(h, p.sparsity ? DoubleBits(*p.sparsity) : 1);
    h = ChecksumMix(h, DoubleBits(surrogate.errors()[static_cast<size_t>(i)]));
  }
  return h;
}

std::string EncodeHyper(const HyperParameters& h, uint64_t checksum) {
  StoredHyper s{};
  s.checksum = checksum;
  s.kind = static_cast<int32_t>(h.kind);
  s.wl_depth = h.wl_depth;
  s.fitted_on = h.fitted_on;
  std::copy(h.beta_lp.begin(), h.beta_lp.end(), s.beta_lp);
  std::copy(h.beta_emd.begin(), h.beta_emd.end(), s.beta_emd);
  s.alpha = h.alpha;
  s.sparsity_length = h.sparsity_length;
  s.mean = h.mean;
  s.scale = h.scale;
  s.noise = h.noise;
  s.log_likelihood = h.log_likelihood;
  return std::string(reinterpret_cast<const char*>(&s), sizeof(s));
}

std::optional<std::pair<HyperParameters, uint64_t>> DecodeHyper(const std::string& bytes) {
  if (bytes.size() != sizeof(StoredHyper)) return std::nullopt;
  StoredHyper s;
  std::memcpy(&s, bytes.data(), sizeof(s));
  HyperParameters h;
  h.kind = static_cast<KernelKind>(s.kind);
  h.wl_depth = s.wl_depth;
  h.fitted_on = s.fitted_on;
  std::copy(s.beta_lp, s.beta_lp + kNumCoefficientPairs, h.beta_lp.begin());
  std::copy(s.beta_emd, s.beta_emd + kNumCoefficientPairs, h.beta_emd.begin());
  h.alpha = s.alpha;
  h.sparsity_length = s.sparsity_length;
  h.mean = s.mean;
  h.scale = s.scale;
  h.noise = s.noise;
  h.log_likelihood = s.log_likelihood;
  return std::make_pair(h, s.checksum);
}

}  // namespace unas::search::bo
