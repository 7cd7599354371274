// The report's CSV and JSON files: headers, one row per candidate, the
// Pareto rows in order, and JSON that parses back.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/report.h"
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

TEST(ReportTest, CandidatesCsvHasAHeaderAndOneRowPerCandidate) {
  ReportData data = MakeSyntheticJob();
  data.history[3].set_worker_id("host \"a\", slot 1\nsecond line");
  const auto rows = ParseCsv(RenderCandidatesCsv(data));
  ASSERT_EQ(rows.size(), data.history.size() + 1);
  const auto& header = rows[0];
  EXPECT_EQ(header[0], "evaluation");
  EXPECT_EQ(header[1], "candidate_id");
  for (const char* name : {"parent_id", "feasible", "pareto", "validation_error", "test_error",
                           "int8_test_error", "peak_memory_bytes", "model_size_bytes",
                           "model_size_deployed_bytes", "macs", "architecture"}) {
    EXPECT_GE(ColumnIndex(header, name), 0) << name;
  }
  const int val = ColumnIndex(header, "validation_error");
  const int pmu = ColumnIndex(header, "peak_memory_bytes");
  const int pareto = ColumnIndex(header, "pareto");
  const int parent = ColumnIndex(header, "parent_id");
  const int int8 = ColumnIndex(header, "int8_test_error");
  const int worker = ColumnIndex(header, "worker_id");
  int pareto_rows = 0;
  for (size_t i = 0; i < data.history.size(); ++i) {
    const auto& row = rows[i + 1];
    const auto& c = data.history[i];
    ASSERT_EQ(row.size(), header.size()) << "row " << i;
    EXPECT_EQ(row[0], absl::StrCat(i + 1));
    EXPECT_EQ(row[1], absl::StrCat(c.candidate_id()));
    // Unformatted: exact round trip.
    EXPECT_EQ(std::strtod(row[val].c_str(), nullptr), c.evaluation().validation_error());
    EXPECT_EQ(row[pmu], absl::StrCat(c.metrics().peak_memory_bytes()));
    EXPECT_EQ(row[parent], c.has_parent_id() ? absl::StrCat(c.parent_id()) : "");
    EXPECT_EQ(row[int8].empty(), !c.evaluation().has_int8_test_error());
    EXPECT_EQ(row[worker], c.worker_id());
    pareto_rows += row[pareto] == "true" ? 1 : 0;
  }
  EXPECT_EQ(pareto_rows, static_cast<int>(data.pareto.size()));
  // The architecture shorthand has commas: quoted, and read back whole.
  const int arch = ColumnIndex(header, "architecture");
  EXPECT_THAT(rows[1][arch], HasSubstr(","));
  EXPECT_THAT(rows[1][arch], HasSubstr("dense ["));
}

TEST(ReportTest, ParetoCsvHasTheParetoRowsInOrder) {
  const ReportData data = MakeSyntheticJob();
  const auto rows = ParseCsv(RenderParetoCsv(data));
  ASSERT_EQ(rows.size(), data.pareto.size() + 1);
  EXPECT_EQ(rows[0], ParseCsv(RenderCandidatesCsv(data))[0]);
  for (size_t i = 0; i < data.pareto.size(); ++i) {
    EXPECT_EQ(rows[i + 1][1], absl::StrCat(data.pareto[i].candidate_id()));
    EXPECT_EQ(rows[i + 1][ColumnIndex(rows[0], "pareto")], "true");
    EXPECT_EQ(rows[i + 1][ColumnIndex(rows[0], "feasible")], "true");
  }
}

TEST(ReportTest, CandidatesJsonParsesBack) {
  ReportData data = MakeSyntheticJob();
  data.history[0].set_worker_id("tab\there \"quoted\" \\ back\x01slash");
  const google::protobuf::Struct json = ParseJson(RenderCandidatesJson(data));
  ASSERT_TRUE(json.fields().contains("job"));
  EXPECT_EQ(json.fields()
                .at("job")
                .struct_value()
                .fields()
                .at("spec")
                .struct_value()
                .fields()
                .at("name")
                .string_value(),
            "fashion_mnist_quick");
  const auto& ids = json.fields().at("pareto_ids").list_value();
  ASSERT_EQ(static_cast<size_t>(ids.values_size()), data.pareto.size());
  EXPECT_EQ(ids.values(0).number_value(), static_cast<double>(data.pareto[0].candidate_id()));
  const auto& rows = json.fields().at("candidates").list_value();
  ASSERT_EQ(static_cast<size_t>(rows.values_size()), data.history.size());
  for (int i = 0; i < rows.values_size(); ++i) {
    const auto& f = rows.values(i).struct_value().fields();
    const auto& c = data.history[i];
    EXPECT_EQ(f.at("candidate_id").number_value(), static_cast<double>(c.candidate_id()));
    EXPECT_EQ(f.at("validation_error").number_value(), c.evaluation().validation_error());
    EXPECT_EQ(f.at("macs").number_value(), static_cast<double>(c.metrics().macs()));
    EXPECT_EQ(f.at("feasible").bool_value(), c.feasible());
    EXPECT_EQ(f.at("parent_id").kind_case() == google::protobuf::Value::kNullValue,
              !c.has_parent_id());
    EXPECT_EQ(f.at("worker_id").string_value(), c.worker_id());
    EXPECT_TRUE(f.at("architecture_spec").struct_value().fields().contains("cnn"));
  }
}

}  // namespace
}  // namespace unas::report
