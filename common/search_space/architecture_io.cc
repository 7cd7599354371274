#include "common/search_space/architecture_io.h"

#include "absl/strings/str_cat.h"
#include "common/proto_io/proto_file.h"
#include "common/status/status_macros.h"

namespace unas {

absl::StatusOr<v1::Architecture> ReadArchitectureFile(const std::string& path) {
  v1::Architecture arch;
  UNAS_RETURN_IF_ERROR(ReadProtoFile(path, &arch));
  if (arch.kind_case() == v1::Architecture::KIND_NOT_SET) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the architecture sets neither cnn nor mlp"));
  }
  return arch;
}

}  // namespace unas
