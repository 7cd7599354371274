// What the `unasctl arch` subcommands share: the --space/--space-spec and
// --input/--classes flags and what they load, and one architecture printed
// for people (comments and textproto) or as JSON.
#ifndef UNAS_CLI_UNASCTL_ARCH_SUPPORT_H_
#define UNAS_CLI_UNASCTL_ARCH_SUPPORT_H_

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/search_space/space.h"
#include "google/protobuf/struct.pb.h"
#include "unas/v1/architecture.pb.h"

namespace unas::cli {

struct SpaceFlags {
  std::string kind;  // "cnn", "mlp" or "" (the architecture's own kind)
  std::string spec_file;
};

struct DataFlags {
  std::string input;  // "28x28x1"; empty: not given
  int classes = 0;
};

void AddSpaceFlags(CLI::App* cmd, SpaceFlags* flags, bool kind_required);
// --input and --classes: both required, or (not `required`) both or neither.
void AddDataFlags(CLI::App* cmd, DataFlags* flags, bool required);

// The space: --space-spec if given, else the defaults of --space, else of
// the architecture's kind (`arch` may be null: CNN).
absl::StatusOr<SearchSpace> LoadSpace(const SpaceFlags& flags, const v1::Architecture* arch);

// The data shape of --input/--classes; none when not given.
absl::StatusOr<std::optional<DataShape>> LoadData(const DataFlags& flags);

// Writes the architecture to `path` (format by extension), "-" for stdout.
absl::Status WriteArchitecture(const std::string& path, const v1::Architecture& arch);

// Header comments (`note`, the summary, the fingerprint for `data`) and
// the textproto: the human form of one architecture.
std::string HumanArchitecture(const v1::Architecture& arch, const std::optional<DataShape>& data,
                              const std::string& note);

// {change, summary, fingerprint, architecture}: the JSON form (an empty
// `change`, or no `data`, leaves its field out).
google::protobuf::Value JsonArchitecture(const v1::Architecture& arch,
                                         const std::optional<DataShape>& data,
                                         const std::string& change);

// Adds `resources` to the `arch` group (arch_resources_command.cc).
void AddArchResourcesCommand(CLI::App* arch, int* exit_code);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_ARCH_SUPPORT_H_
