// Architecture files: textproto (.textproto, .txtpb, .pbtxt) or JSON (.json)
// by extension, through common/proto_io (errors name the file, line and
// column; unknown fields are errors).
#ifndef UNAS_COMMON_SEARCH_SPACE_ARCHITECTURE_IO_H_
#define UNAS_COMMON_SEARCH_SPACE_ARCHITECTURE_IO_H_

#include <string>

#include "absl/status/statusor.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

// Reads an architecture; an error naming the file if it cannot be read or
// parsed, or if it sets neither `cnn` nor `mlp`.
absl::StatusOr<v1::Architecture> ReadArchitectureFile(const std::string& path);

}  // namespace unas

#endif  // UNAS_COMMON_SEARCH_SPACE_ARCHITECTURE_IO_H_
