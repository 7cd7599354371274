// `unasctl arch random | validate | mutate`, and AddArchCommands, which
// registers the whole `arch` group (`resources` is in
// arch_resources_command.cc).
#include "cli/unasctl/arch_commands.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/unasctl/arch_support.h"
#include "cli/unasctl/command_support.h"
#include "cli/unasctl/json_output.h"
#include "common/search_space/architecture_io.h"
#include "common/search_space/describe.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/validate.h"

namespace unas::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

// --- arch random -------------------------------------------------------------

struct RandomFlags {
  SpaceFlags space;
  DataFlags data;
  uint64_t seed = 0;
  int count = 1;
  std::string out;
  bool json = false;
};

int RunRandom(const RandomFlags& f) {
  auto space = LoadSpace(f.space, nullptr);
  if (!space.ok()) return Fail(space.status());
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  if (!f.out.empty() && f.count != 1) {
    return Fail(absl::InvalidArgumentError("--out writes one architecture: use --count 1"));
  }
  Rng rng(f.seed);
  Value list;
  list.mutable_list_value();
  for (int i = 0; i < f.count; ++i) {
    auto arch = RandomArchitecture(*space, **data, rng);
    if (!arch.ok()) return Fail(arch.status());
    if (!f.out.empty()) {
      if (absl::Status s = WriteArchitecture(f.out, *arch); !s.ok()) return Fail(s);
    }
    if (f.json) {
      *list.mutable_list_value()->add_values() = JsonArchitecture(*arch, *data, "");
    } else if (f.out != "-") {
      if (i > 0) std::cout << "\n";
      std::cout << HumanArchitecture(
          *arch, *data,
          absl::StrCat("random architecture ", i + 1, " of ", f.count, ", seed ", f.seed));
    }
  }
  if (f.json) {
    Struct result;
    (*result.mutable_fields())["seed"] = JsonNumber(static_cast<double>(f.seed));
    (*result.mutable_fields())["architectures"] = list;
    std::cout << ToJsonText(result);
  }
  return 0;
}

// --- arch validate -----------------------------------------------------------

struct ValidateFlags {
  std::string file;
  SpaceFlags space;
  DataFlags data;
  bool json = false;
};

int RunValidate(const ValidateFlags& f) {
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  auto arch = ReadArchitectureFile(f.file);
  absl::Status status = arch.status();
  std::optional<SearchSpace> space;
  if (status.ok()) {
    auto loaded = LoadSpace(f.space, &*arch);
    if (!loaded.ok()) return Fail(loaded.status());
    space = *loaded;
    status = ValidateArchitecture(*arch, *space);
    if (status.ok() && *data) status = ValidateForData(*arch, **data);
    if (!status.ok())
      status = absl::InvalidArgumentError(absl::StrCat(f.file, ": ", status.message()));
  }
  if (f.json) {
    Struct result;
    auto& fields = *result.mutable_fields();
    fields["file"] = JsonString(f.file);
    fields["valid"] = JsonBool(status.ok());
    if (!status.ok()) fields["error"] = JsonString(std::string(status.message()));
    if (arch.ok()) {
      fields["summary"] = JsonString(DescribeArchitecture(*arch));
      if (*data) fields["fingerprint"] = JsonString(FingerprintHex(Fingerprint(*arch, **data)));
    }
    std::cout << ToJsonText(result);
  } else if (status.ok()) {
    std::cout << f.file << ": valid " << (space->kind == SpaceKind::kMlp ? "MLP" : "CNN")
              << " architecture: " << DescribeArchitecture(*arch) << "\n";
    if (*data) {
      std::cout << "  builds for " << f.data.input << ", " << f.data.classes
                << " classes; fingerprint " << FingerprintHex(Fingerprint(*arch, **data)) << "\n";
    }
  } else {
    std::cerr << status.message() << "\n";
  }
  return status.ok() ? 0 : 1;
}

// --- arch mutate -------------------------------------------------------------

struct MutateFlags {
  std::string file;
  SpaceFlags space;
  DataFlags data;
  uint64_t seed = 0;
  bool all = false;
  std::string out;
  bool json = false;
};

int RunMutate(const MutateFlags& f) {
  auto data = LoadData(f.data);
  if (!data.ok()) return Fail(data.status());
  auto arch = ReadArchitectureFile(f.file);
  if (!arch.ok()) return Fail(arch.status());
  auto space = LoadSpace(f.space, &*arch);
  if (!space.ok()) return Fail(space.status());
  Rng rng(f.seed);
  if (f.all) {
    auto all = Neighbours(*arch, *space, rng);
    if (!all.ok())
      return Fail(absl::InvalidArgumentError(absl::StrCat(f.file, ": ", all.status().message())));
    if (f.json) {
      Struct result;
      Value list;
      list.mutable_list_value();
      for (const Neighbour& n : *all) {
        *list.mutable_list_value()->add_values() =
            JsonArchitecture(n.architecture, *data, n.change);
      }
      (*result.mutable_fields())["parent"] = JsonArchitecture(*arch, *data, "");
      (*result.mutable_fields())["count"] = JsonNumber(static_cast<double>(all->size()));
      (*result.mutable_fields())["neighbours"] = list;
      std::cout << ToJsonText(result);
      return 0;
    }
    std::cout << all->size() << " neighbours of " << DescribeArchitecture(*arch) << "\n";
    for (size_t i = 0; i < all->size(); ++i) {
      std::cout << absl::StrFormat("%4d  %-48s  %s\n", i + 1, (*all)[i].change,
                                   DescribeArchitecture((*all)[i].architecture));
    }
    return 0;
  }
  absl::StatusOr<Neighbour> chosen;
  if (*data) {
    chosen = RandomNeighbour(*arch, *space, **data, rng);
  } else {
    auto all = Neighbours(*arch, *space, rng);
    if (all.ok()) {
      chosen = (*all)[rng.Index(all->size())];
    } else {
      chosen = all.status();
    }
  }
  if (!chosen.ok()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(f.file, ": ", chosen.status().message())));
  }
  if (!f.out.empty()) {
    if (absl::Status s = WriteArchitecture(f.out, chosen->architecture); !s.ok()) return Fail(s);
  }
  if (f.json) {
    std::cout << ToJsonText(JsonArchitecture(chosen->architecture, *data, chosen->change));
  } else if (f.out != "-") {
    std::cout << HumanArchitecture(chosen->architecture, *data, "change: " + chosen->change);
  }
  return 0;
}

}  // namespace

void AddArchCommands(CLI::App& app, int* exit_code) {
  CLI::App* arch = app.add_subcommand("arch", "Offline commands on architecture files");
  arch->require_subcommand(1);

  auto random_flags = std::make_shared<RandomFlags>();
  CLI::App* random = arch->add_subcommand("random", "Print a random architecture of a space");
  AddSpaceFlags(random, &random_flags->space, /*kind_required=*/true);
  AddDataFlags(random, &random_flags->data, /*required=*/true);
  random->add_option("--seed", random_flags->seed, "Random seed")->required();
  random->add_option("--count", random_flags->count, "How many architectures")
      ->check(CLI::PositiveNumber);
  random->add_option("-o,--out", random_flags->out,
                     "Also write the architecture to this file (.textproto or .json; - = stdout)");
  random->add_flag("--json", random_flags->json, "JSON output");
  random->callback([random_flags, exit_code] { *exit_code = RunRandom(*random_flags); });

  auto validate_flags = std::make_shared<ValidateFlags>();
  CLI::App* validate = arch->add_subcommand("validate", "Check an architecture file");
  validate->add_option("FILE", validate_flags->file, "Architecture file (.textproto or .json)")
      ->required();
  AddSpaceFlags(validate, &validate_flags->space, /*kind_required=*/false);
  AddDataFlags(validate, &validate_flags->data, /*required=*/false);
  validate->add_flag("--json", validate_flags->json, "JSON output");
  validate->callback([validate_flags, exit_code] { *exit_code = RunValidate(*validate_flags); });

  auto mutate_flags = std::make_shared<MutateFlags>();
  CLI::App* mutate = arch->add_subcommand("mutate", "Print one random neighbour, or all of them");
  mutate->add_option("FILE", mutate_flags->file, "Architecture file (.textproto or .json)")
      ->required();
  AddSpaceFlags(mutate, &mutate_flags->space, /*kind_required=*/false);
  AddDataFlags(mutate, &mutate_flags->data, /*required=*/false);
  mutate->add_option("--seed", mutate_flags->seed, "Random seed (default 0)");
  mutate->add_flag("--all", mutate_flags->all, "Every neighbour, in the morphisms' order");
  mutate->add_option("-o,--out", mutate_flags->out,
                     "Also write the neighbour to this file (.textproto or .json; - = stdout)");
  mutate->add_flag("--json", mutate_flags->json, "JSON output");
  mutate->callback([mutate_flags, exit_code] { *exit_code = RunMutate(*mutate_flags); });

  AddArchResourcesCommand(arch, exit_code);
}

}  // namespace unas::cli
