// unasctl: the μNAS command-line client. Each command group registers its
// subcommands: `arch` works offline, the job commands talk to a coordinator,
// `local` runs a whole search on this machine.
#include "CLI/CLI.hpp"
#include "cli/unasctl/arch_commands.h"
#include "cli/unasctl/export_command.h"
#include "cli/unasctl/job_commands.h"
#include "cli/unasctl/local_command.h"

int main(int argc, char** argv) {
  CLI::App app{"unasctl: the μNAS command-line client"};
  app.require_subcommand(1);
  int exit_code = 0;
  unas::cli::AddArchCommands(app, &exit_code);
  unas::cli::AddJobCommands(app, &exit_code);
  unas::cli::AddExportCCommand(app, &exit_code);
  unas::cli::AddLocalCommand(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
