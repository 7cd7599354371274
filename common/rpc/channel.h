// How workers and unasctl reach a coordinator: plaintext on loopback, or TLS
// verified against the cluster's CA, with a bearer token on every call when
// one is configured (docs/operations.md, "Security").
#ifndef UNAS_COMMON_RPC_CHANNEL_H_
#define UNAS_COMMON_RPC_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace unas::rpc {

// The metadata key carrying "Bearer <token>" (gRPC keys are lower case).
inline constexpr char kAuthorizationKey[] = "authorization";

struct ChannelSecurity {
  // PEM file of the CA that signed the coordinator's certificate. Empty:
  // plaintext (only sensible on loopback).
  std::string tls_ca_file;
  // File holding the token sent as "authorization: Bearer <token>". Empty:
  // no token.
  std::string token_file;
  // The name checked against the certificate instead of the host in the
  // address (e.g. when connecting by an IP the certificate does not list).
  std::string tls_server_name;
};

// A channel to `target` with `security` applied over `args`. The files are
// read now; errors name the one that could not be used.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ChannelSecurity& security,
                                                           grpc::ChannelArguments args = {});

}  // namespace unas::rpc

#endif  // UNAS_COMMON_RPC_CHANNEL_H_
