// Who may read the dashboard: with a client token configured (the gRPC
// JobService's, --client-token-file), a request must carry it as
// "Authorization: Bearer TOKEN" (scripts) or hold the session cookie the
// login form sets after the token was typed in (browsers). Without a token
// configured (loopback use) everything is open. The cookie holds a SHA-256
// digest of the token, not the token itself, so a copied cookie cannot call
// the gRPC API.
#ifndef UNAS_COORDINATOR_HTTP_DASHBOARD_AUTH_H_
#define UNAS_COORDINATOR_HTTP_DASHBOARD_AUTH_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace unas::dashboard {

inline constexpr char kSessionCookieName[] = "unas_dashboard";

class DashboardAuth {
 public:
  // `client_token`: nullopt or empty when none is configured.
  DashboardAuth(std::optional<std::string> client_token, bool tls);

  bool required() const { return token_.has_value(); }

  // The request's Authorization and Cookie headers (empty when absent).
  bool Allows(absl::string_view authorization, absl::string_view cookie) const;

  // Whether a token typed into the login form is the right one.
  bool TokenMatches(absl::string_view typed) const;

  // The Set-Cookie value that logs a browser in (HttpOnly, SameSite=Strict,
  // Secure over TLS).
  std::string SessionCookie() const;

 private:
  std::optional<std::string> token_;
  std::string session_;  // hex SHA-256 of the token
  bool tls_;
};

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_DASHBOARD_AUTH_H_
