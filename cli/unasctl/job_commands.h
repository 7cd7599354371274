// The online commands of unasctl: they talk to a running coordinator
// (--coordinator, default 127.0.0.1:50051, or $UNAS_COORDINATOR).
//   submit SPEC | jobs | status JOB | watch JOB | population JOB | history JOB
//   pareto JOB | show JOB CANDIDATE | cancel JOB | workers | export JOB CANDIDATE
//   (export_command.h) report JOB -o DIR
// JOB is a job id or a job name (the newest job of that name).
#ifndef UNAS_CLI_UNASCTL_JOB_COMMANDS_H_
#define UNAS_CLI_UNASCTL_JOB_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/unasctl/coordinator_client.h"

namespace unas::cli {

// Every online command, in the order of the groups below. The command that
// runs stores its exit status in *exit_code.
void AddJobCommands(CLI::App& app, int* exit_code);

// The groups, one file each.
void AddJobLifecycleCommands(CLI::App& app, int* exit_code);  // submit, jobs, status, watch
void AddCandidateCommands(CLI::App& app, int* exit_code);     // population, history, pareto, show
void AddControlCommands(CLI::App& app, int* exit_code);       // cancel, workers
void AddOutputCommands(CLI::App& app, int* exit_code);        // export, report

// Follows a job's progress with a progress bar until it ends (shared with
// `unasctl local`); the final state.
absl::StatusOr<v1::Job> WatchUntilDone(CoordinatorClient& client, int64_t job_id);

// Prints the feasible Pareto front of a job as a table.
absl::Status PrintParetoTable(CoordinatorClient& client, int64_t job_id, std::ostream& out);

// Writes the HTML report and its data into `dir`; `exports_dir` (relative to
// it, may be empty) holds candidate-<id>/ exports the Pareto table links.
absl::Status WriteJobReport(CoordinatorClient& client, int64_t job_id, const std::string& dir,
                            const std::string& exports_dir = "");

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_JOB_COMMANDS_H_
