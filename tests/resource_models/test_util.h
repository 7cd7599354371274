// Helpers shared by the resource_models tests.

#ifndef UNAS_TESTS_RESOURCE_MODELS_TEST_UTIL_H_
#define UNAS_TESTS_RESOURCE_MODELS_TEST_UTIL_H_

#include <utility>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace unas::rm::testing {

// Unwraps a StatusOr in a test, failing it with the status message otherwise.
template <typename T>
T Unwrap(absl::StatusOr<T> v) {
  EXPECT_TRUE(v.ok()) << v.status();
  if (!v.ok()) return T{};
  return *std::move(v);
}

}  // namespace unas::rm::testing

#endif  // UNAS_TESTS_RESOURCE_MODELS_TEST_UTIL_H_
