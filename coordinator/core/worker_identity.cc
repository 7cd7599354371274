#include "coordinator/core/worker_identity.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace unas::coordinator {

std::string RandomHex128() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    std::fputs("unas-coordinator: RAND_bytes failed; refusing to hand out guessable ids\n", stderr);
    std::abort();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::string SecretDigest(absl::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

bool SecretMatches(absl::string_view secret, absl::string_view digest) {
  if (digest.size() != SHA256_DIGEST_LENGTH) return false;
  const std::string presented = SecretDigest(secret);
  return CRYPTO_memcmp(presented.data(), digest.data(), SHA256_DIGEST_LENGTH) == 0;
}

}  // namespace unas::coordinator
