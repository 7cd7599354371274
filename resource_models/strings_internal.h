// Internal: bridges std::string_view (our API) and absl::string_view. Debian's abseil is built
// with its own string_view type (ABSL_OPTION_USE_STD_STRING_VIEW 0), so StrCat and the hash
// maps do not accept std::string_view directly.

#ifndef UNAS_RESOURCE_MODELS_STRINGS_INTERNAL_H_
#define UNAS_RESOURCE_MODELS_STRINGS_INTERNAL_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace unas::rm::internal {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace unas::rm::internal

#endif  // UNAS_RESOURCE_MODELS_STRINGS_INTERNAL_H_
