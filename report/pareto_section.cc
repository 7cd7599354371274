// The page's Pareto table (internal::ParetoTableHtml): one row per Pareto
// member, sorted as given (by error), the best feasible model tagged, each
// row linking the candidate's export when the report has them.
#include <string>

#include "absl/strings/str_cat.h"
#include "common/search_space/describe.h"
#include "report/format.h"
#include "report/report_internal.h"

namespace unas::report::internal {
namespace {

using v1::Candidate;

std::string ParentText(const Candidate& c) {
  return c.has_parent_id() ? absl::StrCat("#", c.parent_id()) : "random";
}

}  // namespace

std::string ParetoTableHtml(const ReportData& data, const Candidate* best) {
  bool any_int8 = false;
  for (const Candidate& c : data.pareto) any_int8 |= c.evaluation().has_int8_test_error();
  std::string out = absl::StrCat(
      "<div class=\"table-wrap\"><table id=\"pareto-table\">\n<thead><tr>",
      "<th class=\"num\">candidate</th><th class=\"num\">test error</th>",
      "<th class=\"num\">val. error</th>", any_int8 ? "<th class=\"num\">int8 test error</th>" : "",
      "<th class=\"num\">PMU <small>B</small></th>",
      "<th class=\"num\">model size <small>B, μNAS</small></th>",
      "<th class=\"num\">model size <small>B, int8 deployed</small></th>",
      "<th class=\"num\">MACs</th><th>architecture</th><th class=\"num\">parent</th>",
      "</tr></thead>\n<tbody>\n");
  if (data.pareto.empty()) {
    absl::StrAppend(&out, "<tr><td class=\"empty\" colspan=\"", any_int8 ? 10 : 9,
                    "\">No feasible candidate yet: the Pareto set is empty.</td></tr>\n");
  }
  for (const Candidate& c : data.pareto) {
    const auto& e = c.evaluation();
    const auto& m = c.metrics();
    const bool is_best = best != nullptr && best->candidate_id() == c.candidate_id();
    absl::StrAppend(
        &out, "<tr class=\"pareto-row", is_best ? " best-row" : "", "\" data-id=\"",
        c.candidate_id(), "\"><td class=\"num\">#", c.candidate_id(),
        is_best ? "<span class=\"tag\">BEST</span>" : "",
        data.exports_dir.empty() ? std::string()
                                 : absl::StrCat(" <a href=\"", EscapeHtml(data.exports_dir),
                                                "/candidate-", c.candidate_id(), "/\">export</a>"),
        "</td><td class=\"num\">", FormatPercent(e.test_error()), "</td><td class=\"num\">",
        FormatPercent(e.validation_error()), "</td>",
        any_int8 ? absl::StrCat("<td class=\"num\">",
                                e.has_int8_test_error() ? FormatPercent(e.int8_test_error())
                                                        : std::string("—"),
                                "</td>")
                 : std::string(),
        "<td class=\"num\">", GroupThousands(m.peak_memory_bytes()), "</td><td class=\"num\">",
        GroupThousands(m.model_size_bytes()), "</td><td class=\"num\">",
        GroupThousands(m.model_size_deployed_bytes()), "</td><td class=\"num\" title=\"",
        GroupThousands(m.macs()), "\">", FormatCount(static_cast<double>(m.macs())),
        "</td><td class=\"arch\">", EscapeHtml(DescribeArchitecture(c.architecture())),
        "</td><td class=\"num\">", EscapeHtml(ParentText(c)), "</td></tr>\n");
  }
  absl::StrAppend(&out, "</tbody></table></div>\n");
  return out;
}

}  // namespace unas::report::internal
