#include "worker/data/sha1.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"

namespace unas::worker {

std::array<uint8_t, 20> Sha1(absl::string_view data) {
  std::array<uint8_t, 20> digest{};
  unsigned int size = 0;
  // EVP_Digest with SHA-1 cannot fail for in-memory input short of allocation failure.
  EVP_Digest(data.data(), data.size(), digest.data(), &size, EVP_sha1(), nullptr);
  return digest;
}

std::string Sha1Hex(absl::string_view data) {
  const std::array<uint8_t, 20> digest = Sha1(data);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace unas::worker
