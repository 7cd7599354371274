#include "common/rpc/channel.h"

#include <grpcpp/support/client_interceptor.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/rpc/token_file.h"
#include "spdlog/spdlog.h"

namespace unas::rpc {
namespace {

namespace exp = grpc::experimental;

// Adds the token to the metadata of every call. An interceptor rather than
// call credentials: gRPC 1.51 attaches call credentials to TLS channels only,
// and a coordinator on loopback may check tokens without TLS.
class BearerTokenInterceptor final : public exp::Interceptor {
 public:
  explicit BearerTokenInterceptor(const std::string& header) : header_(header) {}

  void Intercept(exp::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            exp::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({kAuthorizationKey, header_});
    }
    methods->Proceed();
  }

 private:
  const std::string& header_;  // owned by the factory, which the channel keeps
};

class BearerTokenFactory final : public exp::ClientInterceptorFactoryInterface {
 public:
  explicit BearerTokenFactory(const std::string& token) : header_("Bearer " + token) {}
  exp::Interceptor* CreateClientInterceptor(exp::ClientRpcInfo*) override {
    return new BearerTokenInterceptor(header_);
  }

 private:
  std::string header_;
};

absl::StatusOr<std::string> ReadCa(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("TLS CA file ", path, ": cannot read"));
  std::stringstream contents;
  contents << in.rdbuf();
  if (contents.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS CA file ", path, " holds no PEM certificate"));
  }
  return contents.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const std::string& target,
                                                           const ChannelSecurity& security,
                                                           grpc::ChannelArguments args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!security.tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadCa(security.tls_ca_file);
    if (!ca.ok()) return ca.status();
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *std::move(ca);
    credentials = grpc::SslCredentials(options);
    if (!security.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(security.tls_server_name);
    }
  }
  std::vector<std::unique_ptr<exp::ClientInterceptorFactoryInterface>> interceptors;
  if (!security.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(security.token_file);
    if (!token.ok()) return token.status();
    if (security.tls_ca_file.empty() && !IsLoopbackAddress(target)) {
      spdlog::warn(
          "sending the token to {} without TLS: anyone on the network can read it "
          "(pass --tls-ca)",
          target);
    }
    interceptors.push_back(std::make_unique<BearerTokenFactory>(*token));
  }
  return exp::CreateCustomChannelWithInterceptors(target, credentials, args,
                                                  std::move(interceptors));
}

}  // namespace unas::rpc
