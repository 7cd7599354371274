#include "coordinator/auth/server_security.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/token_file.h"
#include "coordinator/auth/token_metadata_processor.h"

namespace unas::coordinator {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path,
                                    const std::string& marker) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, " ", path, ": cannot read"));
  std::stringstream contents;
  contents << in.rdbuf();
  if (contents.str().find(marker) == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, " is not a PEM file"));
  }
  return contents.str();
}

}  // namespace

absl::StatusOr<ServerSecurity> MakeServerSecurity(const ServerSecurityOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  bool tls = !options.tls_cert_file.empty();
  if (!rpc::IsLoopbackAddress(options.listen) && !options.insecure) {
    std::vector<std::string> missing;
    if (!tls) missing.push_back("--tls-cert/--tls-key");
    if (options.worker_token_file.empty()) missing.push_back("--worker-token-file");
    if (options.client_token_file.empty()) missing.push_back("--client-token-file");
    if (!missing.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--listen ", options.listen, " is reachable from the network: give ",
          absl::StrJoin(missing, ", "),
          " (deploy/tls/make-certs makes them), or --insecure to serve without them anyway"));
    }
  }

  ServerSecurity security;
  security.tls = tls;
  if (tls) {
    absl::StatusOr<std::string> cert =
        ReadPem("--tls-cert", options.tls_cert_file, "-----BEGIN CERTIFICATE-----");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key =
        ReadPem("--tls-key", options.tls_key_file, "PRIVATE KEY-----");
    if (!key.ok()) return key.status();
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
    security.credentials = grpc::SslServerCredentials(ssl);
  } else {
    security.credentials = grpc::InsecureServerCredentials();
  }

  std::optional<std::string> worker_token, client_token;
  if (!options.worker_token_file.empty()) {
    absl::StatusOr<std::string> token = rpc::ReadTokenFile(options.worker_token_file);
    if (!token.ok()) return token.status();
    worker_token = *std::move(token);
  }
  if (!options.client_token_file.empty()) {
    absl::StatusOr<std::string> token = rpc::ReadTokenFile(options.client_token_file);
    if (!token.ok()) return token.status();
    client_token = *std::move(token);
  }
  if (worker_token && client_token && *worker_token == *client_token) {
    return absl::InvalidArgumentError(
        "--worker-token-file and --client-token-file hold the same token: a worker could then "
        "submit and cancel jobs");
  }
  security.authorizer =
      std::make_unique<CallAuthorizer>(std::move(worker_token), std::move(client_token));
  if (tls) {
    // Tokens are checked before a message is read (token_metadata_processor.h).
    security.credentials->SetAuthMetadataProcessor(
        std::make_shared<TokenMetadataProcessor>(*security.authorizer));
  }
  return security;
}

}  // namespace unas::coordinator
