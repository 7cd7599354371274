// Token files, loopback detection, token checks per service and the rule
// that keeps a coordinator off the network without TLS and tokens.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/rpc/channel.h"
#include "common/rpc/token_file.h"
#include "coordinator/auth/call_authorizer.h"
#include "coordinator/auth/server_security.h"
#include "gtest/gtest.h"

namespace unas::coordinator {
namespace {

std::string WriteFile(const std::string& name, const std::string& contents, int mode = 0600) {
  std::string path = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path) << contents;
  chmod(path.c_str(), mode);
  return path;
}

TEST(TokenFileTest, TrimsWhitespaceAndRefusesEmptyOrMissingFiles) {
  absl::StatusOr<std::string> token = rpc::ReadTokenFile(WriteFile("t1", "  abc123\n\n"));
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(*token, "abc123");
  EXPECT_EQ(rpc::ReadTokenFile(WriteFile("t2", " \n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(rpc::ReadTokenFile(WriteFile("t3", "two words")).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status missing = rpc::ReadTokenFile("/nonexistent/token").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("/nonexistent/token"), absl::string_view::npos);
  // Readable by others: still read (with a warning in the log).
  EXPECT_TRUE(rpc::ReadTokenFile(WriteFile("t4", "abc", 0644)).ok());
}

TEST(LoopbackTest, OnlyThisMachineCounts) {
  for (const char* address : {"127.0.0.1:50051", "127.8.9.10:1", "localhost:50051", "LOCALHOST:1",
                              "[::1]:50051", "::1", "127.0.0.1", "ipv4:127.0.0.1:5"}) {
    EXPECT_TRUE(rpc::IsLoopbackAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:50051", "head:50051", "128.0.0.1:1", "127.0.0:1",
        "localhost.example.com:1", "[::2]:1", "1127.0.0.1:1"}) {
    EXPECT_FALSE(rpc::IsLoopbackAddress(address)) << address;
  }
}

TEST(BearerTokenTest, MatchesExactlyTheToken) {
  EXPECT_TRUE(rpc::BearerTokenMatches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(rpc::BearerTokenMatches("bearer s3cret", "s3cret"));
  EXPECT_FALSE(rpc::BearerTokenMatches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(rpc::BearerTokenMatches("Bearer s3crett", "s3cret"));
  EXPECT_FALSE(rpc::BearerTokenMatches("Bearer s3creT", "s3cret"));
  EXPECT_FALSE(rpc::BearerTokenMatches("s3cret", "s3cret"));
  EXPECT_FALSE(rpc::BearerTokenMatches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(rpc::BearerTokenMatches("Bearer ", ""));
}

TEST(CallAuthorizerTest, EachTokenOpensItsOwnServiceOnly) {
  CallAuthorizer auth("wtoken", "ctoken");
  EXPECT_TRUE(auth.Check("Bearer wtoken", CallerRole::kWorker).ok());
  EXPECT_TRUE(auth.Check("Bearer ctoken", CallerRole::kClient).ok());
  EXPECT_EQ(auth.Check("Bearer wtoken", CallerRole::kClient).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(auth.Check("Bearer ctoken", CallerRole::kWorker).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  for (CallerRole role : {CallerRole::kWorker, CallerRole::kClient}) {
    EXPECT_EQ(auth.Check(std::nullopt, role).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(auth.Check("Bearer nope", role).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(auth.Check("", role).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
}

TEST(CallAuthorizerTest, AServiceWithoutATokenIsOpen) {
  CallAuthorizer none(std::nullopt, std::nullopt);
  EXPECT_TRUE(none.Check(std::nullopt, CallerRole::kWorker).ok());
  EXPECT_TRUE(none.Check("Bearer anything", CallerRole::kClient).ok());
  CallAuthorizer client_only(std::nullopt, "ctoken");
  EXPECT_TRUE(client_only.Check(std::nullopt, CallerRole::kWorker).ok());
  EXPECT_EQ(client_only.Check(std::nullopt, CallerRole::kClient).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST(ServerSecurityTest, BeyondLoopbackNeedsTlsAndBothTokensOrInsecure) {
  ServerSecurityOptions options;
  options.listen = "0.0.0.0:50051";
  absl::StatusOr<ServerSecurity> refused = MakeServerSecurity(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--tls-cert"), absl::string_view::npos);
  EXPECT_NE(refused.status().message().find("--insecure"), absl::string_view::npos);

  options.worker_token_file = WriteFile("w.token", "wtoken");
  options.client_token_file = WriteFile("c.token", "ctoken");
  refused = MakeServerSecurity(options);  // tokens but no TLS
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message().find("--worker-token-file"), absl::string_view::npos);

  options.insecure = true;
  absl::StatusOr<ServerSecurity> insecure = MakeServerSecurity(options);
  ASSERT_TRUE(insecure.ok()) << insecure.status();
  EXPECT_FALSE(insecure->tls);
  // The tokens are honoured even so.
  EXPECT_EQ(insecure->authorizer->Check(std::nullopt, CallerRole::kClient).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  ServerSecurityOptions loopback;
  loopback.listen = "127.0.0.1:0";
  absl::StatusOr<ServerSecurity> open = MakeServerSecurity(loopback);
  ASSERT_TRUE(open.ok()) << open.status();
  EXPECT_TRUE(open->authorizer->Check(std::nullopt, CallerRole::kClient).ok());
}

TEST(ServerSecurityTest, RefusesBadFilesAndOneTokenForBothRoles) {
  ServerSecurityOptions options;
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = WriteFile("cert.pem", "not a certificate");
  EXPECT_EQ(MakeServerSecurity(options).status().code(), absl::StatusCode::kInvalidArgument)
      << "--tls-cert without --tls-key";
  options.tls_key_file = WriteFile("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  absl::Status bad = MakeServerSecurity(options).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("cert.pem"), absl::string_view::npos);

  ServerSecurityOptions same;
  same.listen = "127.0.0.1:0";
  same.worker_token_file = WriteFile("same1.token", "abc");
  same.client_token_file = WriteFile("same2.token", "abc\n");
  EXPECT_EQ(MakeServerSecurity(same).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ChannelTest, NamesTheFileItCannotUse) {
  rpc::ChannelSecurity security;
  security.tls_ca_file = WriteFile("ca.pem", "garbage");
  absl::Status s = rpc::MakeChannel("127.0.0.1:1", security).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ca.pem"), absl::string_view::npos);
  security = {};
  security.token_file = "/nonexistent/client.token";
  EXPECT_EQ(rpc::MakeChannel("127.0.0.1:1", security).status().code(), absl::StatusCode::kNotFound);
  security.token_file = WriteFile("client.token", "ctoken");
  EXPECT_TRUE(rpc::MakeChannel("127.0.0.1:1", security).ok());
}

}  // namespace
}  // namespace unas::coordinator
