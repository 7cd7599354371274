#include "coordinator/auth/token_metadata_processor.h"

#include <optional>

#include "common/rpc/channel.h"
#include "common/rpc/token_file.h"

namespace unas::coordinator {

grpc::Status TokenMetadataProcessor::Process(const InputMetadata& auth_metadata, grpc::AuthContext*,
                                             OutputMetadata*, OutputMetadata*) {
  // Nothing is consumed: the handlers read the same header to tell the
  // roles apart.
  std::optional<absl::string_view> authorization;
  if (auto it = auth_metadata.find(rpc::kAuthorizationKey); it != auth_metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  if (authorizer_.KnowsToken(authorization)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      "a valid token is needed: \"authorization: Bearer TOKEN\" metadata "
                      "(--token-file)");
}

}  // namespace unas::coordinator
