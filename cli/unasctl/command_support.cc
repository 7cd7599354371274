// The failure path of every command (command_support.h).
#include "cli/unasctl/command_support.h"

#include <iostream>

namespace unas::cli {

int Fail(const absl::Status& status) {
  std::cerr << "unasctl: " << status.message() << "\n";
  return 1;
}

}  // namespace unas::cli
