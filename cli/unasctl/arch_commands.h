// `unasctl arch ...`: offline commands on architecture files (docs/unasctl.md):
//   random     a random architecture of a space, for an input shape
//   validate   check a file against a space (and an input shape)
//   mutate     one random neighbour, or all of them
//   resources  PMU, model sizes, MACs, latency proxy, best operator order, DOT
#ifndef UNAS_CLI_UNASCTL_ARCH_COMMANDS_H_
#define UNAS_CLI_UNASCTL_ARCH_COMMANDS_H_

#include "CLI/CLI.hpp"

namespace unas::cli {

// Adds the `arch` group to `app`. The command that runs stores its exit
// status in *exit_code (0 success, 1 failure; CLI11 handles usage errors).
void AddArchCommands(CLI::App& app, int* exit_code);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_ARCH_COMMANDS_H_
