// Coordinator memory per finished candidate: the core in this process runs
// --jobs aging-evolution jobs to --evaluations synthetic evaluations in all
// (--threads synthetic workers answering at once, so group commit batches),
// and reports the resident set size every --report-every evaluations. The
// growth per finished candidate is taken between the middle and the end of
// the run, after the bounded parts (event buffers, populations) have filled,
// and also over the whole run. With --replay, a coordinator restarts on a
// database an earlier run kept (--database) and reports the replay.
//
//   build/bench/coordinator_memory [--evaluations 20000] [--jobs 20]
//                                  [--threads 8] [--report-every 0 (10 reports)]
//                                  [--database PATH] [--replay]
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "coordinator/core/coordinator.h"
#include "tests/coordinator/coordinator_test_util.h"
#include "tests/util/test_dirs.h"
#include "worker/daemon/synthetic_evaluator.h"

namespace {

double ResidentMegabytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e6;
}

struct Checkpoint {
  int64_t evaluations = 0;
  double resident_mb = 0;
  double seconds = 0;
};

// A restart on an existing database, in a fresh process: how long the
// replay takes (every job streamed from the database, finished rows not
// kept) and the resident set size before and after it.
int ReportReplay(const std::string& database) {
  const double before = ResidentMegabytes();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<unas::store::Store>> store = unas::store::Store::Open(database);
  if (!store.ok()) return 1;
  absl::StatusOr<std::unique_ptr<unas::coordinator::Coordinator>> restarted =
      unas::coordinator::Coordinator::Create(*std::move(store));
  if (!restarted.ok()) return 1;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("replay:             %.1f s; resident set size %.1f MB before, %.1f MB after\n",
              seconds, before, ResidentMegabytes());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Coordinator resident memory per finished candidate"};
  int evaluations = 20000, jobs = 20, threads = 8, report_every = 0;
  app.add_option("--evaluations", evaluations, "synthetic evaluations in all");
  app.add_option("--jobs", jobs, "jobs they are spread over");
  app.add_option("--threads", threads, "synthetic workers (threads)");
  app.add_option("--report-every", report_every, "evaluations between reports (0: a tenth)");
  std::string database;
  bool replay_only = false;
  app.add_option("--database", database, "database to write and keep (default: a temporary one)");
  app.add_flag("--replay", replay_only,
               "only restart a coordinator on --database and report the replay");
  CLI11_PARSE(app, argc, argv);
  if (report_every <= 0) report_every = std::max(1, evaluations / 10);
  if (replay_only) return ReportReplay(database);

  const std::string dir = unas::testing::MakeTestDir("coordinator_memory");
  const bool keep_database = !database.empty();
  if (!keep_database) database = dir + "/bench.db";
  absl::StatusOr<std::unique_ptr<unas::store::Store>> store = unas::store::Store::Open(database);
  if (!store.ok()) return 1;
  absl::StatusOr<std::unique_ptr<unas::coordinator::Coordinator>> created =
      unas::coordinator::Coordinator::Create(*std::move(store));
  if (!created.ok()) return 1;
  unas::coordinator::Coordinator& core = **created;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const double before = ResidentMegabytes();
  std::printf("resident set size:  %.1f MB before any job\n", before);
  std::vector<int64_t> job_ids;
  for (int index = 0; index < jobs; ++index) {
    unas::v1::JobSpec spec =
        unas::coordinator::testing::SmallSpec(evaluations / jobs, static_cast<uint64_t>(index));
    spec.mutable_algorithm()->mutable_aging_evolution()->set_population_size(100);
    spec.mutable_algorithm()->mutable_aging_evolution()->set_sample_size(25);
    spec.mutable_algorithm()->mutable_aging_evolution()->set_initial_population_size(100);
    absl::StatusOr<unas::v1::Job> job = core.SubmitJob(spec);
    if (!job.ok()) return 1;
    job_ids.push_back(job->job_id());
  }
  auto all_ended = [&] {
    for (int64_t id : job_ids) {
      absl::StatusOr<unas::v1::Job> job = core.GetJob(id);
      if (job.ok() && job->state() == unas::v1::JOB_STATE_RUNNING) return false;
    }
    return true;
  };
  std::atomic<int64_t> completed{0};
  std::mutex checkpoints_mu;
  std::vector<Checkpoint> checkpoints;
  auto record = [&](int64_t count) {
    Checkpoint point{count, ResidentMegabytes(), elapsed_seconds()};
    std::lock_guard<std::mutex> lock(checkpoints_mu);
    checkpoints.push_back(point);
    std::printf("%10lld evaluations  %8.1f MB  %8.1f s\n", static_cast<long long>(count),
                point.resident_mb, point.seconds);
    std::fflush(stdout);
  };
  std::vector<std::thread> drivers;
  for (int index = 0; index < threads; ++index) {
    drivers.emplace_back([&, index] {
      unas::v1::RegisterWorkerRequest registration;
      registration.set_name("memory" + std::to_string(index));
      registration.set_slots(1);
      absl::StatusOr<unas::v1::RegisterWorkerResponse> me = core.RegisterWorker(registration);
      if (!me.ok()) return;
      while (!all_ended()) {
        unas::v1::AcquireTaskRequest acquire;
        acquire.set_worker_id(me->worker_id());
        acquire.set_worker_secret(me->worker_secret());
        absl::StatusOr<unas::v1::AcquireTaskResponse> task =
            core.AcquireTask(acquire, absl::Milliseconds(100));
        if (!task.ok() || !task->has_task()) continue;
        unas::v1::CompleteTaskRequest complete;
        complete.set_worker_id(me->worker_id());
        complete.set_worker_secret(me->worker_secret());
        complete.set_lease_id(task->task().lease_id());
        complete.set_job_id(task->task().job_id());
        complete.set_candidate_id(task->task().candidate_id());
        *complete.mutable_result() = unas::coordinator::testing::SyntheticResult(task->task());
        absl::StatusOr<unas::v1::CompleteTaskResponse> answer = core.CompleteTask(complete);
        if (answer.ok() && answer->accepted()) {
          const int64_t count = completed.fetch_add(1) + 1;
          if (count % report_every == 0) record(count);
        }
      }
    });
  }
  for (std::thread& driver : drivers) driver.join();
  int64_t done = 0;
  for (int64_t id : job_ids) done += core.GetJob(id)->progress().evaluations_done();
  const double after = ResidentMegabytes();
  const double seconds = elapsed_seconds();
  std::printf(
      "evaluations:        %lld over %d jobs (%lld trained, the rest reused results of\n"
      "                    identical networks) in %.0f s (%.0f per second)\n",
      static_cast<long long>(done), jobs, static_cast<long long>(completed.load()), seconds,
      static_cast<double>(done) / std::max(1e-9, seconds));
  std::printf("resident set size:  %.1f MB before, %.1f MB after\n", before, after);
  std::printf("growth, whole run:  %.1f bytes per finished candidate\n",
              (after - before) * 1e6 / static_cast<double>(std::max<int64_t>(1, done)));
  std::lock_guard<std::mutex> lock(checkpoints_mu);
  if (checkpoints.size() >= 2) {
    const Checkpoint& middle = checkpoints[checkpoints.size() / 2 - 1];
    const Checkpoint& last = checkpoints.back();
    std::printf(
        "growth, %lld to %lld trained: %.1f bytes per trained candidate\n",
        static_cast<long long>(middle.evaluations), static_cast<long long>(last.evaluations),
        (last.resident_mb - middle.resident_mb) * 1e6 /
            static_cast<double>(std::max<int64_t>(1, last.evaluations - middle.evaluations)));
  }
  created->reset();
  if (!keep_database) std::filesystem::remove_all(dir);
  return 0;
}
