// absl::Status <-> grpc::Status. The canonical codes have the same numbers.
#ifndef UNAS_COMMON_RPC_GRPC_STATUS_H_
#define UNAS_COMMON_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace unas {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace unas

#endif  // UNAS_COMMON_RPC_GRPC_STATUS_H_
