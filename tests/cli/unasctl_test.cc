// unasctl against a real coordinator with synthetic workers: every online
// command, in tables, JSON and CSV, and its error cases; and `unasctl local`
// on a tiny real Fashion-MNIST search, SIGKILLed half-way and resumed.
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "coordinator/store/store.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/coordinator/process_test_util.h"
#include "tests/util/test_dirs.h"
#include "unas/v1/job_service.pb.h"

namespace unas::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using unas::testing::RunCommand;

std::string Unasctl() { return unas::testing::BinaryPath("unasctl"); }

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

template <typename Message>
Message ParseJsonList(const std::string& field, const std::string& array) {
  Message message;
  auto status =
      google::protobuf::util::JsonStringToMessage("{\"" + field + "\": " + array + "}", &message);
  EXPECT_TRUE(status.ok()) << status.message() << "\n" << array;
  return message;
}

constexpr char kSpec[] = R"pb(
  name: "cli_test"
  dataset { name: DATASET_NAME_FASHION_MNIST }
  search_space {
    kind: SEARCH_SPACE_KIND_CNN
    cnn { max_conv_blocks: 3 max_filters: 16 }
  }
  algorithm {
    aging_evolution { population_size: 6 sample_size: 3 }
    rounds: 20
  }
  training {
    optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.001 }
    epochs: 1
  }
  bounds { error: 0.3 peak_memory_bytes: 20000 model_size_bytes: 20000 }
  seed: 9
)pb";

class UnasctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(unas::testing::MakeTestDir("unasctl"));
    coordinator_ = new coordinator::testing::CoordinatorProcess(*dir_, *dir_ + "/search.db");
    for (int i = 0; i < 2; ++i) {
      workers_.push_back(coordinator::testing::StartWorker(
          *dir_, coordinator_->address(), "synthetic" + std::to_string(i), {"--synthetic"}));
    }
    // Both workers registered before the (fast) job starts.
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      auto listed = RunCommand({Unasctl(), "workers", "--json", "--coordinator", Address()});
      if (ParseJsonList<v1::ListWorkersResponse>("workers", listed.out).workers_size() == 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::ofstream(*dir_ + "/spec.textproto") << kSpec;
    auto submitted =
        RunCommand({Unasctl(), "submit", *dir_ + "/spec.textproto", "--coordinator", Address()});
    ASSERT_EQ(submitted.exit_code, 0) << submitted.err;
    job_id_ = std::stoll(submitted.out);
    auto watched =
        RunCommand({Unasctl(), "watch", submitted.out.substr(0, submitted.out.find('\n')),
                    "--coordinator", Address()});
    ASSERT_EQ(watched.exit_code, 0) << watched.err;
    EXPECT_THAT(watched.out, HasSubstr("succeeded"));
    EXPECT_THAT(watched.err, HasSubstr("20/20 evaluations"));
  }
  static void TearDownTestSuite() {
    for (auto& w : workers_) w->Signal(SIGTERM);
    workers_.clear();
    delete coordinator_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Address() { return coordinator_->address(); }
  static std::string Job() { return std::to_string(job_id_); }
  static unas::testing::CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), Unasctl());
    args.push_back("--coordinator");
    args.push_back(Address());
    return RunCommand(args);
  }

  static std::string* dir_;
  static coordinator::testing::CoordinatorProcess* coordinator_;
  static std::vector<std::unique_ptr<unas::testing::Subprocess>> workers_;
  static int64_t job_id_;
};

std::string* UnasctlTest::dir_ = nullptr;
coordinator::testing::CoordinatorProcess* UnasctlTest::coordinator_ = nullptr;
std::vector<std::unique_ptr<unas::testing::Subprocess>> UnasctlTest::workers_;
int64_t UnasctlTest::job_id_ = 0;

TEST_F(UnasctlTest, JobsInTableJsonAndCsv) {
  auto table = Run({"jobs"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("cli_test"));
  EXPECT_THAT(table.out, HasSubstr("succeeded"));

  auto json = Run({"jobs", "--json"});
  ASSERT_EQ(json.exit_code, 0);
  auto jobs = ParseJsonList<v1::ListJobsResponse>("jobs", json.out);
  ASSERT_EQ(jobs.jobs_size(), 1);
  EXPECT_EQ(jobs.jobs(0).progress().evaluations_done(), 20);

  auto csv = Run({"jobs", "--csv"});
  std::vector<std::string> lines = Lines(csv.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].substr(0, 20), "job_id,name,state,ev");
  EXPECT_THAT(lines[1], HasSubstr(",cli_test,succeeded,20,20,"));
}

TEST_F(UnasctlTest, StatusByIdAndByName) {
  for (const std::string& job : {Job(), std::string("cli_test")}) {
    auto r = Run({"status", job});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("20 of 20 done"));
    EXPECT_THAT(r.out, HasSubstr("of the last 25 evaluations satisfy every bound"));
    EXPECT_THAT(r.out, HasSubstr("synthetic0"));
  }
}

TEST_F(UnasctlTest, HistoryPopulationAndPareto) {
  auto csv = Run({"history", Job(), "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::vector<std::string> lines = Lines(csv.out);
  ASSERT_EQ(lines.size(), 21u) << "header + 20 evaluations";
  EXPECT_EQ(lines[0].substr(0, 32), "candidate_id,parent_id,state,val");

  auto json = Run({"history", Job(), "--json"});
  auto history = ParseJsonList<v1::ListCandidatesResponse>("candidates", json.out);
  EXPECT_EQ(history.candidates_size(), 20);

  auto population = ParseJsonList<v1::ListCandidatesResponse>(
      "candidates", Run({"population", Job(), "--json"}).out);
  EXPECT_EQ(population.candidates_size(), 6);

  auto pareto =
      ParseJsonList<v1::ListCandidatesResponse>("candidates", Run({"pareto", Job(), "--json"}).out);
  for (const v1::Candidate& c : pareto.candidates()) EXPECT_TRUE(c.feasible());
  auto all = ParseJsonList<v1::ListCandidatesResponse>(
      "candidates", Run({"pareto", Job(), "--all", "--objectives", "error,size", "--json"}).out);
  EXPECT_GE(all.candidates_size(), 1);
  auto bad = Run({"pareto", Job(), "--objectives", "flops"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("unknown objective 'flops'"));

  auto table = Run({"history", Job()});
  EXPECT_THAT(table.out, HasSubstr("VAL ERR"));
  EXPECT_THAT(table.out, HasSubstr("INT8 ERR"));
  EXPECT_EQ(Lines(table.out).size(), 21u);
}

TEST_F(UnasctlTest, ShowExportAndReport) {
  auto show = Run({"show", Job(), "12"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("candidate 12 of job"));
  EXPECT_THAT(show.out, HasSubstr("lineage"));
  EXPECT_THAT(show.out, HasSubstr("peak memory"));

  // Synthetic workers store no weights and no int8 model: `export` says so
  // and writes no empty weights.pt; asking for the weights by name fails.
  std::string out = *dir_ + "/export";
  auto exported = Run({"export", Job(), "12", "-o", out});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_TRUE(std::filesystem::exists(out + "/architecture.textproto"));
  EXPECT_TRUE(std::filesystem::exists(out + "/candidate.json"));
  EXPECT_FALSE(std::filesystem::exists(out + "/weights.pt"));
  EXPECT_THAT(exported.err, HasSubstr("has no stored trained weights"));
  auto torch = Run({"export", Job(), "12", "-o", out, "--format", "torch"});
  EXPECT_EQ(torch.exit_code, 1);
  EXPECT_THAT(torch.err, HasSubstr("has no stored trained weights"));

  std::string report = *dir_ + "/report";
  auto written = Run({"report", Job(), "-o", report});
  ASSERT_EQ(written.exit_code, 0) << written.err;
  EXPECT_TRUE(std::filesystem::exists(report + "/index.html"));
  EXPECT_TRUE(std::filesystem::exists(report + "/candidates.csv"));
}

TEST_F(UnasctlTest, WorkersListed) {
  auto json = Run({"workers", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto workers = ParseJsonList<v1::ListWorkersResponse>("workers", json.out);
  EXPECT_EQ(workers.workers_size(), 2);
}

TEST_F(UnasctlTest, ErrorsAreOneClearLine) {
  auto unknown = Run({"status", "999"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err, "unasctl: job 999 not found\n");
  auto no_name = Run({"status", "nonesuch"});
  EXPECT_THAT(no_name.err, HasSubstr("no job named 'nonesuch'"));
  auto finished = Run({"cancel", Job()});
  EXPECT_EQ(finished.exit_code, 1);
  EXPECT_THAT(finished.err, HasSubstr("has already ended"));

  auto unreachable = RunCommand({Unasctl(), "jobs", "--coordinator", "127.0.0.1:1"});
  EXPECT_EQ(unreachable.exit_code, 1);
  EXPECT_EQ(Lines(unreachable.err).size(), 1u) << unreachable.err;
  EXPECT_THAT(unreachable.err, HasSubstr("cannot reach the coordinator at 127.0.0.1:1"));

  std::string bad = *dir_ + "/bad.textproto";
  std::string text = kSpec;
  text.replace(text.find("epochs: 1"), 9, "epochs: 0");
  std::ofstream(bad) << text;
  auto invalid = Run({"submit", bad});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("training.epochs (0) must be > 0"));
  EXPECT_THAT(invalid.err, HasSubstr("bad.textproto"));
}

TEST(UnasctlLocalTest, TinyRealSearchSurvivesSigkillAndResumes) {
  std::string dir = unas::testing::MakeTestDir("local");
  std::string spec = dir + "/tiny.textproto";
  std::ofstream(spec) << R"pb(
    name: "tiny"
    dataset { name: DATASET_NAME_FASHION_MNIST max_train_examples: 2000 max_test_examples: 500 }
    search_space {
      kind: SEARCH_SPACE_KIND_CNN
      cnn { max_conv_blocks: 2 max_layers_per_block: 1 max_filters: 8 max_dense_units: 32 }
    }
    algorithm {
      aging_evolution { population_size: 4 sample_size: 2 }
      rounds: 10
    }
    training {
      optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.003 }
      epochs: 1
    }
    bounds { error: 0.6 peak_memory_bytes: 20000 model_size_bytes: 20000 }
    seed: 2
  )pb";
  std::string run_dir = dir + "/run";
  {
    // Kill unasctl itself (its coordinator and workers follow it) once a few
    // evaluations are stored.
    unas::Subprocess first({Unasctl(), "local", spec, "--dir", run_dir, "--slots", "2"},
                           dir + "/first.log");
    absl::Time deadline = absl::Now() + absl::Minutes(5);
    int done = 0;
    while (absl::Now() < deadline && done < 3) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      std::optional<int> port =
          unas::WaitForPortFile(run_dir + "/coordinator.port", absl::Milliseconds(10));
      if (!port) continue;
      auto r = RunCommand(
          {Unasctl(), "jobs", "--csv", "--coordinator", "127.0.0.1:" + std::to_string(*port)},
          absl::Seconds(20));
      std::vector<std::string> lines = Lines(r.out);
      if (lines.size() == 2)
        done = std::stoi(std::vector<std::string>(absl::StrSplit(lines[1], ','))[3]);
    }
    ASSERT_GE(done, 3) << first.ReadLog();
    ASSERT_LT(done, 10) << "too late to test a resume";
    first.Kill();
    // The coordinator got SIGTERM from its dying parent: wait until it has
    // exited (its port closes), not for a guessed time.
    ASSERT_TRUE(unas::testing::WaitForPortClosed(
        *unas::WaitForPortFile(run_dir + "/coordinator.port", absl::Seconds(1)),
        absl::Seconds(60)));
  }
  auto second =
      RunCommand({Unasctl(), "local", spec, "--dir", run_dir, "--slots", "2"}, absl::Minutes(8));
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_THAT(second.err, HasSubstr("resuming job 1 'tiny'"));
  EXPECT_THAT(second.err, HasSubstr("dashboard: http://127.0.0.1:"));
  EXPECT_THAT(second.out, HasSubstr("succeeded, 10 evaluations"));
  EXPECT_THAT(second.out, HasSubstr("Pareto front"));
  EXPECT_TRUE(std::filesystem::exists(run_dir + "/report/index.html"));
  // The most accurate feasible candidate's C project, built and run on the
  // 500 test images, gives exactly its stored int8 test error; the report
  // links every Pareto candidate's export.
  const size_t line = second.out.find("deployable: ");
  ASSERT_NE(line, std::string::npos) << second.out;
  const std::string deployable = second.out.substr(line, second.out.find('\n', line) - line);
  const size_t at = deployable.find("compiled C ");
  ASSERT_NE(at, std::string::npos) << deployable;
  const std::string compiled = deployable.substr(at + 11, 6);
  EXPECT_THAT(deployable, HasSubstr("(stored " + compiled + ")"));
  EXPECT_THAT(deployable, HasSubstr("arena "));
  std::ifstream html(run_dir + "/report/index.html");
  const std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_THAT(page, HasSubstr("href=\"exports/candidate-"));
  EXPECT_TRUE(std::filesystem::exists(run_dir + "/report/exports"));

  absl::StatusOr<std::unique_ptr<store::Store>> store = store::Store::Open(run_dir + "/search.db");
  ASSERT_TRUE(store.ok()) << store.status() << " (is a coordinator still running?)";
  absl::StatusOr<std::vector<store::CandidateRow>> rows = (*store)->LoadCandidates(1);
  ASSERT_TRUE(rows.ok());
  int done = 0;
  for (const auto& row : *rows) done += row.candidate.state() == v1::CANDIDATE_STATE_DONE;
  EXPECT_EQ(done, 10) << "exactly `rounds` evaluations across the two runs";
  // Each quantised candidate comes with its Cortex-M4 instructions per
  // inference, measured by the worker on QEMU (scripts/install-deps installs
  // the tools; without them the worker leaves the field unset).
  if (std::system("command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm "
                  ">/dev/null") == 0) {
    int quantised = 0, measured = 0;
    for (const auto& row : *rows) {
      const v1::EvaluationResult& e = row.candidate.evaluation();
      if (row.candidate.state() != v1::CANDIDATE_STATE_DONE || !e.has_int8_test_error()) continue;
      ++quantised;
      measured += e.has_cortex_m4_instructions() && e.cortex_m4_instructions() > 0;
    }
    EXPECT_GT(quantised, 0);
    EXPECT_EQ(measured, quantised);
  }
  // Keep the logs of a failed run; tidy up after a passing one.
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

TEST(UnasctlLocalTest, DashboardAddressIsCheckedAndCanBeTurnedOff) {
  std::string dir = unas::testing::MakeTestDir("local_dashboard");
  std::string spec = dir + "/dry.textproto";
  std::ofstream(spec) << R"pb(
    name: "dry"
    dataset { name: DATASET_NAME_FASHION_MNIST }
    search_space {
      kind: SEARCH_SPACE_KIND_CNN
      cnn { max_conv_blocks: 2 max_layers_per_block: 1 max_filters: 8 max_dense_units: 32 }
    }
    algorithm {
      aging_evolution { population_size: 2 sample_size: 1 }
      rounds: 3
    }
    training {
      optimizer { kind: OPTIMIZER_KIND_ADAM learning_rate: 0.003 }
      epochs: 1
    }
    bounds { error: 0.6 peak_memory_bytes: 20000 model_size_bytes: 20000 }
    seed: 3
  )pb";
  auto malformed = RunCommand({Unasctl(), "local", spec, "--dashboard", "8080"}, absl::Seconds(30));
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_THAT(malformed.err, HasSubstr("--dashboard"));
  EXPECT_THAT(malformed.err, HasSubstr("expected HOST:PORT"));
  EXPECT_FALSE(std::filesystem::exists("runs/dry")) << "nothing started";

  const std::string run_dir = dir + "/run";
  auto off = RunCommand({Unasctl(), "local", spec, "--synthetic", "--no-report", "--slots", "1",
                         "--dir", run_dir, "--dashboard", "off"},
                        absl::Minutes(3));
  ASSERT_EQ(off.exit_code, 0) << off.out << off.err;
  EXPECT_THAT(off.out, HasSubstr("succeeded, 3 evaluations"));
  EXPECT_THAT(off.err, Not(HasSubstr("dashboard:")));
  EXPECT_FALSE(std::filesystem::exists(run_dir + "/dashboard.port"));
}

}  // namespace
}  // namespace unas::cli
