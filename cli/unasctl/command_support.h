// What every unasctl command group shares: how a command fails.
#ifndef UNAS_CLI_UNASCTL_COMMAND_SUPPORT_H_
#define UNAS_CLI_UNASCTL_COMMAND_SUPPORT_H_

#include "absl/status/status.h"

namespace unas::cli {

// Prints "unasctl: MESSAGE" on stderr; the exit status of a failed command (1).
int Fail(const absl::Status& status);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_COMMAND_SUPPORT_H_
