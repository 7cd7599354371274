// The candidates the automated stopping rule stopped early (STOPPED): the
// page's "Stopped early" table and stopped.csv, each row with the rule's
// numbers (where, the candidate's best error, the median it had to beat,
// over how many completed candidates) and the training time spent.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/format.h"
#include "report/report.h"
#include "report/report_internal.h"

namespace unas::report {

namespace internal {

std::string StoppedSectionHtml(const ReportData& data) {
  if (data.stopped.empty() && !data.job.spec().has_automated_stopping()) return "";
  double seconds = 0;
  for (const v1::Candidate& c : data.stopped) seconds += c.evaluation().training_seconds();
  std::string out = absl::StrCat(
      "<h2 id=\"stopped\">Stopped early <small class=\"unbounded\">(", data.stopped.size(),
      " candidates, ", absl::StrFormat("%.0f", seconds),
      " s of training; the median stopping rule: a candidate whose best validation error is "
      "worse than the median of the completed candidates' mean errors up to the same point is "
      "stopped)</small></h2>\n",
      "<div class=\"table-wrap\"><table id=\"stopped-table\">\n<thead><tr>",
      "<th class=\"num\">candidate</th><th class=\"num\">stopped at <small>epochs</small></th>",
      "<th class=\"num\">best val. error</th><th class=\"num\">median to beat</th>",
      "<th class=\"num\">completed compared</th><th class=\"num\">training <small>s</small></th>",
      "<th class=\"num\">parent</th></tr></thead>\n<tbody>\n");
  if (data.stopped.empty()) {
    absl::StrAppend(&out, "<tr><td class=\"empty\" colspan=\"7\">none stopped</td></tr>\n");
  }
  for (const v1::Candidate& c : data.stopped) {
    const v1::StoppingDecision& d = c.stopping();
    absl::StrAppend(
        &out, "<tr class=\"stopped-row\" data-id=\"", c.candidate_id(), "\"><td class=\"num\">#",
        c.candidate_id(), "</td><td class=\"num\">", absl::StrFormat("%.2f", d.epoch_fraction()),
        "</td><td class=\"num\">", FormatPercent(d.candidate_error()), "</td><td class=\"num\">",
        FormatPercent(d.threshold()), "</td><td class=\"num\">", d.completed_compared(),
        "</td><td class=\"num\">", absl::StrFormat("%.1f", c.evaluation().training_seconds()),
        "</td><td class=\"num\">",
        c.has_parent_id() ? absl::StrCat("#", c.parent_id()) : std::string("random"),
        "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody></table></div>\n");
  return out;
}

}  // namespace internal

std::string RenderStoppedCsv(const ReportData& data) {
  std::string out =
      "candidate_id,parent_id,rule,epoch_fraction,candidate_error,threshold,completed_compared,"
      "training_seconds,worker_id\n";
  for (const v1::Candidate& c : data.stopped) {
    const v1::StoppingDecision& d = c.stopping();
    absl::StrAppend(&out, c.candidate_id(), ",",
                    c.has_parent_id() ? absl::StrCat(c.parent_id()) : std::string(), ",", d.rule(),
                    ",", d.epoch_fraction(), ",", d.candidate_error(), ",", d.threshold(), ",",
                    d.completed_compared(), ",", c.evaluation().training_seconds(), ",",
                    c.worker_id(), "\n");
  }
  return out;
}

}  // namespace unas::report
