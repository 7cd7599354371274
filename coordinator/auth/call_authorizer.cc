#include "coordinator/auth/call_authorizer.h"

#include "common/rpc/channel.h"
#include "common/rpc/token_file.h"

namespace unas::coordinator {

grpc::Status CallAuthorizer::Check(std::optional<absl::string_view> authorization,
                                   CallerRole role) const {
  const std::optional<std::string>& own =
      role == CallerRole::kWorker ? worker_token_ : client_token_;
  const std::optional<std::string>& other =
      role == CallerRole::kWorker ? client_token_ : worker_token_;
  if (!own) return grpc::Status::OK;
  const char* service = role == CallerRole::kWorker ? "WorkerService" : "JobService";
  if (!authorization) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        std::string(service) +
                            " needs a token: \"authorization: Bearer TOKEN\" metadata "
                            "(--token-file)");
  }
  // Both comparisons always run, so timing does not tell which one matched.
  bool is_own = rpc::BearerTokenMatches(*authorization, *own);
  bool is_other = other.has_value() && rpc::BearerTokenMatches(*authorization, *other);
  if (is_own) return grpc::Status::OK;
  if (is_other) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        role == CallerRole::kWorker
                            ? "a client token may not call WorkerService"
                            : "a worker token may not call JobService (submit, cancel, ...)");
  }
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      std::string("the token is not valid for ") + service);
}

bool CallAuthorizer::KnowsToken(std::optional<absl::string_view> authorization) const {
  if (!worker_token_ || !client_token_) return true;
  if (!authorization) return false;
  const bool worker = rpc::BearerTokenMatches(*authorization, *worker_token_);
  const bool client = rpc::BearerTokenMatches(*authorization, *client_token_);
  return worker || client;
}

grpc::Status CallAuthorizer::Check(const grpc::ServerContext& context, CallerRole role) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(rpc::kAuthorizationKey);
  if (it == metadata.end()) return Check(std::nullopt, role);
  return Check(absl::string_view(it->second.data(), it->second.size()), role);
}

}  // namespace unas::coordinator
