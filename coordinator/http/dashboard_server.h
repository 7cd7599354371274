// The live dashboard's HTTP(S) server (`unas-coordinator --http ADDR`):
// pages for the jobs, one job, one candidate and the workers, the JSON and
// SVG endpoints they poll (docs/api.md, "Dashboard endpoints"), and the
// login form. Read-only: it serves GET, plus POST /login. Served by Debian's
// cpp-httplib on its own thread pool, behind guarded_server.h (checked heads,
// bounded bodies, deadlines, a cap on connections, the Host check); each
// request reads the coordinator through its public queries, so a slow
// browser never holds its lock.
// docs/dashboard.md describes the pages.
#ifndef UNAS_COORDINATOR_HTTP_DASHBOARD_SERVER_H_
#define UNAS_COORDINATOR_HTTP_DASHBOARD_SERVER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "coordinator/core/coordinator.h"
#include "coordinator/http/history_cache.h"
#include "coordinator/http/request_guard.h"

namespace unas::dashboard {

struct DashboardOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks a free one
  // Both set: HTTPS with this PEM certificate chain and key (the gRPC API's).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Set: every page and endpoint but the login form needs this token (the
  // gRPC API's client token), as a bearer header or through the login form.
  std::optional<std::string> client_token;
  // Host names a request may carry besides IP literals, localhost, the
  // --http host and this machine's names (--http-allowed-hosts; "*": any).
  std::vector<std::string> allowed_hosts;
  // Connections served at once (--http-max-connections); as many again may
  // wait for a thread, and any beyond get 503 at once.
  int max_connections = 32;
  size_t history_cache_bytes = kDefaultHistoryCacheBytes;  // --http-history-cache-mb
  // Head and body sizes, deadlines, keep-alive (hosts are filled in by Start).
  ConnectionLimits limits;
};

class DashboardServer {
 public:
  // Binds and starts serving; the error names the address or file at fault.
  static absl::StatusOr<std::unique_ptr<DashboardServer>> Start(
      coordinator::Coordinator* coordinator, const DashboardOptions& options);
  ~DashboardServer();  // Stop()

  int port() const;
  // "http://127.0.0.1:8080/" (https:// with TLS).
  std::string url() const;

  // Stops accepting and waits for the requests in progress. Idempotent.
  void Stop();

  // The history cache's size in bytes (for tests).
  size_t history_cache_bytes() const;

 private:
  struct Impl;
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_DASHBOARD_SERVER_H_
