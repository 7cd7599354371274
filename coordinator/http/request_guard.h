// What the dashboard accepts of a request before cpp-httplib sees it: the
// request line and headers (the "head") are read and checked here first, so
// that nothing unbounded is ever read into memory. Debian's cpp-httplib
// 0.11.4 appends a chunked body, or one without Content-Length, to memory
// without a cap (CVE-2025-46728), grows a request line without a newline
// without a cap, and keeps any number of header lines; the checks below
// refuse all of these, and a Host that is not this server's (DNS
// rebinding), before a byte of a body is read.
#ifndef UNAS_COORDINATOR_HTTP_REQUEST_GUARD_H_
#define UNAS_COORDINATOR_HTTP_REQUEST_GUARD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace unas::dashboard {

// The Host names a request may carry, besides IP literals (which a DNS
// rebinding page cannot produce: its origin is a name) and the loopback
// names `localhost` and `*.localhost`.
struct HostPolicy {
  // Lower-case names: the --http host, this machine's names, and
  // --http-allowed-hosts. "*" allows every Host.
  std::vector<std::string> names;
  bool Allows(absl::string_view host_header) const;
};

// The verdict on one head.
struct HeadCheck {
  int status = 0;         // 0: accepted; else the HTTP status to refuse with
  std::string message;    // why it was refused
  size_t head_bytes = 0;  // through the blank line
  uint64_t content_length = 0;
};

// Finds the end of the head in `data` (the bytes read so far): the length
// through the first blank line (CRLF CRLF), or 0 while there is none yet.
size_t HeadLength(absl::string_view data);

// Checks a complete head (through its blank line). Refuses (with its
// status): a bare CR or LF, NUL bytes, folded or malformed header lines
// (400), a missing, repeated or foreign Host (400, 421), any
// Transfer-Encoding (411), a Content-Encoding other than identity (415), a
// body-carrying method (POST, PUT, PATCH, DELETE) without Content-Length
// (411), a malformed or repeated Content-Length (400) or one above
// `max_body_bytes` (413).
HeadCheck CheckHead(absl::string_view head, size_t max_body_bytes, const HostPolicy& hosts);

// What one dashboard connection may send, and how slowly (guarded_server.h).
struct ConnectionLimits {
  size_t max_head_bytes = 16 * 1024;                // request line and headers
  size_t max_body_bytes = 16 * 1024;                // the login form is the only body
  absl::Duration head_timeout = absl::Seconds(10);  // the whole head (and TLS handshake)
  absl::Duration io_timeout = absl::Seconds(10);    // a body; each write's progress
  absl::Duration keep_alive_timeout = absl::Seconds(5);
  int keep_alive_max_requests = 100;
  HostPolicy hosts;
};

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_REQUEST_GUARD_H_
