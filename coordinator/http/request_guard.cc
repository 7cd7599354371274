#include "coordinator/http/request_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace unas::dashboard {
namespace {

// RFC 9110 token characters: what a header name may hold. Anything else
// (spaces before the colon, say) could be read differently by cpp-httplib.
bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) != absl::string_view::npos;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// The host part of a Host header, lower case, without port, brackets or a
// trailing dot; nullopt when malformed.
std::optional<std::string> HostName(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  std::string host;
  if (absl::StartsWith(value, "[")) {
    const size_t close = value.find(']');
    if (close == absl::string_view::npos) return std::nullopt;
    absl::string_view rest = value.substr(close + 1);
    if (!rest.empty() && !absl::StartsWith(rest, ":")) return std::nullopt;
    host = std::string(value.substr(1, close - 1));
  } else {
    const size_t colon = value.find(':');
    if (colon != absl::string_view::npos && value.find(':', colon + 1) != absl::string_view::npos) {
      return std::nullopt;
    }
    host = std::string(value.substr(0, colon));
  }
  if (host.empty()) return std::nullopt;
  absl::AsciiStrToLower(&host);
  if (host.back() == '.') host.pop_back();
  return host;
}

HeadCheck Refuse(int status, std::string message) {
  HeadCheck check;
  check.status = status;
  check.message = std::move(message);
  return check;
}

}  // namespace

bool HostPolicy::Allows(absl::string_view host_header) const {
  std::optional<std::string> host = HostName(host_header);
  if (!host) return false;
  if (*host == "localhost" || absl::EndsWith(*host, ".localhost") || IsIpLiteral(*host)) {
    return true;
  }
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& name) { return name == "*" || name == *host; });
}

size_t HeadLength(absl::string_view data) {
  const size_t end = data.find("\r\n\r\n");
  return end == absl::string_view::npos ? 0 : end + 4;
}

HeadCheck CheckHead(absl::string_view head, size_t max_body_bytes, const HostPolicy& hosts) {
  // Every line ends in CRLF and holds no other CR, LF or NUL, so that where
  // a line ends, and where the head ends, is the same here and in cpp-httplib.
  for (size_t i = 0; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '\0') return Refuse(400, "the request holds a NUL byte");
    if (c == '\r' && (i + 1 == head.size() || head[i + 1] != '\n')) {
      return Refuse(400, "a bare CR in the request head");
    }
    if (c == '\n' && (i == 0 || head[i - 1] != '\r')) {
      return Refuse(400, "a bare LF in the request head (lines end in CRLF)");
    }
  }
  std::vector<absl::string_view> lines = absl::StrSplit(head.substr(0, head.size() - 4), "\r\n");
  const std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ');
  if (request_line.size() != 3 || request_line[0].empty()) {
    return Refuse(400, "malformed request line");
  }
  const absl::string_view method = request_line[0];
  int hosts_seen = 0;
  int lengths_seen = 0;
  bool host_ok = false;
  HeadCheck check;
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) {
      return Refuse(400, "malformed header line (folded lines are not accepted)");
    }
    const absl::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Refuse(400, "malformed header name");
    }
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
      return Refuse(411, "Transfer-Encoding (chunked bodies) is not accepted; send Content-Length");
    }
    if (absl::EqualsIgnoreCase(name, "Content-Encoding") &&
        !absl::EqualsIgnoreCase(value, "identity")) {
      return Refuse(415, "encoded request bodies are not accepted");
    }
    if (absl::EqualsIgnoreCase(name, "Content-Length")) {
      if (++lengths_seen > 1) return Refuse(400, "more than one Content-Length");
      if (value.empty() || value.size() > 19 ||
          !std::all_of(value.begin(), value.end(),
                       [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }) ||
          !absl::SimpleAtoi(value, &check.content_length)) {
        return Refuse(400, "malformed Content-Length");
      }
      if (check.content_length > max_body_bytes) {
        return Refuse(413,
                      absl::StrCat("request bodies are limited to ", max_body_bytes, " bytes"));
      }
    }
    if (absl::EqualsIgnoreCase(name, "Host")) {
      if (++hosts_seen > 1) return Refuse(400, "more than one Host");
      host_ok = hosts.Allows(value);
    }
  }
  if (hosts_seen == 0) return Refuse(400, "the Host header is required");
  if (!host_ok) {
    return Refuse(421,
                  "this Host is not the dashboard's (add it to --http-allowed-hosts if it is)");
  }
  if (lengths_seen == 0 &&
      (method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE")) {
    return Refuse(411, "a request body needs a Content-Length");
  }
  check.head_bytes = head.size();
  return check;
}

}  // namespace unas::dashboard
