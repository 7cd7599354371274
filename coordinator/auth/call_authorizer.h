// Who may call what: workers present the worker token and may call
// WorkerService only; clients (unasctl, scripts) present the client token and
// may call JobService only, so a stolen worker credential cannot submit or
// cancel jobs. A service whose token is not configured is open (loopback
// use, tests); main.cc refuses to listen beyond loopback without both.
#ifndef UNAS_COORDINATOR_AUTH_CALL_AUTHORIZER_H_
#define UNAS_COORDINATOR_AUTH_CALL_AUTHORIZER_H_

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace unas::coordinator {

enum class CallerRole { kWorker, kClient };

class CallAuthorizer {
 public:
  CallAuthorizer(std::optional<std::string> worker_token, std::optional<std::string> client_token)
      : worker_token_(std::move(worker_token)), client_token_(std::move(client_token)) {}

  // For a call to the service of `role`, given the call's "authorization"
  // metadata (nullopt when it has none): OK; UNAUTHENTICATED when the token
  // is missing or unknown; PERMISSION_DENIED when it is the other role's.
  grpc::Status Check(std::optional<absl::string_view> authorization, CallerRole role) const;
  grpc::Status Check(const grpc::ServerContext& context, CallerRole role) const;

  // Whether a call with this "authorization" metadata may have its message
  // read at all: it carries either role's token, or a role is open (then
  // any call may be for it). Both comparisons always run.
  bool KnowsToken(std::optional<absl::string_view> authorization) const;

 private:
  std::optional<std::string> worker_token_;
  std::optional<std::string> client_token_;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_AUTH_CALL_AUTHORIZER_H_
