// The coordinator's side of TLS and tokens: server credentials from PEM
// files, and the rule that decides whether it may start at all.
#ifndef UNAS_COORDINATOR_AUTH_SERVER_SECURITY_H_
#define UNAS_COORDINATOR_AUTH_SERVER_SECURITY_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "coordinator/auth/call_authorizer.h"

namespace unas::coordinator {

struct ServerSecurityOptions {
  std::string listen;         // HOST:PORT
  std::string tls_cert_file;  // PEM chain: the server certificate first
  std::string tls_key_file;   // PEM private key
  std::string worker_token_file;
  std::string client_token_file;
  bool insecure = false;  // allow plaintext and no tokens beyond loopback
};

struct ServerSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::unique_ptr<CallAuthorizer> authorizer;
  bool tls = false;
};

// Reads the files and applies the rule: listening on anything but loopback
// needs a TLS certificate and key and both tokens, or `insecure`.
// FAILED_PRECONDITION when the rule is broken (main exits 2 then); other
// errors name the file that could not be used.
absl::StatusOr<ServerSecurity> MakeServerSecurity(const ServerSecurityOptions& options);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_AUTH_SERVER_SECURITY_H_
