// Shared secrets on disk: the bearer tokens that workers and clients present
// to the coordinator, and the address checks that decide when they are needed.
#ifndef UNAS_COMMON_RPC_TOKEN_FILE_H_
#define UNAS_COMMON_RPC_TOKEN_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace unas::rpc {

// The token in `path`: the whole file with surrounding whitespace trimmed.
// An empty token is an error. A file that others than its owner may read
// gets a warning in the log (a token is a password; keep it 0600).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Whether a HOST:PORT (or bare host) names this machine only: 127.0.0.0/8,
// ::1 or "localhost". Anything else, including 0.0.0.0 and [::], is reachable
// from the network.
bool IsLoopbackAddress(absl::string_view address);

// "Bearer <token>", compared in constant time: true when `header` carries
// exactly `token`. Time depends on the lengths only, not on where they differ.
bool BearerTokenMatches(absl::string_view header, absl::string_view token);

}  // namespace unas::rpc

#endif  // UNAS_COMMON_RPC_TOKEN_FILE_H_
