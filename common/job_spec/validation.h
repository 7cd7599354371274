// Validation of a job spec. Every rule that fails is reported, not just the
// first, and every error starts with the path of the field it is about, as
// in "training.pruning.finish_epoch (3) must be >= training.pruning.start_epoch (18)".
#ifndef UNAS_COMMON_JOB_SPEC_VALIDATION_H_
#define UNAS_COMMON_JOB_SPEC_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "unas/v1/job_spec.pb.h"

namespace unas {

struct FieldError {
  std::string field;    // "training.pruning.finish_epoch"
  std::string message;  // the whole sentence, starting with `field`
};

// All violated rules of a spec whose defaults were filled (FillDefaults).
std::vector<FieldError> FindJobSpecErrors(const v1::JobSpec& spec);

// OK, or INVALID_ARGUMENT whose message lists every error, one per line.
absl::Status ValidateJobSpec(const v1::JobSpec& spec);

}  // namespace unas

#endif  // UNAS_COMMON_JOB_SPEC_VALIDATION_H_
