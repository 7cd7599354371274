// The flags, loading and printing the `arch` subcommands share
// (arch_support.h).
#include "cli/unasctl/arch_support.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/unasctl/json_output.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/describe.h"
#include "common/search_space/fingerprint.h"

namespace unas::cli {

using google::protobuf::Value;

void AddSpaceFlags(CLI::App* cmd, SpaceFlags* flags, bool kind_required) {
  CLI::Option* kind = cmd->add_option("--space", flags->kind, "Search space kind: cnn or mlp")
                          ->check(CLI::IsMember({"cnn", "mlp"}));
  if (kind_required) kind->required();
  cmd->add_option("--space-spec", flags->spec_file,
                  "SearchSpaceSpec file (textproto or JSON) with the space's bounds; "
                  "absent bounds take the defaults")
      ->check(CLI::ExistingFile);
}

void AddDataFlags(CLI::App* cmd, DataFlags* flags, bool required) {
  CLI::Option* input =
      cmd->add_option("--input", flags->input, "Input shape HEIGHTxWIDTHxCHANNELS, e.g. 28x28x1");
  CLI::Option* classes = cmd->add_option("--classes", flags->classes, "Number of classes (>= 2)");
  if (required) {
    input->required();
    classes->required();
  } else {
    input->needs(classes);
    classes->needs(input);
  }
}

absl::StatusOr<SearchSpace> LoadSpace(const SpaceFlags& flags, const v1::Architecture* arch) {
  SearchSpace space;
  if (!flags.spec_file.empty()) {
    v1::SearchSpaceSpec spec;
    if (absl::Status s = ReadProtoFile(flags.spec_file, &spec); !s.ok()) return s;
    auto resolved = ResolveSearchSpace(spec);
    if (!resolved.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flags.spec_file, ": ", resolved.status().message()));
    }
    space = *resolved;
    if (!flags.kind.empty()) space.kind = flags.kind == "mlp" ? SpaceKind::kMlp : SpaceKind::kCnn;
    return space;
  }
  if (!flags.kind.empty()) {
    return DefaultSearchSpace(flags.kind == "mlp" ? SpaceKind::kMlp : SpaceKind::kCnn);
  }
  return DefaultSearchSpace(arch != nullptr && arch->has_mlp() ? SpaceKind::kMlp : SpaceKind::kCnn);
}

absl::StatusOr<std::optional<DataShape>> LoadData(const DataFlags& flags) {
  if (flags.input.empty()) return std::optional<DataShape>();
  auto data = ParseInputShape(flags.input, flags.classes);
  if (!data.ok()) return data.status();
  return std::optional<DataShape>(*data);
}

absl::Status WriteArchitecture(const std::string& path, const v1::Architecture& arch) {
  if (path == "-") {
    std::cout << ToTextproto(arch);
    return absl::OkStatus();
  }
  return WriteProtoFile(path, arch);
}

std::string HumanArchitecture(const v1::Architecture& arch, const std::optional<DataShape>& data,
                              const std::string& note) {
  std::string out;
  if (!note.empty()) absl::StrAppend(&out, "# ", note, "\n");
  absl::StrAppend(&out, "# ", DescribeArchitecture(arch), "\n");
  if (data) {
    absl::StrAppend(&out, "# fingerprint ", FingerprintHex(Fingerprint(arch, *data)), " for ",
                    data->height, "x", data->width, "x", data->channels, ", ", data->num_classes,
                    " classes\n");
  }
  absl::StrAppend(&out, ToTextproto(arch));
  return out;
}

Value JsonArchitecture(const v1::Architecture& arch, const std::optional<DataShape>& data,
                       const std::string& change) {
  Value v;
  auto& fields = *v.mutable_struct_value()->mutable_fields();
  if (!change.empty()) fields["change"] = JsonString(change);
  fields["summary"] = JsonString(DescribeArchitecture(arch));
  if (data) fields["fingerprint"] = JsonString(FingerprintHex(Fingerprint(arch, *data)));
  fields["architecture"] = JsonMessage(arch);
  return v;
}

}  // namespace unas::cli
