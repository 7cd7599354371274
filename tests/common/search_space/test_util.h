// Helpers shared by the search-space tests.
#ifndef UNAS_TESTS_COMMON_SEARCH_SPACE_TEST_UTIL_H_
#define UNAS_TESTS_COMMON_SEARCH_SPACE_TEST_UTIL_H_

#include <ostream>
#include <string>

#include "common/search_space/architecture_io.h"
#include "common/search_space/space.h"
#include "gtest/gtest.h"
#include "unas/v1/architecture.pb.h"

namespace unas {

// Readable parameter names in test output.
inline void PrintTo(const DataShape& d, std::ostream* os) {
  *os << d.height << "x" << d.width << "x" << d.channels << ", " << d.num_classes << " classes";
}

}  // namespace unas

namespace unas::testing {

inline std::string ArchitecturePath(const std::string& name) {
  return std::string(UNAS_SOURCE_DIR) + "/configs/architectures/" + name;
}

// One of the example architectures of configs/architectures/.
inline v1::Architecture Golden(const std::string& name) {
  auto arch = ReadArchitectureFile(ArchitecturePath(name));
  EXPECT_TRUE(arch.ok()) << arch.status();
  return arch.ok() ? *arch : v1::Architecture();
}

inline DataShape Data(int h, int w, int c, int k) { return DataShape{h, w, c, k}; }

// The four inputs of the sweeps: MNIST, CIFAR-10, KWS (old and new
// speech shapes).
inline const DataShape kSweepInputs[] = {
    {28, 28, 1, 10}, {32, 32, 3, 10}, {49, 40, 1, 12}, {98, 40, 1, 12}};

}  // namespace unas::testing

#endif  // UNAS_TESTS_COMMON_SEARCH_SPACE_TEST_UTIL_H_
