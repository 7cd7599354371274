// Secrets and random ids: a worker's per-registration secret, the digest the
// coordinator keeps of it (in memory and in the store, never the secret
// itself), its constant-time check, and lease ids. Everything random comes
// from OpenSSL's CSPRNG (RAND_bytes): a worker that sees its own secrets
// and lease ids learns nothing about anyone else's.
#ifndef UNAS_COORDINATOR_CORE_WORKER_IDENTITY_H_
#define UNAS_COORDINATOR_CORE_WORKER_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace unas::coordinator {

// 128 bits from RAND_bytes as 32 lower-case hex digits (worker secrets and
// lease ids). Aborts if the CSPRNG cannot be seeded: nothing handed out
// may be guessable.
std::string RandomHex128();

// The SHA-256 of `secret`, 32 raw bytes.
std::string SecretDigest(absl::string_view secret);

// True when `secret` hashes to `digest`, compared in constant time
// (CRYPTO_memcmp); false for an empty digest (a worker restored from a
// database that predates secrets must register again).
bool SecretMatches(absl::string_view secret, absl::string_view digest);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_WORKER_IDENTITY_H_
