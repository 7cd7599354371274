// The page assembly and the report folder: RenderHtml fills page.html's
// placeholders with the header, the plots with their captions and the
// Pareto table; WriteReport writes the page and its data files. The
// sections live in header_section.cc, plots.cc, pareto_section.cc and
// data_files.cc.
#include "report/report.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status/status_macros.h"
#include "report/format.h"
#include "report/page_template.h"
#include "report/report_internal.h"

namespace unas::report {
namespace {

// The plots of the page, in order, with their captions (the scatter plots'
// captions end with the counts of the points).
struct PagePlot {
  JobPlot plot;
  const char* caption;
};
constexpr PagePlot kScatterPlots[] = {
    {JobPlot::kPeakMemory,
     "Peak memory: activation buffers with the best operator order, model input excluded."},
    {JobPlot::kModelSize, "Model size as μNAS counts it: one byte per (non-zero) weight and bias."},
    {JobPlot::kMacs, "Multiply-accumulates: conv and dense, plus pooling and Add."},
};

std::string PlotsHtml(const ReportData& data) {
  const int64_t infeasible =
      static_cast<int64_t>(data.history.size()) - internal::CountFeasible(data.history);
  const std::string counts = absl::StrCat(data.history.size(), " evaluated · ", data.pareto.size(),
                                          " on the Pareto set · ", infeasible,
                                          " infeasible (hollow). Hover a point for its details.");
  std::string plots;
  for (const PagePlot& p : kScatterPlots) {
    absl::StrAppend(&plots, "<figure>\n", RenderJobPlot(data, p.plot), "<figcaption>",
                    EscapeHtml(p.caption), " ", counts,
                    " The shaded region is within the plotted bounds.</figcaption>\n</figure>\n");
  }
  absl::StrAppend(
      &plots, "<figure>\n", RenderJobPlot(data, JobPlot::kProgress),
      "<figcaption>Each dot is one evaluation in the order results arrived; the line is the "
      "lowest ",
      internal::ErrorName(data.error_metric),
      " among the feasible candidates so far, with a marker at each "
      "improvement.</figcaption>\n</figure>\n");
  return plots;
}

absl::Status WriteFileAtomically(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
    file.write(content.data(), static_cast<std::streamsize>(content.size()));
    file.close();
    if (!file) return absl::InternalError(absl::StrCat("error writing ", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::InternalError(absl::StrCat("cannot move ", tmp.string(), " to ", path.string()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string RenderHtml(const ReportData& data) {
  const std::vector<internal::Objective> objectives = internal::Objectives(data.job.spec());
  const v1::Candidate* best = internal::BestFeasible(data.history, data.error_metric);
  // The page itself is report/page.html, with these placeholders.
  return absl::StrReplaceAll(kPageTemplate,
                             {{"{{title}}", EscapeHtml(internal::JobTitle(data.job.spec()))},
                              {"{{header}}", internal::HeaderHtml(data, objectives, best)},
                              {"{{plots}}", PlotsHtml(data)},
                              {"{{pareto_count}}", absl::StrCat(data.pareto.size())},
                              {"{{error_name}}", internal::ErrorName(data.error_metric)},
                              {"{{pareto_table}}", internal::ParetoTableHtml(data, best)},
                              {"{{stopped}}", internal::StoppedSectionHtml(data)},
                              {"{{job_id}}", absl::StrCat(data.job.job_id())}});
}

absl::Status WriteReport(const ReportData& data, const std::string& out_dir) {
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return absl::InternalError(absl::StrCat("cannot create report folder ", out_dir,
                                            ec ? absl::StrCat(": ", ec.message()) : std::string()));
  }
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "candidates.csv", RenderCandidatesCsv(data)));
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "candidates.json", RenderCandidatesJson(data)));
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "pareto.csv", RenderParetoCsv(data)));
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "stopped.csv", RenderStoppedCsv(data)));
  // The page last: it links to the data files.
  UNAS_RETURN_IF_ERROR(WriteFileAtomically(dir / "index.html", RenderHtml(data)));
  return absl::OkStatus();
}

}  // namespace unas::report
