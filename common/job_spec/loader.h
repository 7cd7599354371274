// Loading job specs from the files users write (textproto or JSON, with an
// optional `base` spec they override) and preparing them for a search.
#ifndef UNAS_COMMON_JOB_SPEC_LOADER_H_
#define UNAS_COMMON_JOB_SPEC_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/proto_io/proto_file.h"
#include "unas/v1/job_spec.pb.h"

namespace unas {

// Reads a spec file and resolves its chain of `base` files (each relative to
// the file naming it). No defaults are filled and nothing is validated: this
// is the spec exactly as written.
absl::StatusOr<v1::JobSpec> ReadJobSpecFile(const std::string& path);

// Fills defaults and validates: what the coordinator does on SubmitJob.
absl::StatusOr<v1::JobSpec> PrepareJobSpec(v1::JobSpec spec);

// ReadJobSpecFile followed by PrepareJobSpec; errors name the file.
absl::StatusOr<v1::JobSpec> LoadJobSpecFile(const std::string& path);

// Parses a spec given as text (no `base` allowed), fills defaults and
// validates. `origin` names the source in errors.
absl::StatusOr<v1::JobSpec> ParseJobSpec(absl::string_view text, ProtoFormat format,
                                         absl::string_view origin);

}  // namespace unas

#endif  // UNAS_COMMON_JOB_SPEC_LOADER_H_
