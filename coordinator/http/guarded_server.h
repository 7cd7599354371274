// The dashboard's connections, served in place of cpp-httplib's own socket
// loop: each connection's request heads are read and checked first
// (request_guard.h), bodies are handed to cpp-httplib only up to their
// checked Content-Length, every read and write has a deadline (slow-loris
// clients are dropped), and the connections waiting for a thread are
// capped (beyond the cap a connection gets 503 and is closed at once, so no
// client can exhaust the process's file descriptors). cpp-httplib still
// parses and routes what was accepted. TLS is served here too (OpenSSL on
// the SSL_CTX of cpp-httplib's SSLServer), since its own TLS loop reads
// unchecked.
#ifndef UNAS_COORDINATOR_HTTP_GUARDED_SERVER_H_
#define UNAS_COORDINATOR_HTTP_GUARDED_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "coordinator/http/request_guard.h"

namespace unas::dashboard {

// Serves one accepted connection: `process` is cpp-httplib's
// Server::process_request. `ssl_ctx` null: plaintext. `stopping` is polled
// at least once a second while waiting. Closes `sock`.
using ProcessRequest =
    std::function<bool(httplib::Stream& stream, bool close_connection, bool& connection_closed)>;
void ServeConnection(int sock, SSL_CTX* ssl_ctx, const ConnectionLimits& limits,
                     const std::function<bool()>& stopping, const ProcessRequest& process);

// cpp-httplib's Server (or SSLServer) with its connections served by
// ServeConnection.
template <typename Base>
class GuardedServer : public Base {
 public:
  template <typename... Args>
  explicit GuardedServer(const ConnectionLimits& limits, Args&&... args)
      : Base(std::forward<Args>(args)...), limits_(limits) {}

 private:
  // Overrides cpp-httplib's (private) per-connection entry point.
  bool process_and_close_socket(socket_t sock) override {
    SSL_CTX* ctx = nullptr;
    if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) ctx = this->ssl_context();
    ServeConnection(
        sock, ctx, limits_, [this] { return this->svr_sock_ == INVALID_SOCKET; },
        [this](httplib::Stream& stream, bool close_connection, bool& connection_closed) {
          return this->process_request(stream, close_connection, connection_closed, {});
        });
    return true;
  }

  ConnectionLimits limits_;
};

// A thread pool whose queue of waiting connections is capped: a connection
// beyond the cap is answered 503 and closed by the accepting thread itself
// (ServeConnection sees that it runs there), without waiting.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_queued);
  ~BoundedTaskQueue() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  // True while the calling thread sheds a connection over the cap.
  static bool Shedding();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_GUARDED_SERVER_H_
