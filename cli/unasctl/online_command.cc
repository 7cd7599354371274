// The flags and helpers of the online commands (online_command.h).
#include "cli/unasctl/online_command.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace unas::cli {

void AddCoordinatorFlags(CLI::App* cmd, OnlineFlags* flags) {
  cmd->add_option("--coordinator", flags->coordinator, "coordinator address HOST:PORT")
      ->envname("UNAS_COORDINATOR")
      ->capture_default_str();
  cmd->add_option("--tls-ca", flags->security.tls_ca_file,
                  "PEM CA of the coordinator's certificate: connect with TLS")
      ->envname("UNAS_TLS_CA");
  cmd->add_option("--token-file", flags->security.token_file,
                  "file holding the client token, sent with every call")
      ->envname("UNAS_TOKEN_FILE");
  cmd->add_option("--tls-server-name", flags->security.tls_server_name,
                  "name to check in the coordinator's certificate (default: the host)");
}

void AddFormatFlags(CLI::App* cmd, OnlineFlags* flags, FormatFlags formats) {
  if (formats == FormatFlags::kNone) return;
  CLI::Option* json = cmd->add_flag("--json", flags->json, "JSON output for scripts");
  if (formats == FormatFlags::kJsonOrCsv) {
    cmd->add_flag("--csv", flags->csv, "CSV output for scripts")->excludes(json);
  }
}

CLI::App* AddJobSubcommand(CLI::App& app, const std::string& name, const std::string& help,
                           std::string* job, OnlineFlags* flags, FormatFlags formats) {
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->add_option("job", *job, "job id or name")->required();
  AddCoordinatorFlags(cmd, flags);
  AddFormatFlags(cmd, flags, formats);
  return cmd;
}

std::string JobStateName(v1::JobState state) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::JobState_Name(state), "JOB_STATE_"));
}

}  // namespace unas::cli
