#include "coordinator/http/dashboard_server.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "coordinator/http/dashboard_assets.h"
#include "coordinator/http/dashboard_auth.h"
#include "coordinator/http/dashboard_data.h"
#include "coordinator/http/guarded_server.h"
#include "report/format.h"
#include "spdlog/spdlog.h"

namespace unas::dashboard {
namespace {

constexpr char kJson[] = "application/json; charset=utf-8";
constexpr char kSvg[] = "image/svg+xml; charset=utf-8";
constexpr char kHtml[] = "text/html; charset=utf-8";

int HttpStatus(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

// Serves `body` or, on error, a JSON {"error": ...} with the matching status.
void Reply(httplib::Response& res, const absl::StatusOr<std::string>& body, const char* type) {
  if (body.ok()) {
    res.set_content(*body, type);
    return;
  }
  res.status = HttpStatus(body.status());
  res.set_content(absl::StrCat("{\"error\": ", report::JsonString(body.status().message()), "}\n"),
                  kJson);
}

int64_t Id(const httplib::Request& req, size_t group) {
  int64_t id = 0;
  if (group >= req.matches.size() || !absl::SimpleAtoi(req.matches[group].str(), &id)) return -1;
  return id;
}

// HOST:PORT, [IPv6]:PORT.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http ", address, ": expected HOST:PORT, e.g. 127.0.0.1:8080"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  return std::make_pair(host, port);
}

// The names a Host header may carry (besides IP literals and localhost):
// the --http host, this machine's name, and the extra ones configured.
std::vector<std::string> ServerNames(const std::string& listen_host,
                                     const std::vector<std::string>& extra) {
  std::vector<std::string> names = {absl::AsciiStrToLower(listen_host)};
  char hostname[256] = {};
  if (::gethostname(hostname, sizeof hostname - 1) == 0 && hostname[0] != '\0') {
    names.push_back(absl::AsciiStrToLower(hostname));
  }
  for (const std::string& name : extra) {
    std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(name));
    if (!lower.empty() && lower.back() == '.') lower.pop_back();
    if (!lower.empty()) names.push_back(lower);
  }
  return names;
}

}  // namespace

struct DashboardServer::Impl {
  Impl(coordinator::Coordinator* coordinator, const DashboardOptions& options, bool tls)
      : data(coordinator, options.history_cache_bytes), auth(options.client_token, tls), tls(tls) {}

  DashboardData data;
  DashboardAuth auth;
  bool tls;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::string host;
  int port = 0;
  bool stopped = false;

  void Routes();
};

void DashboardServer::Impl::Routes() {
  httplib::Server& s = *server;
  s.set_default_headers({
      {"Cache-Control", "no-store"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
      // Everything comes from this server; inline style attributes are the
      // plots' and bars' own.
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'"},
  });
  // Without the token nothing but the login form is served.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/login" || req.path == "/static/dashboard.css" ||
        auth.Allows(req.get_header_value("Authorization"), req.get_header_value("Cookie"))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 401;
    if (absl::StartsWith(req.path, "/api/")) {
      res.set_header("WWW-Authenticate", "Bearer realm=\"unas\"");
      res.set_content("{\"error\": \"the client token is required\"}\n", kJson);
    } else {
      res.set_content(kLoginHtml, kHtml);
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  // Pages: one shell; the script draws the page its path names.
  auto page = [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kIndexHtml, kHtml);
  };
  s.Get("/", page);
  s.Get(R"(/jobs/\d+)", page);
  s.Get(R"(/jobs/\d+/candidates/\d+)", page);
  s.Get("/workers", page);
  s.Get("/static/dashboard.js", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kDashboardJs, "text/javascript; charset=utf-8");
  });
  s.Get("/static/dashboard.css", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kDashboardCss, "text/css; charset=utf-8");
  });
  s.Get("/login", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kLoginHtml, kHtml);
  });
  s.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
    if (!auth.required()) {
      res.status = 303;
      res.set_header("Location", "/");
      return;
    }
    if (auth.TokenMatches(req.get_param_value("token"))) {
      res.status = 303;
      res.set_header("Set-Cookie", auth.SessionCookie());
      res.set_header("Location", "/");
      return;
    }
    spdlog::warn("dashboard: wrong token from {}", req.remote_addr);
    res.status = 401;
    res.set_content(kLoginHtml, kHtml);
  });

  // JSON and SVG.
  s.Get("/api/jobs", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, data.JobsJson(), kJson);
  });
  s.Get(R"(/api/jobs/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, data.JobJson(Id(req, 1), req.get_param_value("changed_since")), kJson);
  });
  s.Get(R"(/api/jobs/(\d+)/history)", [this](const httplib::Request& req, httplib::Response& res) {
    Reply(res, data.HistoryJson(Id(req, 1)), kJson);
  });
  s.Get(R"(/api/jobs/(\d+)/population)",
        [this](const httplib::Request& req, httplib::Response& res) {
          Reply(res, data.PopulationJson(Id(req, 1)), kJson);
        });
  s.Get(R"(/api/jobs/(\d+)/plots/([a-z]+)\.svg)",
        [this](const httplib::Request& req, httplib::Response& res) {
          Reply(res, data.PlotSvg(Id(req, 1), req.matches[2].str()), kSvg);
        });
  s.Get(R"(/api/jobs/(\d+)/candidates/(\d+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          Reply(res, data.CandidateJson(Id(req, 1), Id(req, 2)), kJson);
        });
  s.Get(R"(/api/jobs/(\d+)/candidates/(\d+)/epochs\.svg)",
        [this](const httplib::Request& req, httplib::Response& res) {
          Reply(res, data.EpochsSvg(Id(req, 1), Id(req, 2)), kSvg);
        });
  s.Get(R"(/api/jobs/(\d+)/candidates/(\d+)/network\.svg)",
        [this](const httplib::Request& req, httplib::Response& res) {
          Reply(res, data.NetworkSvg(Id(req, 1), Id(req, 2)), kSvg);
        });
  s.Get(R"(/api/jobs/(\d+)/candidates/(\d+)/network\.dot)",
        [this](const httplib::Request& req, httplib::Response& res) {
          Reply(res, data.NetworkDot(Id(req, 1), Id(req, 2)), "text/vnd.graphviz; charset=utf-8");
        });
  s.Get("/api/workers", [this](const httplib::Request&, httplib::Response& res) {
    Reply(res, data.WorkersJson(), kJson);
  });
}

absl::StatusOr<std::unique_ptr<DashboardServer>> DashboardServer::Start(
    coordinator::Coordinator* coordinator, const DashboardOptions& options) {
  absl::StatusOr<std::pair<std::string, int>> address = SplitHostPort(options.listen);
  if (!address.ok()) return address.status();
  const bool tls = !options.tls_cert_file.empty() && !options.tls_key_file.empty();
  auto impl = std::make_unique<Impl>(coordinator, options, tls);
  ConnectionLimits limits = options.limits;
  limits.hosts = HostPolicy{ServerNames(address->first, options.allowed_hosts)};
  if (tls) {
    auto server = std::make_unique<GuardedServer<httplib::SSLServer>>(
        limits, options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!server->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat("--http: cannot use the TLS certificate ",
                                                     options.tls_cert_file, " and key ",
                                                     options.tls_key_file));
    }
    impl->server = std::move(server);
  } else {
    impl->server = std::make_unique<GuardedServer<httplib::Server>>(limits);
  }
  // Long polls hold a thread each for up to 25 s: room for many open pages.
  // As many connections again may wait for a thread; beyond that they get
  // 503 at once, so no client holds an unbounded number of descriptors.
  const size_t threads = static_cast<size_t>(std::max(1, options.max_connections));
  impl->server->new_task_queue = [threads] { return new BoundedTaskQueue(threads, threads); };
  // GuardedServer reads and checks every head itself and hands cpp-httplib
  // at most Content-Length bytes of body (no chunked or encoded bodies, no
  // body without a length); this limit is a second fence.
  impl->server->set_payload_max_length(limits.max_body_bytes);
  impl->Routes();
  impl->host = address->first;
  if (address->second == 0) {
    impl->port = impl->server->bind_to_any_port(impl->host);
  } else {
    impl->port = impl->server->bind_to_port(impl->host, address->second) ? address->second : -1;
  }
  if (impl->port <= 0) {
    return absl::UnavailableError(absl::StrCat("--http: cannot listen on ", options.listen));
  }
  httplib::Server* server = impl->server.get();
  impl->thread = std::thread([server] { server->listen_after_bind(); });
  // Stop() must not run before the loop has started (it would not end it).
  while (!server->is_running()) std::this_thread::yield();
  return std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
}

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DashboardServer::~DashboardServer() { Stop(); }

int DashboardServer::port() const { return impl_->port; }

std::string DashboardServer::url() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return absl::StrCat(impl_->tls ? "https://" : "http://", v6 ? "[" : "", impl_->host,
                      v6 ? "]" : "", ":", impl_->port, "/");
}

size_t DashboardServer::history_cache_bytes() const { return impl_->data.cache().bytes(); }

void DashboardServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->data.Stop();
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace unas::dashboard
