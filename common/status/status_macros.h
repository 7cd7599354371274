// Early-return helpers for absl::Status and absl::StatusOr (the Debian
// abseil ships none publicly).
//
//   UNAS_RETURN_IF_ERROR(DoThing());
//   UNAS_ASSIGN_OR_RETURN(Foo foo, MakeFoo());   // declares foo
//   UNAS_ASSIGN_OR_RETURN(foo, MakeFoo());       // assigns an existing foo
#ifndef UNAS_COMMON_STATUS_STATUS_MACROS_H_
#define UNAS_COMMON_STATUS_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define UNAS_RETURN_IF_ERROR(expr)                                                     \
  do {                                                                                 \
    if (::absl::Status _unas_status = (expr); !_unas_status.ok()) return _unas_status; \
  } while (false)

#define UNAS_STATUS_CONCAT_INNER(a, b) a##b
#define UNAS_STATUS_CONCAT(a, b) UNAS_STATUS_CONCAT_INNER(a, b)

#define UNAS_ASSIGN_OR_RETURN(lhs, expr) \
  UNAS_ASSIGN_OR_RETURN_IMPL(UNAS_STATUS_CONCAT(_unas_statusor_, __LINE__), lhs, expr)
#define UNAS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = *std::move(tmp)

#endif  // UNAS_COMMON_STATUS_STATUS_MACROS_H_
