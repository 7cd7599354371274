// The end of `unasctl local`: every feasible Pareto candidate exported (C
// project, int8 model, weights) next to the report, and the most accurate
// one's C project built with the host compiler and run on the job's test
// images, so the search ends with a network that is known to run in the
// arena it reports (docs/deploy.md).
#ifndef UNAS_CLI_UNASCTL_DEPLOY_STEP_H_
#define UNAS_CLI_UNASCTL_DEPLOY_STEP_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "cli/unasctl/coordinator_client.h"
#include "unas/v1/job_spec.pb.h"

namespace unas::cli {

// Exports the feasible Pareto front of `job_id` into `exports_dir`
// (candidate-<id>/ each) and prints one line about the most accurate
// candidate's compiled C: its int8 test error on `spec`'s test set, arena
// and flash bytes. A job without a feasible candidate prints why and is not
// an error.
absl::Status ExportDeployable(CoordinatorClient& client, int64_t job_id, const v1::JobSpec& spec,
                              const std::string& exports_dir, std::ostream& out);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_DEPLOY_STEP_H_
