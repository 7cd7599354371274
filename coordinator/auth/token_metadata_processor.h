// The token check that runs before a call's message is read: gRPC calls an
// AuthMetadataProcessor with the call's metadata only, and a call it refuses
// ends UNAUTHENTICATED without its body ever being received or parsed. So a
// caller without a token cannot make the coordinator read (and allocate for)
// a message of up to --max-message-mb. It accepts the worker and the client
// token alike; which service each may call is decided after, by
// CallAuthorizer in the handlers (a caller with a token is known).
//
// gRPC runs it on TLS servers only (InsecureServerCredentials refuses a
// processor), so on plaintext loopback the handlers' check is the only one.
#ifndef UNAS_COORDINATOR_AUTH_TOKEN_METADATA_PROCESSOR_H_
#define UNAS_COORDINATOR_AUTH_TOKEN_METADATA_PROCESSOR_H_

#include <grpcpp/security/auth_metadata_processor.h>

#include "coordinator/auth/call_authorizer.h"

namespace unas::coordinator {

class TokenMetadataProcessor : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenMetadataProcessor(CallAuthorizer authorizer) : authorizer_(std::move(authorizer)) {}

  // Two constant-time comparisons: cheap enough to run on gRPC's own thread.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  CallAuthorizer authorizer_;
};

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_AUTH_TOKEN_METADATA_PROCESSOR_H_
