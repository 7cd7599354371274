#include "coordinator/http/guarded_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "report/format.h"
#include "spdlog/spdlog.h"

namespace unas::dashboard {
namespace {

thread_local bool t_shedding = false;

// Waits until `fd` is ready for `events`, in slices of at most a second so
// that a stopping server is noticed: 1 ready, 0 deadline passed or stopping,
// -1 error.
int PollUntil(int fd, short events, absl::Time deadline, const std::function<bool()>& stopping) {
  for (;;) {
    if (stopping && stopping()) return 0;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    pollfd p{fd, events, 0};
    const int ms =
        static_cast<int>(absl::ToInt64Milliseconds(std::min(left, absl::Seconds(1))) + 1);
    const int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r > 0) return (p.revents & (events | POLLHUP | POLLERR)) ? 1 : -1;
  }
}

// One connection's bytes, plain or TLS, on a non-blocking socket where every
// operation has a deadline.
class Transport {
 public:
  Transport(int fd, SSL* ssl, const std::function<bool()>& stopping)
      : fd_(fd), ssl_(ssl), stopping_(stopping) {}

  int fd() const { return fd_; }

  bool Handshake(absl::Time deadline) {
    for (;;) {
      const int r = SSL_accept(ssl_);
      if (r == 1) return true;
      if (!WaitFor(SSL_get_error(ssl_, r), deadline)) return false;
    }
  }

  // >0 bytes read; 0 the peer closed; -1 error, deadline or stopping.
  ssize_t Read(char* buffer, size_t size, absl::Time deadline) {
    for (;;) {
      if (ssl_ != nullptr) {
        const int r = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, 1 << 30)));
        if (r > 0) return r;
        const int error = SSL_get_error(ssl_, r);
        if (error == SSL_ERROR_ZERO_RETURN) return 0;
        if (!WaitFor(error, deadline)) return -1;
        continue;
      }
      const ssize_t r = ::recv(fd_, buffer, size, 0);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
      if (PollUntil(fd_, POLLIN, deadline, stopping_) != 1) return -1;
    }
  }

  // Whether a read could return at once: bytes already decrypted, or
  // readable before `deadline`.
  bool WaitReadable(absl::Time deadline) {
    if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
    return PollUntil(fd_, POLLIN, deadline, stopping_) == 1;
  }

  // Writes everything; each stretch without progress may last `timeout`.
  bool WriteAll(const char* data, size_t size, absl::Duration timeout) {
    while (size > 0) {
      const absl::Time deadline = absl::Now() + timeout;
      ssize_t n;
      if (ssl_ != nullptr) {
        const int r = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, 1 << 20)));
        if (r <= 0) {
          if (!WaitFor(SSL_get_error(ssl_, r), deadline)) return false;
          continue;
        }
        n = r;
      } else {
        n = ::send(fd_, data, size, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
          if (PollUntil(fd_, POLLOUT, deadline, stopping_) != 1) return false;
          continue;
        }
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  // Stops writing, then drains (into a fixed buffer, for at most 2 s and
  // 4 MiB, until it goes quiet) what the client still sends, so that a client that writes its
  // whole body before reading gets our answer rather than a reset.
  void LingeringClose() {
    if (ssl_ != nullptr) (void)SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_WR);
    const absl::Time deadline = absl::Now() + absl::Seconds(2);
    char sink[4096];
    for (size_t drained = 0; drained < (size_t{4} << 20);) {
      // A client that went quiet has sent all it meant to.
      if (PollUntil(fd_, POLLIN, std::min(deadline, absl::Now() + absl::Milliseconds(200)),
                    stopping_) != 1) {
        break;
      }
      const ssize_t r = ::recv(fd_, sink, sizeof sink, 0);
      if (r <= 0 && !(r < 0 && (errno == EINTR || errno == EAGAIN))) break;
      if (r > 0) drained += static_cast<size_t>(r);
    }
  }

 private:
  bool WaitFor(int ssl_error, absl::Time deadline) {
    ERR_clear_error();
    if (ssl_error == SSL_ERROR_WANT_READ) return PollUntil(fd_, POLLIN, deadline, stopping_) == 1;
    if (ssl_error == SSL_ERROR_WANT_WRITE) {
      return PollUntil(fd_, POLLOUT, deadline, stopping_) == 1;
    }
    return false;
  }

  int fd_;
  SSL* ssl_;
  const std::function<bool()>& stopping_;
};

const char* Reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 421:
      return "Misdirected Request";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string RefusalResponse(int status, absl::string_view message) {
  const std::string body = absl::StrCat("{\"error\": ", report::JsonString(message), "}\n");
  return absl::StrCat(
      "HTTP/1.1 ", status, " ", Reason(status),
      "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ", body.size(),
      "\r\nConnection: close\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n\r\n",
      body);
}

// What cpp-httplib reads of a connection: each request's checked head, then
// at most its Content-Length of body, then end of stream until the next
// request's head has been read and checked in turn.
class GuardedStream final : public httplib::Stream {
 public:
  GuardedStream(Transport& transport, const ConnectionLimits& limits)
      : transport_(transport), limits_(limits) {}

  enum class Head { kAccepted, kRefused, kGone };

  // Waits (until `deadline`) for the first byte of the next request.
  bool WaitForRequest(absl::Time deadline) {
    return pos_ < in_.size() || transport_.WaitReadable(deadline);
  }

  // Reads the next head (all of it by `deadline`) and checks it; a refused
  // one is answered here.
  Head ReadHead(absl::Time deadline) {
    for (;;) {
      const absl::string_view pending = absl::string_view(in_).substr(pos_);
      if (const size_t length = HeadLength(pending);
          length > 0 && length <= limits_.max_head_bytes) {
        HeadCheck check =
            CheckHead(pending.substr(0, length), limits_.max_body_bytes, limits_.hosts);
        if (check.status != 0) return Refuse(check.status, check.message);
        head_left_ = length;
        body_left_ = check.content_length;
        return Head::kAccepted;
      }
      if (pending.size() >= limits_.max_head_bytes) {
        return Refuse(431, absl::StrCat("request line and headers are limited to ",
                                        limits_.max_head_bytes, " bytes"));
      }
      char buffer[4096];
      const size_t want = std::min(sizeof buffer, limits_.max_head_bytes - pending.size() + 4);
      const ssize_t n = transport_.Read(buffer, want, deadline);
      if (n <= 0) {
        if (pending.empty() || n == 0) return Head::kGone;
        return Refuse(408, "the request head did not arrive in time");
      }
      in_.append(buffer, static_cast<size_t>(n));
    }
  }

  // After cpp-httplib answered: drops what it left of the body, so that the
  // next head starts where it should. False: close the connection.
  bool FinishRequest() {
    const absl::Time deadline = absl::Now() + limits_.io_timeout;
    char sink[4096];
    while (head_left_ > 0 || body_left_ > 0) {
      if (read(sink, sizeof sink) <= 0) return false;
      if (absl::Now() > deadline) return false;
    }
    in_.erase(0, pos_);
    pos_ = 0;
    return true;
  }

  bool is_readable() const override { return head_left_ > 0 || body_left_ > 0; }
  bool is_writable() const override { return true; }

  ssize_t read(char* ptr, size_t size) override {
    if (head_left_ > 0) return FromBuffer(ptr, std::min(size, head_left_), &head_left_);
    if (body_left_ == 0) return 0;
    size = static_cast<size_t>(std::min<uint64_t>(size, body_left_));
    if (pos_ < in_.size()) {
      size_t left = static_cast<size_t>(body_left_);
      const ssize_t n = FromBuffer(ptr, size, &left);
      body_left_ = left;
      return n;
    }
    if (body_deadline_ == absl::InfiniteFuture()) body_deadline_ = absl::Now() + limits_.io_timeout;
    const ssize_t n = transport_.Read(ptr, size, body_deadline_);
    if (n > 0) body_left_ -= static_cast<uint64_t>(n);
    if (body_left_ == 0) body_deadline_ = absl::InfiniteFuture();
    return n > 0 ? n : -1;
  }

  ssize_t write(const char* ptr, size_t size) override {
    return transport_.WriteAll(ptr, size, limits_.io_timeout) ? static_cast<ssize_t>(size) : -1;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(::getsockname, ip, port);
  }
  socket_t socket() const override { return transport_.fd(); }

 private:
  Head Refuse(int status, const std::string& message) {
    spdlog::debug("dashboard: refused a request ({} {})", status, message);
    const std::string answer = RefusalResponse(status, message);
    if (transport_.WriteAll(answer.data(), answer.size(), limits_.io_timeout)) {
      transport_.LingeringClose();
    }
    return Head::kRefused;
  }

  ssize_t FromBuffer(char* ptr, size_t size, size_t* left) {
    size = std::min({size, *left, in_.size() - pos_});
    std::memcpy(ptr, in_.data() + pos_, size);
    pos_ += size;
    *left -= size;
    return static_cast<ssize_t>(size);
  }

  template <typename Get>
  void Address(Get get, std::string& ip, int& port) const {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ip.clear();
    port = -1;
    if (get(transport_.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
      inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      port = ntohs(v4->sin_port);
    } else if (address.ss_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
      inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      port = ntohs(v6->sin6_port);
    }
    ip = text;
  }

  Transport& transport_;
  const ConnectionLimits& limits_;
  std::string in_;
  size_t pos_ = 0;
  size_t head_left_ = 0;
  uint64_t body_left_ = 0;
  absl::Time body_deadline_ = absl::InfiniteFuture();
};

}  // namespace

void ServeConnection(int sock, SSL_CTX* ssl_ctx, const ConnectionLimits& limits,
                     const std::function<bool()>& stopping, const ProcessRequest& process) {
  if (t_shedding) {
    // Over the cap: a plain client learns why; either way the descriptor goes now.
    if (ssl_ctx == nullptr) {
      const std::string answer =
          RefusalResponse(503, "the dashboard has too many connections; try again shortly");
      (void)::send(sock, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    // What already arrived is dropped first (without waiting): closing over
    // unread bytes would reset the connection before the client reads the 503.
    ::shutdown(sock, SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 16 && ::recv(sock, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
    }
    ::close(sock);
    return;
  }
  const absl::Time accepted = absl::Now();
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  SSL* ssl = nullptr;
  if (ssl_ctx != nullptr) {
    ssl = SSL_new(ssl_ctx);
    if (ssl == nullptr || SSL_set_fd(ssl, sock) != 1) {
      if (ssl != nullptr) SSL_free(ssl);
      ::close(sock);
      return;
    }
  }
  Transport transport(sock, ssl, stopping);
  if (ssl == nullptr || transport.Handshake(accepted + limits.head_timeout)) {
    GuardedStream stream(transport, limits);
    for (int served = 0; served < limits.keep_alive_max_requests; ++served) {
      // The first request's head is due within head_timeout of the accept;
      // later ones may idle for keep_alive_timeout first.
      absl::Time head_deadline = accepted + limits.head_timeout;
      if (served > 0) {
        if (!stream.WaitForRequest(absl::Now() + limits.keep_alive_timeout)) break;
        head_deadline = absl::Now() + limits.head_timeout;
      }
      if (stream.ReadHead(head_deadline) != GuardedStream::Head::kAccepted) break;
      bool connection_closed = false;
      const bool last = served + 1 == limits.keep_alive_max_requests;
      if (!process(stream, last, connection_closed) || connection_closed) break;
      if (!stream.FinishRequest()) break;
    }
  }
  if (ssl != nullptr) {
    (void)SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

BoundedTaskQueue::BoundedTaskQueue(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

bool BoundedTaskQueue::Shedding() { return t_shedding; }

void BoundedTaskQueue::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!shutdown_ && jobs_.size() < max_queued_) {
      jobs_.push_back(std::move(fn));
      ready_.notify_one();
      return;
    }
  }
  t_shedding = true;
  fn();
  t_shedding = false;
}

void BoundedTaskQueue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void BoundedTaskQueue::Work() {
  // TLS writes go through write(2), which a closed peer answers with
  // SIGPIPE: block it on these threads (the write then fails with EPIPE).
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [&] { return shutdown_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      fn = std::move(jobs_.front());
      jobs_.pop_front();
    }
    fn();
  }
}

}  // namespace unas::dashboard
