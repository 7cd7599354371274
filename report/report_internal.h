// Internal to report/ (report.h is the library's interface): what the page's
// sections, its plots and the data files share — the job's objectives with
// the bounds as the search applies them, the error the report ranks by, the
// best feasible candidate — and the two page sections the page assembly
// (report.cc) puts into page.html. Only report/*.cc include it.
#ifndef UNAS_REPORT_REPORT_INTERNAL_H_
#define UNAS_REPORT_REPORT_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "google/protobuf/timestamp.pb.h"
#include "report/report.h"
#include "unas/v1/job.pb.h"

namespace unas::report::internal {

// One of the four objectives, with its bound as the search applies it.
struct Objective {
  std::string name;        // "peak memory"
  std::string short_name;  // "PMU"
  std::optional<double> bound;
  std::string bound_note;  // why a set bound is not applied; empty otherwise
  std::function<double(const v1::Candidate&)> value;
  std::function<std::string(double)> format;
};

// Error, peak memory, model size and MACs, in that order (the search's),
// their bounds taken from `spec` exactly as the search applies them.
std::vector<Objective> Objectives(const v1::JobSpec& spec);

double ErrorOf(const v1::Candidate& c, ErrorMetric metric);
std::string ErrorName(ErrorMetric metric);  // "test error", "validation error"

// A fraction as a percentage with at most two decimals: 0.125 → "12.5%".
std::string PercentLabel(double fraction);

// The error bound's label; it applies to the validation error, which the
// label says where the plot shows the test error.
std::string ErrorBoundLabel(double bound, ErrorMetric metric);

// The feasible candidate with the lowest error (the earliest of equals), or
// null.
const v1::Candidate* BestFeasible(const std::vector<v1::Candidate>& history, ErrorMetric metric);

int64_t CountFeasible(const std::vector<v1::Candidate>& candidates);
absl::flat_hash_set<int64_t> CandidateIds(const std::vector<v1::Candidate>& candidates);

// The job's name, or "(unnamed job)".
std::string JobTitle(const v1::JobSpec& spec);

// RFC 3339 ("2023-11-14T22:13:20Z"), or "" when unset.
std::string TimeText(const google::protobuf::Timestamp& t);

// The page's header: job, state and chips, summary cards, bounds
// (header_section.cc).
std::string HeaderHtml(const ReportData& data, const std::vector<Objective>& objectives,
                       const v1::Candidate* best);

// The Pareto table, `best` marked (pareto_section.cc).
std::string ParetoTableHtml(const ReportData& data, const v1::Candidate* best);

// The table of candidates stopped early; "" for a job without automated
// stopping that stopped none (stopped_section.cc).
std::string StoppedSectionHtml(const ReportData& data);

}  // namespace unas::report::internal

#endif  // UNAS_REPORT_REPORT_INTERNAL_H_
