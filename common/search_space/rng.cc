#include "common/search_space/rng.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <sstream>

namespace unas {

int64_t Rng::UniformInt(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
  if (span == std::numeric_limits<uint64_t>::max()) return static_cast<int64_t>(Next());
  const uint64_t range = span + 1;
  // Largest multiple of `range` representable; values at or above it would
  // make the low residues more likely, so they are drawn again.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() -
                         (std::numeric_limits<uint64_t>::max() % range + 1) % range;
  uint64_t x;
  do {
    x = Next();
  } while (x > limit);
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + x % range);
}

double Rng::UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

double Rng::Normal(double mean, double stddev) {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - UniformDouble();
  const double u2 = UniformDouble();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  return mean + stddev * radius * std::cos(2.0 * std::numbers::pi * u2);
}

std::string Rng::SaveState() const {
  std::ostringstream out;
  out << engine_;
  return out.str();
}

absl::Status Rng::RestoreState(absl::string_view state) {
  std::istringstream in{std::string(state)};
  std::mt19937_64 engine;
  in >> engine;
  if (in.fail()) return absl::InvalidArgumentError("rng state: not a mt19937_64 state");
  engine_ = engine;
  return absl::OkStatus();
}

}  // namespace unas
