#include "common/job_spec/loader.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_spec/defaults.h"
#include "common/job_spec/spec_merge.h"
#include "common/job_spec/validation.h"

namespace unas {
namespace {

// A chain longer than this is certainly a mistake (and bounds the recursion).
constexpr int kMaxBaseDepth = 16;

absl::StatusOr<v1::JobSpec> ReadWithBases(const std::filesystem::path& path,
                                          std::vector<std::string>& chain) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
  std::string key = ec ? path.string() : canonical.string();
  for (const std::string& seen : chain) {
    if (seen == key) {
      chain.push_back(key);
      return absl::InvalidArgumentError(
          absl::StrCat("base: specs include each other: ", absl::StrJoin(chain, " -> ")));
    }
  }
  if (static_cast<int>(chain.size()) >= kMaxBaseDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": base: more than ", kMaxBaseDepth, " levels of base specs"));
  }
  chain.push_back(key);

  v1::JobSpec spec;
  if (absl::Status s = ReadProtoFile(path.string(), &spec); !s.ok()) return s;
  if (spec.base().empty()) {
    if (!spec.clear_from_base().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.string(), ": clear_from_base: needs a base spec"));
    }
    return spec;
  }

  std::filesystem::path base_path = path.parent_path() / spec.base();
  absl::StatusOr<v1::JobSpec> base = ReadWithBases(base_path, chain);
  if (!base.ok()) {
    return absl::Status(base.status().code(), absl::StrCat(path.string(), ": base \"", spec.base(),
                                                           "\": ", base.status().message()));
  }
  v1::JobSpec merged = *std::move(base);
  for (int i = 0; i < spec.clear_from_base_size(); ++i) {
    if (absl::Status s = ClearFieldPath(spec.clear_from_base(i), &merged); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": clear_from_base[", i,
                                                     "] (\"", spec.clear_from_base(i),
                                                     "\"): ", s.message()));
    }
  }
  spec.clear_base();
  spec.clear_clear_from_base();
  ApplyOverride(spec, &merged);
  return merged;
}

}  // namespace

absl::StatusOr<v1::JobSpec> ReadJobSpecFile(const std::string& path) {
  std::vector<std::string> chain;
  return ReadWithBases(path, chain);
}

absl::StatusOr<v1::JobSpec> PrepareJobSpec(v1::JobSpec spec) {
  FillDefaults(&spec);
  if (absl::Status s = ValidateJobSpec(spec); !s.ok()) return s;
  return spec;
}

absl::StatusOr<v1::JobSpec> LoadJobSpecFile(const std::string& path) {
  absl::StatusOr<v1::JobSpec> spec = ReadJobSpecFile(path);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<v1::JobSpec> prepared = PrepareJobSpec(*std::move(spec));
  if (!prepared.ok()) {
    return absl::Status(prepared.status().code(),
                        absl::StrCat(path, ": ", prepared.status().message()));
  }
  return prepared;
}

absl::StatusOr<v1::JobSpec> ParseJobSpec(absl::string_view text, ProtoFormat format,
                                         absl::string_view origin) {
  v1::JobSpec spec;
  if (absl::Status s = ParseProto(text, format, origin, &spec); !s.ok()) return s;
  if (!spec.base().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": base: only spec files can name a base spec"));
  }
  absl::StatusOr<v1::JobSpec> prepared = PrepareJobSpec(std::move(spec));
  if (!prepared.ok()) {
    return absl::Status(prepared.status().code(),
                        absl::StrCat(origin, ": ", prepared.status().message()));
  }
  return prepared;
}

}  // namespace unas
