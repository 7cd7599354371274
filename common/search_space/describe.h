// A one-line description of an architecture in the shorthand of
// docs/unas_original.md §14, for tables and logs:
//   C(3,16,s2,bn) D(3) P(24) | +C(5,s1) | maxpool 2 | dense [32]
// C = Conv2D (kernel, filters, stride), P = 1x1 (filters), D = depthwise
// (kernel, stride); flags: bn, norelu, prepool; "+" starts a branch block
// (its last layer's filters are implied); "|" separates blocks.
#ifndef UNAS_COMMON_SEARCH_SPACE_DESCRIBE_H_
#define UNAS_COMMON_SEARCH_SPACE_DESCRIBE_H_

#include <string>

#include "unas/v1/architecture.pb.h"

namespace unas {

std::string DescribeArchitecture(const v1::Architecture& arch);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_DESCRIBE_H_
