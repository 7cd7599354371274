// A seeded pseudo-random source whose sequence is the same with every
// compiler and standard library.
//
// std::mt19937_64 is specified bit for bit by the C++ standard, but the
// standard distributions (uniform_int_distribution, normal_distribution, ...)
// are not: libstdc++ and libc++ map the same engine output to different
// numbers. A search must be reproducible from its seed (and resumable from a
// saved state), so every mapping from engine output to a value is ours.
#ifndef UNAS_COMMON_SEARCH_SPACE_RNG_H_
#define UNAS_COMMON_SEARCH_SPACE_RNG_H_

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace unas {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Next raw 64-bit output of the engine.
  uint64_t Next() { return engine_(); }

  // Uniform integer in [lo, hi], both included; requires lo <= hi. Unbiased
  // (rejection of the incomplete last bucket).
  int64_t UniformInt(int64_t lo, int64_t hi);

  // Uniform index in [0, n); requires n > 0.
  size_t Index(size_t n) { return static_cast<size_t>(UniformInt(0, static_cast<int64_t>(n) - 1)); }

  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble();

  // Uniform double in [lo, hi).
  double Uniform(double lo, double hi) { return lo + (hi - lo) * UniformDouble(); }

  // true with probability p.
  bool Bernoulli(double p) { return UniformDouble() < p; }

  // Normal(mean, stddev) by the Box-Muller transform; uses two engine outputs
  // and keeps no spare value, so the state is the engine alone.
  double Normal(double mean, double stddev);

  // A uniformly chosen element; requires a non-empty vector.
  template <typename T>
  const T& Choose(const std::vector<T>& values) {
    return values[Index(values.size())];
  }

  // Fisher-Yates shuffle in place (one Index() per position, from the back),
  // so a seed gives the same order on every platform, unlike std::shuffle.
  template <typename T>
  void Shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[Index(i)]);
  }

  // The engine state as text (the standard's stream format for
  // mersenne_twister_engine), for storing a search's RNG with the search.
  std::string SaveState() const;
  absl::Status RestoreState(absl::string_view state);

 private:
  std::mt19937_64 engine_;
};

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_RNG_H_
