// unas-coordinator: serves JobService and WorkerService over one SQLite store.
//
//   unas-coordinator --db runs/search.db --listen 127.0.0.1:50051
//   unas-coordinator --db /var/lib/unas/search.db --listen 0.0.0.0:50051
//       --tls-cert server.pem --tls-key server-key.pem
//       --worker-token-file worker.token --client-token-file client.token
//       --metrics-listen 0.0.0.0:9464
//   unas-coordinator --db runs/search.db --http 127.0.0.1:8080   # live dashboard
//
// Beyond loopback it refuses to start (exit 2) without TLS and both tokens,
// unless --insecure says so explicitly (docs/operations.md, "Security"). The
// dashboard (--http, off by default) follows the same rule and uses the same
// certificate and client token (docs/dashboard.md).
//
// SIGTERM or SIGINT stops it gracefully: in-flight calls finish, long-polls
// return, the store is closed. After a crash (even SIGKILL) starting it again
// on the same database resumes every job.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "common/process/stop_signals.h"
#include "common/rpc/token_file.h"
#include "coordinator/auth/server_security.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/http/dashboard_server.h"
#include "coordinator/metrics/coordinator_metrics.h"
#include "coordinator/service/services.h"
#include "coordinator/store/store.h"
#include "spdlog/spdlog.h"

namespace {

// Writes `port` to `path` atomically (scripts poll for the file).
void WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"unas-coordinator: the μNAS search coordinator"};
  std::string db_path = "unas.db";
  std::string listen = "127.0.0.1:50051";
  std::string port_file;
  std::string log_level = "info";
  int heartbeat_interval = 5;
  int max_message_mb = 128;
  int lease_ttl = 0;
  int max_workers = 4096;
  unas::coordinator::ServerSecurityOptions security_options;
  std::string metrics_listen;
  std::string metrics_port_file;
  std::string http_listen;
  std::string http_port_file;
  std::vector<std::string> http_allowed_hosts;
  int http_max_connections = 32;
  int http_history_cache_mb = 256;
  app.add_option("--db", db_path, "SQLite database file (created if missing)");
  app.add_option("--listen", listen, "address:port to serve on (port 0 picks a free one)");
  app.add_option("--port-file", port_file, "write the port actually bound to this file");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--heartbeat-interval", heartbeat_interval, "seconds between worker heartbeats")
      ->check(CLI::Range(1, 3600));
  app.add_option("--lease-ttl", lease_ttl,
                 "lease TTL in seconds for jobs whose spec sets none (default: 120)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  app.add_option("--max-workers", max_workers,
                 "most live worker names (holding a lease, or seen in the last 10 minutes)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-message-mb", max_message_mb, "largest gRPC message accepted")
      ->check(CLI::Range(1, 2000));
  app.add_option("--tls-cert", security_options.tls_cert_file,
                 "PEM certificate chain of this server (with --tls-key: serve TLS)");
  app.add_option("--tls-key", security_options.tls_key_file, "PEM private key of --tls-cert");
  app.add_option("--worker-token-file", security_options.worker_token_file,
                 "file holding the token workers must present (WorkerService only)");
  app.add_option("--client-token-file", security_options.client_token_file,
                 "file holding the token clients must present (JobService only)");
  app.add_flag("--insecure", security_options.insecure,
               "serve beyond loopback without TLS or tokens (trusted networks only)");
  app.add_option("--metrics-listen", metrics_listen,
                 "serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks one)");
  app.add_option("--metrics-port-file", metrics_port_file,
                 "write the metrics port actually bound to this file");
  app.add_option("--http", http_listen,
                 "serve the live dashboard at HOST:PORT (port 0 picks one; off by default)");
  app.add_option("--http-port-file", http_port_file,
                 "write the dashboard port actually bound to this file");
  app.add_option("--http-allowed-hosts", http_allowed_hosts,
                 "Host names the dashboard answers besides IP literals, localhost, the --http "
                 "host and this machine's name (comma-separated; * allows any)")
      ->delimiter(',');
  app.add_option("--http-max-connections", http_max_connections,
                 "dashboard connections served at once (as many again may wait)")
      ->check(CLI::Range(1, 1024));
  app.add_option("--http-history-cache-mb", http_history_cache_mb,
                 "bound on the dashboard's cache of job histories")
      ->check(CLI::Range(1, 1 << 20));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  // Debian's abseil is built with mutex deadlock detection on, which gRPC's
  // mutexes pay for on every lock (a graph of lock orders); we do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  security_options.listen = listen;
  absl::StatusOr<unas::coordinator::ServerSecurity> security =
      unas::coordinator::MakeServerSecurity(security_options);
  if (!security.ok()) {
    spdlog::error("{}", std::string(security.status().message()));
    return security.status().code() == absl::StatusCode::kFailedPrecondition ? 2 : 1;
  }
  if (!unas::rpc::IsLoopbackAddress(listen) && security_options.insecure &&
      !(security->tls && !security_options.worker_token_file.empty() &&
        !security_options.client_token_file.empty())) {
    spdlog::warn("--insecure: serving {} without full TLS and token protection", listen);
  }

  // The dashboard beyond loopback needs what the gRPC API needs there: TLS
  // and the client token.
  std::optional<std::string> client_token;
  if (!http_listen.empty() && !security_options.client_token_file.empty()) {
    absl::StatusOr<std::string> token =
        unas::rpc::ReadTokenFile(security_options.client_token_file);
    if (!token.ok()) {
      spdlog::error("{}", std::string(token.status().message()));
      return 1;
    }
    client_token = *token;
  }
  if (!http_listen.empty() && !unas::rpc::IsLoopbackAddress(http_listen)) {
    if (!security->tls || !client_token) {
      if (!security_options.insecure) {
        spdlog::error(
            "--http {} is reachable from the network: it needs --tls-cert, --tls-key and "
            "--client-token-file (or --insecure on a trusted network)",
            http_listen);
        return 2;
      }
      spdlog::warn("--insecure: serving the dashboard on {} without TLS or a token", http_listen);
    }
  }

  absl::StatusOr<std::unique_ptr<unas::store::Store>> store = unas::store::Store::Open(db_path);
  // A coordinator that was just stopped stops listening first and lets go of
  // the database last: give it a few seconds before refusing to start.
  for (auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !store.ok() && store.status().code() == absl::StatusCode::kFailedPrecondition &&
       std::chrono::steady_clock::now() < give_up;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    store = unas::store::Store::Open(db_path);
  }
  if (!store.ok()) {
    spdlog::error("{}", store.status().ToString());
    return 1;
  }
  unas::coordinator::CoordinatorOptions options;
  options.heartbeat_interval_seconds = heartbeat_interval;
  options.default_lease_ttl_seconds = lease_ttl;
  options.max_workers = max_workers;
  unas::coordinator::CoordinatorMetrics metrics;
  if (!metrics_listen.empty()) options.observer = &metrics;
  absl::StatusOr<std::unique_ptr<unas::coordinator::Coordinator>> coordinator =
      unas::coordinator::Coordinator::Create(*std::move(store), options);
  if (!coordinator.ok()) {
    spdlog::error("cannot resume from {}: {}", db_path, coordinator.status().ToString());
    return 1;
  }
  for (const unas::v1::Job& job : (*coordinator)->ListJobs({})) {
    spdlog::info("job {} '{}': {} ({}/{} evaluations)", job.job_id(), job.spec().name(),
                 unas::v1::JobState_Name(job.state()), job.progress().evaluations_done(),
                 job.progress().rounds());
  }

  if (!metrics_listen.empty()) {
    if (absl::Status s = metrics.Serve(metrics_listen, coordinator->get()); !s.ok()) {
      spdlog::error("{}", std::string(s.message()));
      return 1;
    }
    std::string metrics_host = metrics_listen.substr(0, metrics_listen.rfind(':'));
    spdlog::info("metrics on http://{}:{}/metrics", metrics_host, metrics.port());
    if (!metrics_port_file.empty()) WritePortFile(metrics_port_file, metrics.port());
  }

  std::unique_ptr<unas::dashboard::DashboardServer> dashboard;
  if (!http_listen.empty()) {
    unas::dashboard::DashboardOptions dashboard_options;
    dashboard_options.listen = http_listen;
    if (security->tls) {
      dashboard_options.tls_cert_file = security_options.tls_cert_file;
      dashboard_options.tls_key_file = security_options.tls_key_file;
    }
    dashboard_options.client_token = client_token;
    dashboard_options.allowed_hosts = http_allowed_hosts;
    dashboard_options.max_connections = http_max_connections;
    dashboard_options.history_cache_bytes = static_cast<size_t>(http_history_cache_mb) << 20;
    absl::StatusOr<std::unique_ptr<unas::dashboard::DashboardServer>> started =
        unas::dashboard::DashboardServer::Start(coordinator->get(), dashboard_options);
    if (!started.ok()) {
      spdlog::error("{}", std::string(started.status().message()));
      return 1;
    }
    dashboard = *std::move(started);
    spdlog::info("dashboard on {}", dashboard->url());
    if (!http_port_file.empty()) WritePortFile(http_port_file, dashboard->port());
  }

  unas::coordinator::JobServiceImpl job_service(coordinator->get(), security->authorizer.get());
  unas::coordinator::WorkerServiceImpl worker_service(coordinator->get(),
                                                      security->authorizer.get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, security->credentials, &port);
  builder.SetMaxReceiveMessageSize(max_message_mb << 20);
  builder.SetMaxSendMessageSize(max_message_mb << 20);
  builder.RegisterService(&job_service);
  builder.RegisterService(&worker_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("cannot listen on {}", listen);
    return 1;
  }
  std::string host = listen.substr(0, listen.rfind(':'));
  spdlog::info("unas-coordinator serving {} on {}:{} ({})", db_path, host, port,
               security->tls ? "TLS" : "plaintext");
  if (!port_file.empty()) WritePortFile(port_file, port);

  std::atomic<bool> stopping{false};
  std::thread lease_keeper([&] {
    while (!stopping.load()) {
      (*coordinator)->ExpireLeases();
      (*coordinator)->CompactEndedJobs();
      for (int i = 0; i < 10 && !stopping.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  });
  // A failing store (a full disk) is retried by the committer, not ended by
  // exiting (a restart would meet the same disk): say when it starts and
  // ends. Its own thread, since ExpireLeases waits for commits.
  std::thread store_watch([&] {
    bool failing = false;
    while (!stopping.load()) {
      if (absl::Status health = (*coordinator)->StoreHealth(); health.ok() == failing) {
        failing = !health.ok();
        if (failing) {
          spdlog::error("{}", std::string(health.message()));
        } else {
          spdlog::info("the database commits again; every held change is stored");
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  {
    unas::StopSignalWatcher watcher([&](int signal) {
      spdlog::info("signal {}: shutting down", signal);
      stopping = true;
      (*coordinator)->Shutdown();  // long-polls and watches return now
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    });
    server->Wait();
  }
  stopping = true;
  lease_keeper.join();
  store_watch.join();
  if (dashboard) dashboard->Stop();  // its pages read the coordinator too
  metrics.StopServing();             // scrapes read the coordinator, which goes next
  spdlog::info("stopped");
  return 0;
}
