#include "common/rpc/token_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "spdlog/spdlog.h"

namespace unas::rpc {

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat("token file ", path, ": ", std::strerror(errno)));
  }
  std::ifstream in(path);
  if (!in) return absl::PermissionDeniedError(absl::StrCat("token file ", path, ": cannot read"));
  std::stringstream contents;
  contents << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(contents.str()));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("token file ", path, ": the token must be one word (no whitespace inside)"));
  }
  if ((info.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    spdlog::warn("token file {} is readable by others than its owner (mode {:o}); chmod 600 it",
                 path, info.st_mode & 0777);
  }
  return token;
}

bool IsLoopbackAddress(absl::string_view address) {
  absl::string_view host = address;
  if (absl::StartsWith(host, "ipv4:")) host.remove_prefix(5);  // gRPC's URI forms
  if (absl::StartsWith(host, "ipv6:")) host.remove_prefix(5);
  // [v6]:port, v4:port, name:port; a bare v6 address has several colons.
  if (absl::StartsWith(host, "[")) {
    size_t close = host.find(']');
    if (close == absl::string_view::npos) return false;
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':');
             colon != absl::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);
  }
  if (absl::EqualsIgnoreCase(host, "localhost") || host == "::1") return true;
  std::vector<absl::string_view> octets = absl::StrSplit(host, '.');
  if (octets.size() != 4) return false;
  for (absl::string_view octet : octets) {
    int value = 0;
    if (!absl::SimpleAtoi(octet, &value) || value < 0 || value > 255) return false;
  }
  return octets[0] == "127";
}

bool BearerTokenMatches(absl::string_view header, absl::string_view token) {
  constexpr absl::string_view kPrefix = "Bearer ";
  if (token.empty() || header.size() < kPrefix.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kPrefix.size()), kPrefix)) {
    return false;
  }
  absl::string_view presented = header.substr(kPrefix.size());
  // Every byte of the expected token is compared whatever the presented one
  // holds, so the time taken says nothing about how much of it was right.
  unsigned char diff = presented.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < token.size(); ++i) {
    unsigned char got = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(got ^ static_cast<unsigned char>(token[i]));
  }
  return diff == 0;
}

}  // namespace unas::rpc
