// Random architectures with the distributions of docs/unas_original.md §3, except
// that every range includes its upper bound (the original's sampler never
// returns the upper value of a discrete range; see docs/search_space.md).
#ifndef UNAS_COMMON_SEARCH_SPACE_RANDOM_ARCHITECTURE_H_
#define UNAS_COMMON_SEARCH_SPACE_RANDOM_ARCHITECTURE_H_

#include "absl/status/statusor.h"
#include "common/search_space/rng.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

// Probabilities of the random generator (§3).
inline constexpr double kProbBranch = 0.5;
inline constexpr double kProbPrepool = 0.25;
inline constexpr double kProbBatchNorm = 0.5;
inline constexpr double kProbRelu = 0.9;
inline constexpr double kProbStride2 = 0.5;
inline constexpr double kProbPooling = 0.9;
inline constexpr double kProbAvgPool = 0.5;

// How many draws RandomArchitecture makes before giving up on finding one
// that can be built for the data.
inline constexpr int kMaxRandomTries = 1000;

// A random architecture of the space's kind that is valid for the space and
// buildable for the data; an error if kMaxRandomTries draws all fail or the
// data shape is invalid.
absl::StatusOr<v1::Architecture> RandomArchitecture(const SearchSpace& space, const DataShape& data,
                                                    Rng& rng);

// The pieces, also used by the morphisms for fresh layers and blocks. They
// do not look at any data shape. Unused fields of a layer type stay 0.
v1::ConvLayer RandomConvLayer(const CnnSpace& space, Rng& rng);
v1::ConvLayer RandomConvLayerOfType(v1::ConvLayerType type, const CnnSpace& space, Rng& rng);
v1::Pooling RandomPooling(const CnnSpace& space, Rng& rng);
v1::DenseLayer RandomDenseLayer(int min_units, int max_units, Rng& rng);
v1::CnnArchitecture RandomCnn(const CnnSpace& space, Rng& rng);
v1::MlpArchitecture RandomMlp(const MlpSpace& space, Rng& rng);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_RANDOM_ARCHITECTURE_H_
