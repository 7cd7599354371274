// Validation of an architecture against its search space and against the
// data it will be built for. Errors name the offending element, e.g.
// "conv_blocks[0].is_branch: the first block cannot be a branch".
#ifndef UNAS_COMMON_SEARCH_SPACE_VALIDATE_H_
#define UNAS_COMMON_SEARCH_SPACE_VALIDATE_H_

#include "absl/status/status.h"
#include "common/search_space/space.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

// Checks the architecture's kind and every value against the space's bounds.
// Fields a layer type does not use (kernel_size and stride2 of a 1x1 layer,
// filters of a depthwise layer) are ignored, as is the filter count of a
// branch block's last layer beyond being in range (the build replaces it).
absl::Status ValidateArchitecture(const v1::Architecture& arch, const SearchSpace& space);

// Checks that the network can be built for the data: the input shape and
// class count are sane and no tensor collapses below 1x1 or grows past the
// size limit of network_plan.h. Does not check space bounds.
absl::Status ValidateForData(const v1::Architecture& arch, const DataShape& data);

// Both of the above.
absl::Status ValidateAll(const v1::Architecture& arch, const SearchSpace& space,
                         const DataShape& data);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_VALIDATE_H_
