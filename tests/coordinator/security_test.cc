// A real unas-coordinator serving TLS with worker and client tokens (made by
// deploy/tls/make-certs), probed over real gRPC channels on loopback: who is
// refused with which code, that a worker and a client with the right
// credentials run a job through TLS, that clients without the CA cannot
// connect, that oversized and malformed requests do not disturb a running
// job, and the rule that keeps a coordinator off the network without TLS.
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "common/rpc/token_file.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/coordinator/rpc_test_util.h"
#include "unas/v1/job_service.grpc.pb.h"
#include "unas/v1/worker_service.grpc.pb.h"
#include "worker/daemon/synthetic_evaluator.h"
#include "worker/daemon/worker_loop.h"

namespace unas::coordinator {
namespace {

using namespace ::unas::coordinator::testing;  // NOLINT

std::string MakeCerts(const std::string& dir) {
  unas::testing::CommandResult made = unas::testing::RunCommand(
      {"/bin/bash", std::string(UNAS_SOURCE_DIR) + "/deploy/tls/make-certs", dir, "localhost"});
  EXPECT_EQ(made.exit_code, 0) << made.out << made.err;
  return dir;
}

grpc::Status ListJobsVia(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::JobService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(context, 5);
  v1::ListJobsResponse response;
  return stub->ListJobs(&context, v1::ListJobsRequest(), &response);
}

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(unas::testing::MakeTestDir("security"));
    certs_ = new std::string(MakeCerts(*dir_ + "/certs"));
    other_certs_ = new std::string(MakeCerts(*dir_ + "/other"));
    coordinator_ = new CoordinatorProcess(
        *dir_, *dir_ + "/search.db", 0,
        {"--tls-cert", *certs_ + "/server.pem", "--tls-key", *certs_ + "/server-key.pem",
         "--worker-token-file", *certs_ + "/worker.token", "--client-token-file",
         *certs_ + "/client.token", "--max-message-mb", "1", "--heartbeat-interval", "1"});
  }
  static void TearDownTestSuite() {
    delete coordinator_;
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(*dir_);
    delete dir_;
    delete certs_;
    delete other_certs_;
  }

  static std::string Ca() { return *certs_ + "/ca.pem"; }
  static std::string WorkerToken() { return *certs_ + "/worker.token"; }
  static std::string ClientToken() { return *certs_ + "/client.token"; }

  // A channel with the right CA and the given token file ("" for none).
  static std::shared_ptr<grpc::Channel> Channel(const std::string& token_file) {
    return SecureChannel(coordinator_->address(), Ca(), token_file);
  }

  static grpc::Status ListJobs(const std::shared_ptr<grpc::Channel>& channel) {
    return ListJobsVia(channel);
  }

  static v1::Job GetJob(int64_t job_id) {
    auto stub = v1::JobService::NewStub(Channel(ClientToken()));
    grpc::ClientContext context;
    SetDeadline(context, 5);
    v1::GetJobRequest request;
    request.set_job_id(job_id);
    v1::Job job;
    EXPECT_TRUE(stub->GetJob(&context, request, &job).ok());
    return job;
  }

  static int64_t SubmitJob(const v1::JobSpec& spec) {
    auto stub = v1::JobService::NewStub(Channel(ClientToken()));
    grpc::ClientContext context;
    SetDeadline(context);
    v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    v1::Job job;
    grpc::Status status = stub->SubmitJob(&context, request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job.job_id();
  }

  static v1::Job WaitForEnd(int64_t job_id) {
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    v1::Job job;
    while (absl::Now() < deadline) {
      job = GetJob(job_id);
      if (job.state() != v1::JOB_STATE_RUNNING) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return job;
  }

  // A synthetic worker in this process, through TLS with the worker token.
  class TlsWorker {
   public:
    explicit TlsWorker(const std::string& name, absl::Duration delay = absl::ZeroDuration())
        : evaluator_(worker::SyntheticOptions{delay, 1}) {
      worker::WorkerOptions options;
      options.coordinator = coordinator_->address();
      options.security.tls_ca_file = Ca();
      options.security.token_file = WorkerToken();
      options.name = name;
      options.acquire_wait_seconds = 1;
      options.device = "synthetic";
      loop_ = std::make_unique<worker::WorkerLoop>(options, &evaluator_);
      thread_ = std::thread([this] { status_ = loop_->Run(); });
    }
    ~TlsWorker() {
      loop_->Stop();
      thread_.join();
      EXPECT_TRUE(status_.ok()) << status_;
    }
    int reported() const { return loop_->evaluations_reported(); }

   private:
    worker::SyntheticEvaluator evaluator_;
    std::unique_ptr<worker::WorkerLoop> loop_;
    std::thread thread_;
    absl::Status status_;
  };

  static std::string* dir_;
  static std::string* certs_;
  static std::string* other_certs_;
  static CoordinatorProcess* coordinator_;
};

std::string* SecurityTest::dir_ = nullptr;
std::string* SecurityTest::certs_ = nullptr;
std::string* SecurityTest::other_certs_ = nullptr;
CoordinatorProcess* SecurityTest::coordinator_ = nullptr;

std::vector<std::string> AllMethods() {
  std::vector<std::string> paths = MethodPaths(v1::JobService::service_full_name());
  std::vector<std::string> worker = MethodPaths(v1::WorkerService::service_full_name());
  paths.insert(paths.end(), worker.begin(), worker.end());
  return paths;
}

TEST_F(SecurityTest, EveryMethodRefusesAMissingOrWrongToken) {
  std::string wrong = *dir_ + "/wrong.token";
  std::ofstream(wrong) << "0123456789abcdef\n";
  std::filesystem::permissions(wrong, std::filesystem::perms::owner_read);
  std::vector<std::string> methods = AllMethods();
  ASSERT_EQ(methods.size(), 15u);
  for (const std::string& token : {std::string(), wrong}) {
    std::shared_ptr<grpc::Channel> channel = Channel(token);
    for (const std::string& method : methods) {
      grpc::Status status = RawCall(channel.get(), method, "");
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with token '" << token << "': " << status.error_message();
    }
  }
}

// The token is checked on the call's metadata, before its message is read
// or parsed: bytes that are no protobuf message, sent without a valid
// token, are refused as UNAUTHENTICATED (before, the server parsed them
// first and answered that it could not).
TEST_F(SecurityTest, TokensAreCheckedBeforeTheMessageIsParsed) {
  std::string wrong = *dir_ + "/wrong-before-parse.token";
  std::ofstream(wrong) << "fedcba9876543210\n";
  std::filesystem::permissions(wrong, std::filesystem::perms::owner_read);
  const std::string garbage = "\xff\xff\xff\xff\x0f\x12\x80";
  for (const std::string& token : {std::string(), wrong}) {
    std::shared_ptr<grpc::Channel> channel = Channel(token);
    for (const std::string& method : AllMethods()) {
      grpc::Status status = RawCall(channel.get(), method, garbage);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with token '" << token << "': " << status.error_message();
    }
  }
  // With a token, the same bytes reach the parser.
  grpc::Status parsed =
      RawCall(Channel(WorkerToken()).get(), "/unas.v1.WorkerService/RegisterWorker", garbage);
  EXPECT_NE(parsed.error_code(), grpc::StatusCode::UNAUTHENTICATED) << parsed.error_message();
  EXPECT_FALSE(parsed.ok());
}

TEST_F(SecurityTest, EachTokenIsDeniedTheOtherService) {
  std::shared_ptr<grpc::Channel> worker = Channel(WorkerToken());
  std::shared_ptr<grpc::Channel> client = Channel(ClientToken());
  for (const std::string& method : MethodPaths(v1::JobService::service_full_name())) {
    EXPECT_EQ(RawCall(worker.get(), method, "").error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method;
  }
  for (const std::string& method : MethodPaths(v1::WorkerService::service_full_name())) {
    EXPECT_EQ(RawCall(client.get(), method, "").error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method;
  }
  // The typed call, as a stolen worker credential would try it.
  auto stub = v1::JobService::NewStub(worker);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::SubmitJobRequest request;
  *request.mutable_spec() = SmallSpec(2);
  v1::Job job;
  grpc::Status status = stub->SubmitJob(&context, request, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_TRUE(ListJobs(client).ok());
}

TEST_F(SecurityTest, RightTokensRunAJobThroughTls) {
  int64_t job_id = SubmitJob(SmallSpec(8, /*seed=*/5));
  {
    TlsWorker worker("tls-worker");
    v1::Job job = WaitForEnd(job_id);
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator_->process().ReadLog();
    EXPECT_EQ(job.progress().evaluations_done(), 8);
    EXPECT_GT(worker.reported(), 0);
  }
  EXPECT_NE(coordinator_->process().ReadLog().find("(TLS)"), std::string::npos);
}

TEST_F(SecurityTest, ClientsWithoutTheCaCannotConnect) {
  // Plaintext, with the right token.
  rpc::ChannelSecurity plaintext;
  plaintext.token_file = ClientToken();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      rpc::MakeChannel(coordinator_->address(), plaintext);
  ASSERT_TRUE(channel.ok());
  EXPECT_EQ(ListJobs(*channel).error_code(), grpc::StatusCode::UNAVAILABLE);
  // TLS trusting another CA.
  EXPECT_EQ(
      ListJobs(SecureChannel(coordinator_->address(), *other_certs_ + "/ca.pem", ClientToken()))
          .error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // The right CA, but a name the certificate does not carry.
  EXPECT_EQ(
      ListJobs(SecureChannel(coordinator_->address(), Ca(), ClientToken(), "elsewhere.example"))
          .error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // The name override, with a name it does carry; and the plain address.
  EXPECT_TRUE(
      ListJobs(SecureChannel(coordinator_->address(), Ca(), ClientToken(), "localhost")).ok());
  EXPECT_TRUE(ListJobs(Channel(ClientToken())).ok());
}

TEST_F(SecurityTest, OversizedAndMalformedRequestsLeaveARunningJobAlone) {
  int64_t job_id = SubmitJob(SmallSpec(30, /*seed=*/9));
  TlsWorker worker("steady-worker", absl::Milliseconds(30));
  std::shared_ptr<grpc::Channel> client = Channel(ClientToken());
  std::shared_ptr<grpc::Channel> worker_channel = Channel(WorkerToken());
  std::shared_ptr<grpc::Channel> anonymous = Channel("");

  // Over --max-message-mb 1, with and without a token.
  v1::SubmitJobRequest big;
  *big.mutable_spec() = SmallSpec(2);
  big.mutable_spec()->set_name(std::string(2 << 20, 'x'));
  grpc::Status too_big =
      RawCall(client.get(), "/unas.v1.JobService/SubmitJob", big.SerializeAsString());
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << too_big.error_message();
  // Without a token the message is never read: refused on its metadata.
  too_big = RawCall(anonymous.get(), "/unas.v1.JobService/SubmitJob", big.SerializeAsString());
  EXPECT_EQ(too_big.error_code(), grpc::StatusCode::UNAUTHENTICATED) << too_big.error_message();
  v1::CompleteTaskRequest huge_result;
  huge_result.set_job_id(job_id);
  huge_result.mutable_result()->set_trained_weights(std::string(3 << 20, '\0'));
  EXPECT_EQ(RawCall(worker_channel.get(), "/unas.v1.WorkerService/CompleteTask",
                    huge_result.SerializeAsString())
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Bytes that are no protobuf message.
  std::string garbage = "\xff\xff\xff\xff\x0f\x12\x80";
  for (const auto& [channel, method] :
       std::vector<std::pair<std::shared_ptr<grpc::Channel>, std::string>>{
           {client, "/unas.v1.JobService/SubmitJob"},
           {worker_channel, "/unas.v1.WorkerService/CompleteTask"},
           {anonymous, "/unas.v1.WorkerService/RegisterWorker"}}) {
    grpc::Status status = RawCall(channel.get(), method, garbage);
    EXPECT_FALSE(status.ok()) << method;
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE) << method;
  }
  // Well-formed nonsense: a result for a job that does not exist, an empty
  // spec, a method that does not exist.
  v1::CompleteTaskRequest bogus;
  bogus.set_job_id(9999);
  bogus.set_candidate_id(1);
  EXPECT_EQ(RawCall(worker_channel.get(), "/unas.v1.WorkerService/CompleteTask",
                    bogus.SerializeAsString())
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(RawCall(client.get(), "/unas.v1.JobService/SubmitJob", "").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(RawCall(client.get(), "/unas.v1.JobService/DropTables", "").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  v1::Job job = WaitForEnd(job_id);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << coordinator_->process().ReadLog();
  EXPECT_EQ(job.progress().evaluations_done(), 30);
  EXPECT_EQ(job.progress().evaluations_failed(), 0);
  EXPECT_TRUE(coordinator_->process().running());
}

TEST_F(SecurityTest, UnasctlConnectsWithFlagsOrEnvironment) {
  std::string unasctl = unas::testing::BinaryPath("unasctl");
  unas::testing::CommandResult flags =
      unas::testing::RunCommand({unasctl, "jobs", "--coordinator", coordinator_->address(),
                                 "--tls-ca", Ca(), "--token-file", ClientToken()});
  EXPECT_EQ(flags.exit_code, 0) << flags.out << flags.err;
  unas::testing::CommandResult env = unas::testing::RunCommand(
      {"/usr/bin/env", "UNAS_TLS_CA=" + Ca(), "UNAS_TOKEN_FILE=" + ClientToken(), unasctl, "jobs",
       "--coordinator", coordinator_->address()});
  EXPECT_EQ(env.exit_code, 0) << env.out << env.err;
  unas::testing::CommandResult worker_token =
      unas::testing::RunCommand({unasctl, "jobs", "--coordinator", coordinator_->address(),
                                 "--tls-ca", Ca(), "--token-file", WorkerToken()});
  EXPECT_EQ(worker_token.exit_code, 1);
  EXPECT_NE(worker_token.err.find("client token"), std::string::npos) << worker_token.err;
  unas::testing::CommandResult no_ca = unas::testing::RunCommand(
      {unasctl, "jobs", "--coordinator", coordinator_->address(), "--token-file", ClientToken()});
  EXPECT_EQ(no_ca.exit_code, 1);
  EXPECT_NE(no_ca.err.find("--tls-ca"), std::string::npos) << no_ca.err;
}

#ifdef UNAS_HAVE_WORKER_BINARY
TEST_F(SecurityTest, WorkerBinaryConnectsWithFlagsOrEnvironment) {
  std::string worker = unas::testing::BinaryPath("unas-worker");
  std::vector<std::string> common = {worker,        "--coordinator",  coordinator_->address(),
                                     "--synthetic", "--acquire-wait", "1"};
  std::vector<std::string> by_flags = common;
  by_flags.insert(by_flags.end(),
                  {"--name", "by-flags", "--tls-ca", Ca(), "--token-file", WorkerToken()});
  unas::Subprocess flags_worker(by_flags, *dir_ + "/by-flags.log");
  std::vector<std::string> by_env = common;
  by_env.insert(by_env.end(), {"--name", "by-env", "--tls-server-name", "localhost"});
  unas::SubprocessOptions env;
  env.env = {"UNAS_TLS_CA=" + Ca(), "UNAS_TOKEN_FILE=" + WorkerToken()};
  unas::Subprocess env_worker(by_env, *dir_ + "/by-env.log", env);
  // Both must have registered through TLS with their token (before the job, so
  // that neither can miss it and be signalled while still starting up).
  auto stub = v1::JobService::NewStub(Channel(ClientToken()));
  std::set<std::string> names;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!(names.contains("by-flags") && names.contains("by-env")) && absl::Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    grpc::ClientContext context;
    SetDeadline(context);
    v1::ListWorkersResponse workers;
    ASSERT_TRUE(stub->ListWorkers(&context, v1::ListWorkersRequest(), &workers).ok());
    names.clear();
    for (const v1::WorkerInfo& w : workers.workers()) names.insert(w.name());
  }
  EXPECT_TRUE(names.contains("by-flags") && names.contains("by-env"))
      << flags_worker.ReadLog() << env_worker.ReadLog();
  int64_t job_id = SubmitJob(SmallSpec(8, /*seed=*/11));
  v1::Job job = WaitForEnd(job_id);
  EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << flags_worker.ReadLog() << env_worker.ReadLog();
  flags_worker.Signal(SIGTERM);
  env_worker.Signal(SIGTERM);
  EXPECT_EQ(flags_worker.Wait(absl::Seconds(20)), 0) << flags_worker.ReadLog();
  EXPECT_EQ(env_worker.Wait(absl::Seconds(20)), 0) << env_worker.ReadLog();

  // A CA file that is not one: a clear error at once, naming it.
  std::vector<std::string> bad = common;
  bad.insert(bad.end(), {"--name", "bad-ca", "--tls-ca", WorkerToken()});
  unas::testing::CommandResult refused = unas::testing::RunCommand(bad, absl::Seconds(20));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE((refused.out + refused.err).find("worker.token holds no PEM certificate"),
            std::string::npos)
      << refused.out << refused.err;
}
#endif  // UNAS_HAVE_WORKER_BINARY

TEST(MakeCertsTest, KeepsSecretsPrivateAndRefusesToOverwrite) {
  std::string dir = unas::testing::MakeTestDir("make-certs");
  std::string script = std::string(UNAS_SOURCE_DIR) + "/deploy/tls/make-certs";
  unas::testing::CommandResult made =
      unas::testing::RunCommand({"/bin/bash", script, dir, "head.example", "10.1.2.3"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  for (const char* secret : {"ca-key.pem", "server-key.pem", "worker.token", "client.token"}) {
    struct stat info;
    ASSERT_EQ(stat((dir + "/" + secret).c_str(), &info), 0) << secret;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << secret;
  }
  absl::StatusOr<std::string> worker = rpc::ReadTokenFile(dir + "/worker.token");
  absl::StatusOr<std::string> client = rpc::ReadTokenFile(dir + "/client.token");
  ASSERT_TRUE(worker.ok() && client.ok());
  EXPECT_EQ(worker->size(), 64u);
  EXPECT_NE(*worker, *client);
  unas::testing::CommandResult names = unas::testing::RunCommand(
      {"/usr/bin/openssl", "x509", "-in", dir + "/server.pem", "-noout", "-ext", "subjectAltName"});
  for (const char* name :
       {"DNS:head.example", "IP Address:10.1.2.3", "DNS:localhost", "IP Address:127.0.0.1"}) {
    EXPECT_NE(names.out.find(name), std::string::npos) << names.out;
  }
  unas::testing::CommandResult verified = unas::testing::RunCommand(
      {"/usr/bin/openssl", "verify", "-CAfile", dir + "/ca.pem", dir + "/server.pem"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  unas::testing::CommandResult again = unas::testing::RunCommand({"/bin/bash", script, dir, "x"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(rpc::ReadTokenFile(dir + "/worker.token").value_or(""), *worker);
  unas::testing::CommandResult forced =
      unas::testing::RunCommand({"/bin/bash", script, dir, "--force", "x"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(rpc::ReadTokenFile(dir + "/worker.token").value_or(""), *worker);
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

// Tokens without TLS on loopback: honoured, and sent by clients in plaintext.
TEST(LoopbackTokensTest, TokensAreCheckedWithoutTls) {
  std::string dir = unas::testing::MakeTestDir("loopback-tokens");
  std::string certs = MakeCerts(dir + "/certs");
  CoordinatorProcess coordinator(dir, dir + "/search.db", 0,
                                 {"--worker-token-file", certs + "/worker.token",
                                  "--client-token-file", certs + "/client.token"});
  auto channel = [&](const std::string& token) {
    return SecureChannel(coordinator.address(), /*ca_file=*/"", token);
  };
  EXPECT_TRUE(ListJobsVia(channel(certs + "/client.token")).ok());
  EXPECT_EQ(ListJobsVia(channel("")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListJobsVia(channel(certs + "/worker.token")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  unas::testing::CommandResult unasctl = unas::testing::RunCommand(
      {unas::testing::BinaryPath("unasctl"), "jobs", "--coordinator", coordinator.address()});
  EXPECT_EQ(unasctl.exit_code, 1);
  EXPECT_NE(unasctl.err.find("--token-file"), std::string::npos) << unasctl.err;
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

// Starts a coordinator on `listen` with `flags`: its exit code if it refuses
// to start, or -1 once it is serving (then it is stopped).
struct ListenOutcome {
  int exit_code = -1;
  std::string log;
  bool served_tls_client = false;
};

ListenOutcome TryListen(const std::string& dir, const std::string& listen,
                        std::vector<std::string> flags, const std::string& ca = "",
                        const std::string& token = "") {
  std::string port_file = dir + "/listen.port";
  std::filesystem::remove(port_file);
  std::filesystem::remove(dir + "/listen.db");
  std::vector<std::string> argv = {unas::testing::BinaryPath("unas-coordinator"),
                                   "--db",
                                   dir + "/listen.db",
                                   "--listen",
                                   listen,
                                   "--port-file",
                                   port_file};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::string log = dir + "/listen.log";
  std::filesystem::remove(log);
  unas::Subprocess process(argv, log);
  ListenOutcome outcome;
  // Serving (the port file appears) or refused (the process exits).
  std::optional<int> port;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (!port && absl::Now() < deadline) {
    if (std::optional<int> code = process.Wait(absl::Milliseconds(50))) {
      outcome.exit_code = *code;
      break;
    }
    port = unas::WaitForPortFile(port_file, absl::Milliseconds(30));
  }
  if (!port) {
    EXPECT_GE(outcome.exit_code, 0) << "neither served nor exited";
  } else {
    if (!ca.empty()) {
      outcome.served_tls_client =
          ListJobsVia(SecureChannel("127.0.0.1:" + std::to_string(*port), ca, token)).ok();
    }
    process.Signal(SIGTERM);
    EXPECT_EQ(process.Wait(absl::Seconds(10)), 0);
  }
  outcome.log = process.ReadLog();
  return outcome;
}

TEST(ListenRuleTest, BeyondLoopbackNeedsTlsAndTokensOrInsecure) {
  std::string dir = unas::testing::MakeTestDir("listen-rule");
  std::string certs = MakeCerts(dir + "/certs");
  std::vector<std::string> tls = {"--tls-cert", certs + "/server.pem", "--tls-key",
                                  certs + "/server-key.pem"};
  std::vector<std::string> tokens = {"--worker-token-file", certs + "/worker.token",
                                     "--client-token-file", certs + "/client.token"};

  ListenOutcome bare = TryListen(dir, "0.0.0.0:0", {});
  EXPECT_EQ(bare.exit_code, 2) << bare.log;
  EXPECT_NE(bare.log.find("--insecure"), std::string::npos) << bare.log;

  ListenOutcome tls_only = TryListen(dir, "0.0.0.0:0", tls);
  EXPECT_EQ(tls_only.exit_code, 2) << tls_only.log;
  EXPECT_NE(tls_only.log.find("--worker-token-file"), std::string::npos) << tls_only.log;

  ListenOutcome insecure = TryListen(dir, "0.0.0.0:0", {"--insecure"});
  EXPECT_EQ(insecure.exit_code, -1) << insecure.log;
  EXPECT_NE(insecure.log.find("--insecure"), std::string::npos) << insecure.log;

  std::vector<std::string> full = tls;
  full.insert(full.end(), tokens.begin(), tokens.end());
  ListenOutcome secured =
      TryListen(dir, "0.0.0.0:0", full, certs + "/ca.pem", certs + "/client.token");
  EXPECT_EQ(secured.exit_code, -1) << secured.log;
  EXPECT_TRUE(secured.served_tls_client) << secured.log;

  // Loopback needs nothing.
  EXPECT_EQ(TryListen(dir, "127.0.0.1:0", {}).exit_code, -1);
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace unas::coordinator
