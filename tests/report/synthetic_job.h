// Seeded synthetic jobs for the report tests: candidates whose resources and
// errors are related the way real searches relate them (bigger networks
// err less), with bounds that make some of them infeasible, and the
// feasible Pareto set computed here independently of the report code.
#ifndef UNAS_TESTS_CLI_REPORT_SYNTHETIC_JOB_H_
#define UNAS_TESTS_CLI_REPORT_SYNTHETIC_JOB_H_

#include <cstdint>
#include <vector>

#include "report/report.h"
#include "unas/v1/job.pb.h"

namespace unas::report::testing {

struct SyntheticOptions {
  int candidates = 60;
  uint64_t seed = 1;
  bool bounded = true;
};

// A RUNNING Fashion-MNIST aging-evolution job with `candidates` DONE
// candidates; bounds (when `bounded`): error 0.2, 16 kB PMU and model
// size, 2M MACs. feasible is set from the bounds.
ReportData MakeSyntheticJob(const SyntheticOptions& options = {});

// Recomputes every candidate's `feasible` from the job's bounds (on the
// validation error) and fills data.pareto: the feasible candidates no other
// feasible candidate dominates in (error, PMU, model size, MACs), by error,
// with the error of data.error_metric.
void RecomputeFeasibilityAndPareto(ReportData& data);

}  // namespace unas::report::testing

#endif  // UNAS_TESTS_CLI_REPORT_SYNTHETIC_JOB_H_
