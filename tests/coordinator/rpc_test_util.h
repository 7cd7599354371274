// Raw gRPC calls for the security and metrics tests: any method by name with
// any bytes (to probe every method, and to send malformed requests), and
// channels with TLS and tokens.
#ifndef UNAS_TESTS_COORDINATOR_RPC_TEST_UTIL_H_
#define UNAS_TESTS_COORDINATOR_RPC_TEST_UTIL_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "common/rpc/channel.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace unas::coordinator::testing {

inline std::shared_ptr<grpc::Channel> SecureChannel(const std::string& address,
                                                    const std::string& ca_file,
                                                    const std::string& token_file,
                                                    const std::string& server_name = "") {
  rpc::ChannelSecurity security;
  security.tls_ca_file = ca_file;
  security.token_file = token_file;
  security.tls_server_name = server_name;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = rpc::MakeChannel(address, security);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return channel.ok() ? *channel : nullptr;
}

inline void SetDeadline(grpc::ClientContext& context, int seconds = 10) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
}

// Calls "/SERVICE/METHOD" with `payload` as the serialized request.
inline grpc::Status RawCall(grpc::Channel* channel, const std::string& path,
                            const std::string& payload) {
  grpc::GenericStub stub(std::shared_ptr<grpc::Channel>(channel, [](grpc::Channel*) {}));
  grpc::Slice slice(payload);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  SetDeadline(context);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

// "/unas.v1.JobService/SubmitJob", ... for every method of a service.
inline std::vector<std::string> MethodPaths(const std::string& service_full_name) {
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_full_name);
  EXPECT_NE(service, nullptr) << service_full_name;
  std::vector<std::string> paths;
  for (int i = 0; service != nullptr && i < service->method_count(); ++i) {
    paths.push_back("/" + service_full_name + "/" + service->method(i)->name());
  }
  return paths;
}

}  // namespace unas::coordinator::testing

#endif  // UNAS_TESTS_COORDINATOR_RPC_TEST_UTIL_H_
