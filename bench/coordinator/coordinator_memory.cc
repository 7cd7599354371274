// Coordinator memory per finished candidate: the core in this process runs
// --jobs aging-evolution jobs to --evaluations synthetic evaluations in all
// (8 threads answering at once), and reports the resident set size before
// and after, and the growth per finished candidate.
//
//   build/bench/coordinator_memory [--evaluations 20000] [--jobs 20]
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Coordinator resident memory per finished candidate"};
  int evaluations = 20000, jobs = 20, threads = 8;
  app.add_option("--evaluations", evaluations, "synthetic evaluations in all");
  app.add_option("--jobs", jobs, "jobs they are spread over");
  app.add_option("--threads", threads, "synthetic workers (threads)");
  CLI11_PARSE(app, argc, argv);

  std::string dir = unas::testing::MakeTestDir("coordinator_memory");
  absl::StatusOr<std::unique_ptr<unas::store::Store>> store =
      unas::store::Store::Open(dir + "/bench.db");
  if (!store.ok()) return 1;
  absl::StatusOr<std::unique_ptr<unas::coordinator::Coordinator>> created =
      unas::coordinator::Coordinator::Create(*std::move(store));
  if (!created.ok()) return 1;
  unas::coordinator::Coordinator& core = **created;
  const double before = ResidentMegabytes();
  std::vector<int64_t> job_ids;
  for (int i = 0; i < jobs; ++i) {
    unas::v1::JobSpec spec =
        unas::coordinator::testing::SmallSpec(evaluations / jobs, static_cast<uint64_t>(i));
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
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      unas::v1::RegisterWorkerRequest registration;
      registration.set_name("memory" + std::to_string(t));
      registration.set_slots(1);
      absl::StatusOr<unas::v1::RegisterWorkerResponse> me = core.RegisterWorker(registration);
      if (!me.ok()) return;
      while (!all_ended()) {
        unas::v1::AcquireTaskRequest acquire;
        acquire.set_worker_id(me->worker_id());
        absl::StatusOr<unas::v1::AcquireTaskResponse> task =
            core.AcquireTask(acquire, absl::Milliseconds(100));
        if (!task.ok() || !task->has_task()) continue;
        unas::v1::CompleteTaskRequest complete;
        complete.set_worker_id(me->worker_id());
        complete.set_lease_id(task->task().lease_id());
        complete.set_job_id(task->task().job_id());
        complete.set_candidate_id(task->task().candidate_id());
        *complete.mutable_result() = unas::coordinator::testing::SyntheticResult(task->task());
        (void)core.CompleteTask(complete);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  int done = 0;
  for (int64_t id : job_ids) done += core.GetJob(id)->progress().evaluations_done();
  const double after = ResidentMegabytes();
  std::printf("evaluations:        %d over %d jobs\n", done, jobs);
  std::printf("resident set size:  %.1f MB before, %.1f MB after\n", before, after);
  std::printf("growth:             %.2f kB per finished candidate\n",
              (after - before) * 1e3 / std::max(1, done));
  created->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
