#include "coordinator/core/worker_input_limits.h"

#include "absl/strings/str_cat.h"

namespace unas::coordinator {

absl::Status CheckSize(absl::string_view field, size_t bytes, size_t limit) {
  if (bytes <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " is ", bytes, " bytes; the limit is ", limit));
}

}  // namespace unas::coordinator
