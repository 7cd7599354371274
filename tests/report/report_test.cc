// Unit tests of the report library: file set, HTML structure (plots, marks,
// bounds, Pareto table, escaping), edge cases. CSV and JSON: report_files_test.cc.
#include "report/report.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "report/format.h"
#include "report/svg_plot.h"
#include "tests/report/report_test_util.h"
#include "tests/report/synthetic_job.h"
namespace unas::report {
namespace {

using ::testing::HasSubstr;
using testing::MakeSyntheticJob;
using ::testing::Not;
using testing::RecomputeFeasibilityAndPareto;
using testing::SyntheticOptions;
using namespace testing;  // report_test_util.h

TEST(ReportTest, SyntheticJobHasAllKindsOfPoints) {
  // Guards the other tests: they need infeasible, feasible-dominated and
  // Pareto points.
  const ReportData data = MakeSyntheticJob();
  const int feasible = FeasibleCount(data);
  EXPECT_GT(static_cast<int>(data.history.size()) - feasible, 10);
  EXPECT_GE(data.pareto.size(), 2u);
  EXPECT_GT(feasible, static_cast<int>(data.pareto.size()));
}

TEST(ReportTest, WritesAllFilesIntoANewFolder) {
  const ReportData data = MakeSyntheticJob();
  const std::filesystem::path dir = FreshDir("files") / "nested" / "report";
  ASSERT_TRUE(WriteReport(data, dir.string()).ok());
  for (const char* name : {"index.html", "candidates.csv", "candidates.json", "pareto.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / name)) << name;
    EXPECT_GT(std::filesystem::file_size(dir / name), 100u) << name;
    EXPECT_FALSE(std::filesystem::exists(dir / absl::StrCat(name, ".tmp"))) << name;
  }
  // Writing again replaces the files with the same content.
  const std::string first = ReadFile(dir / "index.html");
  ASSERT_TRUE(WriteReport(data, dir.string()).ok());
  EXPECT_EQ(ReadFile(dir / "index.html"), first);
  EXPECT_EQ(ReadFile(dir / "pareto.csv"), RenderParetoCsv(data));
}

TEST(ReportTest, CandidatesStoppedEarlyHaveTheirTableCountAndCsv) {
  ReportData data = MakeSyntheticJob();
  // Without automated stopping and with nothing stopped, no section.
  EXPECT_THAT(RenderHtml(data), Not(HasSubstr("Stopped early")));
  EXPECT_EQ(RenderStoppedCsv(data).find('\n'), RenderStoppedCsv(data).size() - 1)
      << "the header alone";

  data.job.mutable_spec()->mutable_automated_stopping();
  EXPECT_THAT(RenderHtml(data), HasSubstr("none stopped"));
  data.job.mutable_progress()->set_candidates_stopped(2);
  for (int64_t id : {61, 62}) {
    v1::Candidate c;
    c.set_candidate_id(id);
    c.set_parent_id(3);
    c.set_state(v1::CANDIDATE_STATE_STOPPED);
    c.set_worker_id("w1");
    v1::StoppingDecision* d = c.mutable_stopping();
    d->set_rule("median");
    d->set_epoch_fraction(0.5);
    d->set_candidate_error(0.4125);
    d->set_threshold(0.25);
    d->set_completed_compared(7);
    c.mutable_evaluation()->set_validation_error(0.4125);
    c.mutable_evaluation()->set_training_seconds(12.5);
    data.stopped.push_back(c);
  }
  const std::string html = RenderHtml(data);
  EXPECT_THAT(html, HasSubstr("<span id=\"evaluations-done\">62</span> <small>/ 80</small>"));
  EXPECT_THAT(html, HasSubstr("<span id=\"stopped-count\">2</span> stopped early"));
  EXPECT_THAT(html, HasSubstr("Stopped early <small class=\"unbounded\">(2 candidates, 25 s"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"stopped-row\" data-id=\"61\"><td class=\"num\">#61"
                              "</td><td class=\"num\">0.50</td><td class=\"num\">" +
                              FormatPercent(0.4125) + "</td><td class=\"num\">" +
                              FormatPercent(0.25) + "</td><td class=\"num\">7</td>"));
  // Never in the Pareto table.
  EXPECT_THAT(html, Not(HasSubstr("pareto-row\" data-id=\"61\"")));
  EXPECT_THAT(RenderStoppedCsv(data), HasSubstr("\n62,3,median,0.5,0.4125,0.25,7,12.5,w1\n"));
  const std::filesystem::path dir = FreshDir("stopped");
  ASSERT_TRUE(WriteReport(data, dir.string()).ok());
  EXPECT_EQ(ReadFile(dir / "stopped.csv"), RenderStoppedCsv(data));
}

TEST(ReportTest, FailsCleanlyWhenTheFolderCannotBeCreated) {
  const std::filesystem::path dir = FreshDir("blocked");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "file") << "x";
  const absl::Status status = WriteReport(MakeSyntheticJob(), (dir / "file" / "report").string());
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("file/report"));
}

TEST(ReportTest, HtmlIsSelfContained) {
  const std::string html = RenderHtml(MakeSyntheticJob());
  EXPECT_THAT(html, HasSubstr("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  // The only URL is the SVG namespace name, which is never fetched.
  std::string rest = html;
  for (size_t pos; (pos = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;)
    rest.erase(pos, 26);
  EXPECT_THAT(rest, Not(HasSubstr("http:")));
  EXPECT_THAT(rest, Not(HasSubstr("https:")));
  ExpectNoNonFinite(html);
}

TEST(ReportTest, HtmlHeaderSummarisesTheJob) {
  const ReportData data = MakeSyntheticJob();
  const std::string html = RenderHtml(data);
  EXPECT_THAT(html, HasSubstr("<h1 id=\"job-name\">fashion_mnist_quick</h1>"));
  EXPECT_THAT(html, HasSubstr("job 7"));
  EXPECT_THAT(html, HasSubstr("RUNNING"));
  EXPECT_THAT(html, HasSubstr("Fashion-MNIST"));
  EXPECT_THAT(html, HasSubstr("aging evolution (population 10, sample 5)"));
  EXPECT_THAT(html, HasSubstr("<span id=\"evaluations-done\">60</span> <small>/ 80</small>"));
  EXPECT_THAT(html, HasSubstr("≤ 16 kB"));
  EXPECT_THAT(html, HasSubstr("≤ 20%"));
  EXPECT_THAT(html, HasSubstr("≤ 2M"));
  // Best feasible: the lowest test error among feasible candidates.
  const v1::Candidate* best = nullptr;
  for (const auto& c : data.history) {
    if (c.feasible() && (!best || c.evaluation().test_error() < best->evaluation().test_error()))
      best = &c;
  }
  ASSERT_NE(best, nullptr);
  EXPECT_THAT(html,
              HasSubstr(absl::StrCat("<span id=\"best-test-error\">",
                                     FormatPercent(best->evaluation().test_error()), "</span>")));
  EXPECT_THAT(html,
              HasSubstr(absl::StrCat("<span>candidate</span><b>#", best->candidate_id(), "</b>")));
  EXPECT_THAT(html,
              HasSubstr(FormatBytes(static_cast<double>(best->metrics().peak_memory_bytes()))));
}

TEST(ReportTest, ScatterPlotsMarkParetoFeasibleAndInfeasiblePoints) {
  const ReportData data = MakeSyntheticJob();
  const std::string html = RenderHtml(data);
  const int pareto = static_cast<int>(data.pareto.size());
  const int feasible = FeasibleCount(data);
  const int infeasible = static_cast<int>(data.history.size()) - feasible;
  for (const char* id : {"plot-pmu", "plot-size", "plot-macs"}) {
    SCOPED_TRACE(id);
    const std::string svg = SvgById(html, id);
    ASSERT_FALSE(svg.empty());
    EXPECT_EQ(Count(svg, "class=\"pt pt-pareto\""), pareto);
    EXPECT_EQ(Count(svg, "class=\"pt pt-feasible\""), feasible - pareto);
    EXPECT_EQ(Count(svg, "class=\"pt pt-infeasible\""), infeasible);
    // Infeasible points are hollow.
    EXPECT_THAT(svg, HasSubstr("class=\"pt pt-infeasible\" fill=\"none\""));
    // Error bound (vertical) and the resource bound (horizontal), labelled.
    EXPECT_EQ(Count(svg, "class=\"bound-line\""), 2);
    EXPECT_THAT(svg, HasSubstr("error bound 20%"));
    EXPECT_THAT(svg, HasSubstr("stroke-dasharray"));
    EXPECT_THAT(svg, HasSubstr("class=\"feasible-region\""));
    EXPECT_THAT(svg, HasSubstr("class=\"legend\""));
    EXPECT_THAT(svg, HasSubstr("Pareto set</text>"));
    EXPECT_THAT(svg, HasSubstr("infeasible</text>"));
    EXPECT_THAT(svg, HasSubstr("test error</text>"));
    EXPECT_THAT(svg, HasSubstr("error bound 20% (validation)"));
    // Pareto points are drawn last (on top).
    EXPECT_GT(svg.rfind("pt pt-pareto"), svg.rfind("class=\"pt pt-feasible\""));
  }
  EXPECT_THAT(SvgById(html, "plot-pmu"), HasSubstr("PMU bound 16 kB"));
  EXPECT_THAT(SvgById(html, "plot-size"), HasSubstr("size bound 16 kB"));
  EXPECT_THAT(SvgById(html, "plot-macs"), HasSubstr("MACs bound 2M"));
  // Tooltips name the candidate.
  EXPECT_THAT(SvgById(html, "plot-pmu"),
              HasSubstr(absl::StrCat("<title>#", data.pareto[0].candidate_id(), " (Pareto)")));
}

TEST(ReportTest, ScatterAxesAreLogarithmicForResources) {
  const std::string svg = SvgById(RenderHtml(MakeSyntheticJob()), "plot-size");
  // Synthetic sizes span 10^2.3 .. 10^5.2 bytes: the decade ticks appear.
  EXPECT_THAT(svg, HasSubstr(">1 kB</text>"));
  EXPECT_THAT(svg, HasSubstr(">10 kB</text>"));
  EXPECT_THAT(svg, HasSubstr(">100 kB</text>"));
  EXPECT_THAT(svg, HasSubstr("model size (bytes, log)"));
}

TEST(ReportTest, ProgressPlotIsAStepLineOfTheBestFeasibleError) {
  const ReportData data = MakeSyntheticJob();
  const std::string svg = SvgById(RenderHtml(data), "plot-progress");
  ASSERT_FALSE(svg.empty());
  EXPECT_EQ(Count(svg, "class=\"best-line\""), 1);
  // Steps: one H and one V per improvement after the first point.
  int improvements = 0;
  size_t last_improvement = 0;
  double best = 2;
  for (size_t i = 0; i < data.history.size(); ++i) {
    const auto& c = data.history[i];
    if (c.feasible() && c.evaluation().test_error() < best) {
      best = c.evaluation().test_error();
      ++improvements;
      last_improvement = i + 1;
    }
  }
  ASSERT_GE(improvements, 2);
  const size_t d = svg.find(" d=\"M", svg.find("class=\"best-line\""));
  ASSERT_NE(d, std::string::npos);
  const std::string path = svg.substr(d, svg.find('"', d + 4) - d);
  // One H+V step per improvement after the first, and one that carries the
  // best to the latest evaluation.
  const int steps = improvements - 1 + (last_improvement < data.history.size() ? 1 : 0);
  EXPECT_EQ(Count(path, " H"), steps);
  EXPECT_EQ(Count(path, " V"), steps);
  EXPECT_EQ(Count(path, " L"), 0);
  EXPECT_EQ(Count(svg, "<circle class=\"pt "), static_cast<int>(data.history.size()));
  EXPECT_EQ(Count(svg, "class=\"bound-line\""), 1);
}

TEST(ReportTest, ParetoTableHasOneRowPerParetoCandidate) {
  const ReportData data = MakeSyntheticJob();
  const std::string html = RenderHtml(data);
  ASSERT_THAT(html, HasSubstr("<table id=\"pareto-table\">"));
  EXPECT_EQ(Count(html, "<tr class=\"pareto-row"), static_cast<int>(data.pareto.size()));
  EXPECT_EQ(Count(html, "<span class=\"tag\">BEST</span>"), 1);
  // Rows in the given (error) order, with both size accountings and parents.
  size_t last = 0;
  for (const auto& c : data.pareto) {
    const size_t pos = html.find(absl::StrCat("data-id=\"", c.candidate_id(), "\"><td"));
    ASSERT_NE(pos, std::string::npos);
    EXPECT_GT(pos, last);
    last = pos;
  }
  EXPECT_THAT(html, HasSubstr("int8 test error</th>"));
  EXPECT_THAT(html, HasSubstr("B, int8 deployed"));
  const auto& first = data.pareto[0];
  EXPECT_THAT(html, HasSubstr(absl::StrCat(
                        "<td class=\"num\">",
                        GroupThousands(first.metrics().model_size_deployed_bytes()), "</td>")));
}

TEST(ReportTest, EscapesHtmlInJobNameAndText) {
  ReportData data = MakeSyntheticJob();
  data.job.mutable_spec()->set_name("<script>alert('x')</script> & \"co\"");
  data.job.set_state(v1::JOB_STATE_FAILED);
  data.job.set_failure_reason("<b>oops</b>");
  const std::string html = RenderHtml(data);
  EXPECT_THAT(html, Not(HasSubstr("<script>")));
  EXPECT_THAT(html, Not(HasSubstr("<b>oops")));
  EXPECT_THAT(html,
              HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"));
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;oops&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("state-failed"));
}

TEST(ReportTest, NoCandidatesYet) {
  ReportData data = MakeSyntheticJob({.candidates = 0});
  const std::filesystem::path dir = FreshDir("empty");
  ASSERT_TRUE(WriteReport(data, dir.string()).ok());
  const std::string html = ReadFile(dir / "index.html");
  for (const char* id : {"plot-pmu", "plot-size", "plot-macs", "plot-progress"}) {
    EXPECT_THAT(SvgById(html, id), HasSubstr("No evaluated candidates yet")) << id;
  }
  EXPECT_EQ(Count(html, "<circle class=\"pt"), 0);
  EXPECT_EQ(Count(html, "<tr class=\"pareto-row"), 0);
  EXPECT_THAT(html, HasSubstr("the Pareto set is empty"));
  EXPECT_THAT(html, HasSubstr("none yet"));
  ExpectNoNonFinite(html);
  EXPECT_EQ(ParseCsv(ReadFile(dir / "candidates.csv")).size(), 1u);
  EXPECT_EQ(ParseCsv(ReadFile(dir / "pareto.csv")).size(), 1u);
  const auto json = ParseJson(ReadFile(dir / "candidates.json"));
  EXPECT_EQ(json.fields().at("candidates").list_value().values_size(), 0);
}

TEST(ReportTest, NoFeasibleCandidate) {
  ReportData data = MakeSyntheticJob({.candidates = 20});
  data.job.mutable_spec()->mutable_bounds()->set_error(0.01);
  RecomputeFeasibilityAndPareto(data);
  ASSERT_TRUE(data.pareto.empty());
  const std::string html = RenderHtml(data);
  EXPECT_THAT(SvgById(html, "plot-progress"), HasSubstr("No feasible candidate yet"));
  EXPECT_THAT(SvgById(html, "plot-progress"), Not(HasSubstr("class=\"best-line\"")));
  EXPECT_EQ(Count(SvgById(html, "plot-pmu"), "class=\"pt pt-infeasible\""), 20);
  EXPECT_EQ(Count(html, "class=\"pt pt-pareto\""), 0);
  EXPECT_THAT(html, HasSubstr("no evaluated candidate is within every bound"));
  EXPECT_THAT(html, HasSubstr("error bound 1%"));
  ExpectNoNonFinite(html);
}

TEST(ReportTest, SinglePoint) {
  ReportData data = MakeSyntheticJob({.candidates = 1, .bounded = false});
  RecomputeFeasibilityAndPareto(data);
  ASSERT_EQ(data.pareto.size(), 1u);
  const std::string html = RenderHtml(data);
  for (const char* id : {"plot-pmu", "plot-size", "plot-macs"}) {
    const std::string svg = SvgById(html, id);
    EXPECT_EQ(Count(svg, "class=\"pt pt-pareto\""), 1) << id;
    // At least two labelled ticks on each axis even for one value.
    EXPECT_GE(Count(svg, "class=\"tick-label\""), 4) << id;
  }
  ExpectNoNonFinite(html);
}

TEST(ReportTest, UnboundedObjectivesDrawNoBounds) {
  ReportData data = MakeSyntheticJob({.candidates = 30, .bounded = false});
  RecomputeFeasibilityAndPareto(data);
  EXPECT_EQ(FeasibleCount(data), 30);
  const std::string html = RenderHtml(data);
  EXPECT_EQ(Count(html, "class=\"bound-line\""), 0);
  EXPECT_EQ(Count(html, "class=\"feasible-region\""), 0);
  EXPECT_EQ(Count(html, "<span class=\"unbounded\">unbounded</span>"), 4);
  EXPECT_EQ(Count(html, "class=\"pt pt-infeasible\""), 0);
  ExpectNoNonFinite(html);
}

TEST(ReportTest, OnlySomeBoundsSet) {
  ReportData data = MakeSyntheticJob({.candidates = 30, .bounded = false});
  data.job.mutable_spec()->mutable_bounds()->set_model_size_bytes(20000);
  RecomputeFeasibilityAndPareto(data);
  const std::string html = RenderHtml(data);
  EXPECT_EQ(Count(SvgById(html, "plot-size"), "class=\"bound-line\""), 1);
  EXPECT_EQ(Count(SvgById(html, "plot-pmu"), "class=\"bound-line\""), 0);
  EXPECT_EQ(Count(SvgById(html, "plot-size"), "class=\"feasible-region\""), 1);
  EXPECT_EQ(Count(SvgById(html, "plot-progress"), "class=\"bound-line\""), 0);
}

TEST(ReportTest, UnstructuredPruningDropsPmuAndMacBounds) {
  ReportData data = MakeSyntheticJob({.candidates = 20});
  data.job.mutable_spec()->mutable_training()->mutable_pruning()->set_structured(false);
  const std::string html = RenderHtml(data);
  EXPECT_EQ(Count(SvgById(html, "plot-pmu"), "class=\"bound-line\""), 1);  // error only
  EXPECT_EQ(Count(SvgById(html, "plot-macs"), "class=\"bound-line\""), 1);
  EXPECT_EQ(Count(SvgById(html, "plot-size"), "class=\"bound-line\""), 2);
  EXPECT_EQ(Count(html, "not applied with unstructured pruning"), 2);
}

TEST(ReportTest, ZeroValuesOnLogAxesGoToTheFloor) {
  ReportData data = MakeSyntheticJob({.candidates = 10});
  data.history[2].mutable_metrics()->set_macs(0);
  data.history[5].mutable_metrics()->set_macs(0);
  data.history[5].mutable_metrics()->set_model_size_bytes(0);
  const std::string html = RenderHtml(data);
  EXPECT_THAT(SvgById(html, "plot-macs"), HasSubstr("2 points at 0, drawn on the axis floor"));
  EXPECT_THAT(SvgById(html, "plot-size"), HasSubstr("1 point at 0, drawn on the axis floor"));
  EXPECT_THAT(SvgById(html, "plot-pmu"), Not(HasSubstr("axis floor")));
  EXPECT_EQ(Count(SvgById(html, "plot-macs"), "<circle class=\"pt "), 10);
  ExpectNoNonFinite(html);
}

TEST(ReportTest, NonFiniteErrorsAreSkippedNotDrawn) {
  ReportData data = MakeSyntheticJob({.candidates = 10, .bounded = false});
  data.history[4].mutable_evaluation()->set_validation_error(std::nan(""));
  data.history[4].mutable_evaluation()->set_test_error(std::nan(""));
  RecomputeFeasibilityAndPareto(data);
  const std::string html = RenderHtml(data);
  EXPECT_EQ(Count(SvgById(html, "plot-pmu"), "<circle class=\"pt "), 9);
  ExpectNoNonFinite(html);
  const auto rows = ParseCsv(RenderCandidatesCsv(data));
  EXPECT_EQ(rows[5][ColumnIndex(rows[0], "validation_error")], "");
  ParseJson(RenderCandidatesJson(data));  // null, still valid JSON
}

TEST(ReportTest, ValidationErrorMetricSwitchesPlotsAndBest) {
  ReportData data = MakeSyntheticJob();
  data.error_metric = ErrorMetric::kValidation;
  RecomputeFeasibilityAndPareto(data);
  const std::string html = RenderHtml(data);
  EXPECT_THAT(SvgById(html, "plot-pmu"), HasSubstr(">validation error</text>"));
  EXPECT_THAT(SvgById(html, "plot-pmu"), Not(HasSubstr("(validation)")));
  EXPECT_THAT(SvgById(html, "plot-progress"), HasSubstr(">validation error</text>"));
  const v1::Candidate* best = nullptr;
  for (const auto& c : data.history) {
    if (c.feasible() &&
        (!best || c.evaluation().validation_error() < best->evaluation().validation_error())) {
      best = &c;
    }
  }
  ASSERT_NE(best, nullptr);
  EXPECT_THAT(html,
              HasSubstr(absl::StrCat("<span>candidate</span><b>#", best->candidate_id(), "</b>")));
  // The test-error plot puts the points elsewhere: the two pages differ.
  data.error_metric = ErrorMetric::kTest;
  EXPECT_NE(RenderHtml(data), html);
}

TEST(ReportTest, OutputIsDeterministic) {
  EXPECT_EQ(RenderHtml(MakeSyntheticJob()), RenderHtml(MakeSyntheticJob()));
  EXPECT_EQ(RenderCandidatesJson(MakeSyntheticJob()), RenderCandidatesJson(MakeSyntheticJob()));
}

// --- format.h ---------------------------------------------------------------

}  // namespace
}  // namespace unas::report
