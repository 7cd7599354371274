// Single-step changes of an architecture (docs/unas_original.md §2): the full
// neighbour list in the original's order, with the decisions of
// docs/search_space.md ("Morphisms") on the original's quirks.
#ifndef UNAS_COMMON_SEARCH_SPACE_MORPHISMS_H_
#define UNAS_COMMON_SEARCH_SPACE_MORPHISMS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search_space/rng.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

struct Neighbour {
  v1::Architecture architecture;
  // What changed, for logs and `unasctl arch mutate`, e.g.
  // "conv_blocks[1].layers[0].filters: 16 -> 19".
  std::string change;
};

// Every neighbour of `arch`, which must be valid for `space` (an error
// otherwise). Each neighbour is valid for the space and differs from the
// parent as a network (its fingerprint differs); the parent is not touched.
// Fresh layers, blocks and poolings are drawn from `rng` with the random
// generator's distributions, so the list depends on the rng state.
absl::StatusOr<std::vector<Neighbour>> Neighbours(const v1::Architecture& arch,
                                                  const SearchSpace& space, Rng& rng);

// One neighbour chosen uniformly among those that can also be built for the
// data (the evolution step); an error if there is none.
absl::StatusOr<Neighbour> RandomNeighbour(const v1::Architecture& arch, const SearchSpace& space,
                                          const DataShape& data, Rng& rng);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_MORPHISMS_H_
