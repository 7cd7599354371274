// unasctl: the μNAS command-line client. Each command group registers its
// subcommands; the offline `arch` group needs no coordinator.
#include <iostream>

#include "CLI/CLI.hpp"
#include "cli/unasctl/arch_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"unasctl: the μNAS command-line client"};
  app.require_subcommand(1);
  int exit_code = 0;
  unas::cli::AddArchCommands(app, &exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
