// What the commands that talk to a coordinator share: the connection flags
// (--coordinator, or $UNAS_COORDINATOR; TLS and token), the output-format
// flags, a subcommand taking a JOB argument, running a command body with
// the resolved job, and job states as the commands print them.
#ifndef UNAS_CLI_UNASCTL_ONLINE_COMMAND_H_
#define UNAS_CLI_UNASCTL_ONLINE_COMMAND_H_

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/unasctl/command_support.h"
#include "cli/unasctl/coordinator_client.h"
#include "cli/unasctl/table.h"
#include "common/rpc/channel.h"
#include "unas/v1/job.pb.h"

namespace unas::cli {

// The flags of an online command (each command group holds one set).
struct OnlineFlags {
  std::string coordinator = kDefaultCoordinator;
  rpc::ChannelSecurity security;
  bool json = false;
  bool csv = false;
  OutputFormat format() const {
    return json ? OutputFormat::kJson : csv ? OutputFormat::kCsv : OutputFormat::kTable;
  }
};

// Which output-format flags a command takes.
enum class FormatFlags {
  kNone,
  kJson,       // --json
  kJsonOrCsv,  // --json or --csv
};

// --coordinator, --tls-ca, --token-file, --tls-server-name.
void AddCoordinatorFlags(CLI::App* cmd, OnlineFlags* flags);
void AddFormatFlags(CLI::App* cmd, OnlineFlags* flags, FormatFlags formats);

// A subcommand `name JOB` (a job id or name, into *job) with the
// coordinator flags and then `formats`.
CLI::App* AddJobSubcommand(CLI::App& app, const std::string& name, const std::string& help,
                           std::string* job, OnlineFlags* flags, FormatFlags formats);

// Runs `body(client, job_id)` for the job named by `job`; the exit status,
// any error printed.
template <typename Body>
int WithJob(const OnlineFlags& flags, const std::string& job, Body body) {
  CoordinatorClient client(flags.coordinator, flags.security);
  absl::StatusOr<int64_t> job_id = client.ResolveJob(job);
  if (!job_id.ok()) return Fail(job_id.status());
  absl::Status s = body(client, *job_id);
  return s.ok() ? 0 : Fail(s);
}

// "running", "succeeded", ...: a job state as the commands print it.
std::string JobStateName(v1::JobState state);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_ONLINE_COMMAND_H_
