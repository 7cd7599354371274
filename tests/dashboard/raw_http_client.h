// Raw HTTP clients for the dashboard's hostile-client tests: a TCP
// connection that sends exactly the bytes given (chunked bodies, slow heads,
// garbage), the status of whatever the server answers, and this process's
// or another one's resident memory (VmRSS) and its peak (VmHWM).
#ifndef UNAS_TESTS_DASHBOARD_RAW_HTTP_CLIENT_H_
#define UNAS_TESTS_DASHBOARD_RAW_HTTP_CLIENT_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace unas::dashboard::testing {

// A field of /proc/PID/status in KiB ("self": this process); -1 when
// unreadable.
inline int64_t StatusKib(const std::string& field, const std::string& pid = "self") {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) != 0) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    int64_t kib = -1;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
  }
  return -1;
}

// Resident memory now (VmRSS), and its peak (VmHWM) since the last
// ResetPeakRss: a body read into memory and freed again still shows in the peak.
inline int64_t RssKib(const std::string& pid = "self") { return StatusKib("VmRSS", pid); }
inline int64_t PeakRssKib(const std::string& pid = "self") { return StatusKib("VmHWM", pid); }
inline bool ResetPeakRss(const std::string& pid = "self") {
  std::ofstream clear("/proc/" + pid + "/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // False once the server closed or reset the connection.
  bool Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // Everything the server sends until it closes, or until `timeout` passes
  // without a byte (at most 1 MiB).
  std::string ReadAll(absl::Duration timeout = absl::Seconds(30)) {
    std::string out;
    char buffer[4096];
    while (out.size() < (1u << 20)) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) break;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

  // Whether the server closed the connection (EOF or reset) within `timeout`.
  bool ClosedWithin(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    char buffer[4096];
    while (absl::Now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const int r =
          ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) + 1);
      if (r <= 0) continue;
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
};

// The status code of an HTTP response's first line (0 when there is none).
inline int StatusOf(const std::string& response) {
  int status = 0;
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return absl::SimpleAtoi(response.substr(9, 3), &status) ? status : 0;
}

// One request over a fresh connection; the status of its answer.
inline int StatusFor(int port, const std::string& request) {
  RawConnection c(port);
  if (!c.connected() || !c.Send(request)) return -1;
  return StatusOf(c.ReadAll());
}

}  // namespace unas::dashboard::testing

#endif  // UNAS_TESTS_DASHBOARD_RAW_HTTP_CLIENT_H_
