// The search report of one job (`unasctl report JOB -o DIR`, `unasctl
// local`): a self-contained HTML page with SVG plots, and the data behind
// it as CSV and JSON. docs/report.md explains how to read it.
//
//   index.html       header (job, state, progress, bounds, best feasible
//                    model), error versus peak memory / model size / MACs,
//                    best feasible error versus evaluations, the Pareto table
//   candidates.csv   one row per evaluated candidate, in evaluation order
//   candidates.json  the same rows (numbers as JSON numbers, architectures
//                    as objects), the job and the Pareto ids
//   pareto.csv       the rows of the Pareto set, sorted by error
//   stopped.csv      the candidates stopped early, with the stopping rule's
//                    numbers
#ifndef UNAS_REPORT_REPORT_H_
#define UNAS_REPORT_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "unas/v1/job.pb.h"

namespace unas::report {

// The error the plots, the best feasible model and the Pareto set use.
// Reports rank by test error (GetParetoFrontRequest.use_test_error), as the
// μNAS paper plots its fronts; feasibility always follows the validation
// error, as the search does (Candidate.feasible).
enum class ErrorMetric { kTest, kValidation };

struct ReportData {
  v1::Job job;                         // spec (bounds, name, algorithm...), state, progress
  std::vector<v1::Candidate> history;  // every DONE candidate, in evaluation (finish) order
  std::vector<v1::Candidate> pareto;   // the feasible Pareto set over the 4 objectives, by error
  // Candidates the automated stopping rule stopped early (STOPPED), in
  // finish order: never in the history's plots or the Pareto set.
  std::vector<v1::Candidate> stopped;
  // The error `pareto` was computed with: the x axis of the scatter plots.
  ErrorMetric error_metric = ErrorMetric::kTest;
  // Folder (relative to the report) of the candidates' exports,
  // candidate-<id>/ each; empty: the Pareto table links none.
  std::string exports_dir;
};

// Writes index.html, candidates.csv, candidates.json, pareto.csv and
// stopped.csv into
// `out_dir` (created if missing; existing files are replaced atomically).
// The page is self-contained: inline SVG and CSS, no scripts, no fetches.
absl::Status WriteReport(const ReportData& data, const std::string& out_dir);

// The file contents, for callers that print instead of writing files.
std::string RenderHtml(const ReportData& data);
std::string RenderCandidatesCsv(const ReportData& data);
std::string RenderCandidatesJson(const ReportData& data);
std::string RenderParetoCsv(const ReportData& data);
std::string RenderStoppedCsv(const ReportData& data);

// One plot of the page, as its <svg> element: the same drawing for the
// static report and for other pages that show a job live (the coordinator's
// dashboard), so there is one plotting implementation.
enum class JobPlot {
  kPeakMemory,  // error vs peak memory, bounds shaded, the Pareto set highlighted
  kModelSize,   // error vs model size, likewise
  kMacs,        // error vs MACs, likewise
  kProgress,    // best feasible error vs evaluations
};
std::string RenderJobPlot(const ReportData& data, JobPlot plot);

}  // namespace unas::report

#endif  // UNAS_REPORT_REPORT_H_
