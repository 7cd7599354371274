#include "coordinator/http/dashboard_auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/rpc/token_file.h"

namespace unas::dashboard {
namespace {

std::string SessionFor(absl::string_view token) {
  const std::string input = absl::StrCat("unas-dashboard-session:", token);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

bool EqualConstantTime(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

DashboardAuth::DashboardAuth(std::optional<std::string> client_token, bool tls) : tls_(tls) {
  if (client_token.has_value() && !client_token->empty()) {
    token_ = std::move(client_token);
    session_ = SessionFor(*token_);
  }
}

bool DashboardAuth::Allows(absl::string_view authorization, absl::string_view cookie) const {
  if (!token_) return true;
  if (!authorization.empty() && rpc::BearerTokenMatches(authorization, *token_)) return true;
  for (absl::string_view part : absl::StrSplit(cookie, ';')) {
    part = absl::StripAsciiWhitespace(part);
    const size_t eq = part.find('=');
    if (eq == absl::string_view::npos || part.substr(0, eq) != kSessionCookieName) continue;
    if (EqualConstantTime(part.substr(eq + 1), session_)) return true;
  }
  return false;
}

bool DashboardAuth::TokenMatches(absl::string_view typed) const {
  return token_.has_value() && EqualConstantTime(absl::StripAsciiWhitespace(typed), *token_);
}

std::string DashboardAuth::SessionCookie() const {
  return absl::StrCat(kSessionCookieName, "=", session_, "; Path=/; HttpOnly; SameSite=Strict",
                      tls_ ? "; Secure" : "");
}

}  // namespace unas::dashboard
