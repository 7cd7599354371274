// `unasctl local SPEC`: a whole search on one machine in one command. It
// starts a coordinator (its database in ./runs/NAME/) and local worker slots,
// follows the job with a progress bar, prints the Pareto front and writes the
// report. Ctrl-C stops everything cleanly; the same command again resumes the
// job from its database.
#ifndef UNAS_CLI_UNASCTL_LOCAL_COMMAND_H_
#define UNAS_CLI_UNASCTL_LOCAL_COMMAND_H_

#include "CLI/CLI.hpp"

namespace unas::cli {

void AddLocalCommand(CLI::App& app, int* exit_code);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_LOCAL_COMMAND_H_
