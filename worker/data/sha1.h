// SHA-1 (OpenSSL's implementation), for the Speech Commands split rule only: the original
// assigns a speaker to train / validation / test by the SHA-1 of a name
// (docs/unas_original.md §9). Not for anything security related.
#ifndef UNAS_WORKER_DATA_SHA1_H_
#define UNAS_WORKER_DATA_SHA1_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace unas::worker {

std::array<uint8_t, 20> Sha1(absl::string_view data);

// Lower-case hex of the digest, as Python's hashlib hexdigest().
std::string Sha1Hex(absl::string_view data);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_SHA1_H_
