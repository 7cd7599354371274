// The job commands: submit, jobs, status and watch (and WatchUntilDone,
// which `unasctl local` shares), and AddJobCommands, which registers every
// online group.
#include "cli/unasctl/job_commands.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/unasctl/online_command.h"
#include "cli/unasctl/progress_bar.h"
#include "cli/unasctl/table.h"
#include "common/job_spec/dataset_info.h"
#include "common/job_spec/loader.h"
#include "common/proto_io/proto_file.h"
#include "google/protobuf/util/time_util.h"

namespace unas::cli {
namespace {

using google::protobuf::util::TimeUtil;

std::string BoundsText(const v1::Bounds& b) {
  std::vector<std::string> parts;
  if (b.has_error()) parts.push_back(absl::StrFormat("error <= %.4g", b.error()));
  if (b.has_peak_memory_bytes()) parts.push_back("PMU <= " + HumanBytes(b.peak_memory_bytes()));
  if (b.has_model_size_bytes()) parts.push_back("size <= " + HumanBytes(b.model_size_bytes()));
  if (b.has_macs()) parts.push_back("MACs <= " + HumanCount(b.macs()));
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

// --- submit ------------------------------------------------------------------

absl::Status Submit(const OnlineFlags& c, const std::string& file) {
  // The spec is checked here first, so errors name the file and every field.
  absl::StatusOr<v1::JobSpec> spec = ReadJobSpecFile(file);
  if (!spec.ok()) return spec.status();
  if (absl::StatusOr<v1::JobSpec> checked = PrepareJobSpec(*spec); !checked.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", checked.status().message()));
  }
  CoordinatorClient client(c.coordinator, c.security);
  // The raw spec goes over the wire: the coordinator fills its own defaults.
  absl::StatusOr<v1::Job> job = client.Submit(*spec);
  if (!job.ok()) return job.status();
  if (c.json) {
    std::cout << ToJson(*job);
  } else {
    std::cout << job->job_id() << "\n";
    std::cerr << "submitted job " << job->job_id() << " '" << job->spec().name() << "' ("
              << job->progress().rounds() << " evaluations); follow it with: unasctl watch "
              << job->job_id() << "\n";
  }
  return absl::OkStatus();
}

// --- jobs / status -------------------------------------------------------------

absl::Status Jobs(const OnlineFlags& c) {
  CoordinatorClient client(c.coordinator, c.security);
  absl::StatusOr<std::vector<v1::Job>> jobs = client.ListJobs();
  if (!jobs.ok()) return jobs.status();
  if (c.json) {
    PrintJsonArray(std::cout, *jobs);
    return absl::OkStatus();
  }
  Table table(c.csv ? std::vector<std::string>{"job_id", "name", "state", "evaluations_done",
                                               "rounds", "in_flight", "failed",
                                               "best_feasible_error", "created", "failure_reason"}
                    : std::vector<std::string>{"ID", "NAME", "STATE", "DONE", "ROUNDS", "TRAINING",
                                               "FAILED", "BEST ERR", "CREATED"});
  for (const v1::Job& j : *jobs) {
    const v1::JobProgress& p = j.progress();
    std::string best = p.has_best_feasible_error()
                           ? absl::StrFormat(c.csv ? "%g" : "%.4f", p.best_feasible_error())
                           : (c.csv ? "" : "-");
    std::vector<std::string> row = {absl::StrCat(j.job_id()),
                                    j.spec().name(),
                                    JobStateName(j.state()),
                                    absl::StrCat(p.evaluations_done()),
                                    absl::StrCat(p.rounds()),
                                    absl::StrCat(p.evaluations_in_flight()),
                                    absl::StrCat(p.evaluations_failed()),
                                    best,
                                    TimeUtil::ToString(j.create_time()).substr(0, 19)};
    if (c.csv) row.push_back(j.failure_reason());
    table.AddRow(row);
  }
  c.csv ? table.PrintCsv(std::cout) : table.PrintText(std::cout);
  if (!c.csv) {
    // Why a job ended early, below the table (reasons are too long for it).
    for (const v1::Job& j : *jobs) {
      if (j.failure_reason().empty() || j.state() == v1::JOB_STATE_CANCELLED) continue;
      std::cout << "job " << j.job_id() << " " << JobStateName(j.state()) << ": "
                << j.failure_reason() << "\n";
    }
  }
  return absl::OkStatus();
}

// Bayesian optimisation's model: observations, hyper-parameters, last step.
void PrintModelStatus(const v1::BayesianOptimizationStatus& bo) {
  std::cout << absl::StrFormat(
      "  model        %s GP on %d observations, hyper-parameters fitted on the first %d "
      "(log likelihood %.2f)\n",
      bo.kernel() == "wl" ? "WL-kernel" : "OTMANN-kernel", bo.observations(), bo.fitted_on(),
      bo.log_likelihood());
  std::cout << absl::StrFormat("  hyper        mean %.4g, scale %.3g, noise %.3g", bo.mean(),
                               bo.scale(), bo.noise());
  if (bo.kernel() == "wl") {
    std::cout << ", WL depth " << bo.wl_depth();
  } else {
    std::cout << absl::StrFormat(", alpha %.3f, beta_lp [%s], beta_emd [%s]", bo.alpha(),
                                 absl::StrJoin(bo.beta_lp(), " ",
                                               [](std::string* out, double b) {
                                                 absl::StrAppend(out, absl::StrFormat("%.3g", b));
                                               }),
                                 absl::StrJoin(bo.beta_emd(), " ", [](std::string* out, double b) {
                                   absl::StrAppend(out, absl::StrFormat("%.3g", b));
                                 }));
  }
  if (bo.has_sparsity_length())
    std::cout << absl::StrFormat(", sparsity length %.3g", bo.sparsity_length());
  std::cout << absl::StrFormat(
      "\n  last step    %.2f s (fit %.2f%s, model %.2f, acquisition %.2f), %d in flight\n",
      bo.step_seconds(), bo.fit_seconds(), bo.refitted() ? ", refitted" : "", bo.model_seconds(),
      bo.acquisition_seconds(), bo.pending());
}

absl::Status Status(const OnlineFlags& c, CoordinatorClient& client, int64_t job_id) {
  absl::StatusOr<v1::Job> job = client.GetJob(job_id);
  if (!job.ok()) return job.status();
  absl::StatusOr<std::vector<v1::WorkerInfo>> workers = client.ListWorkers(false);
  if (!workers.ok()) return workers.status();
  if (c.json) {
    std::cout << ToJson(*job);
    return absl::OkStatus();
  }
  const v1::JobProgress& p = job->progress();
  const v1::JobSpec& s = job->spec();
  std::cout << "job " << job->job_id() << " '" << s.name() << "': " << JobStateName(job->state())
            << (job->failure_reason().empty() ? "" : " (" + job->failure_reason() + ")") << "\n";
  if (!job->store_error().empty()) std::cout << "  STORE ERROR  " << job->store_error() << "\n";
  std::cout << absl::StrFormat("  evaluations  %d of %d done, %d training, %d queued, %d failed",
                               p.evaluations_done(), p.rounds(), p.evaluations_in_flight(),
                               p.evaluations_queued(), p.evaluations_failed());
  if (p.candidates_skipped() > 0) std::cout << ", " << p.candidates_skipped() << " skipped";
  if (p.candidates_stopped() > 0 || s.has_automated_stopping()) {
    std::cout << ", " << p.candidates_stopped() << " stopped early";
  }
  if (p.lease_expiries() > 0) std::cout << ", " << p.lease_expiries() << " lease expiries";
  std::cout << "\n  best         "
            << (p.has_best_feasible_error()
                    ? absl::StrFormat("feasible validation error %.4f", p.best_feasible_error())
                    : std::string("no feasible candidate yet"))
            << "\n";
  std::cout << "  recent       " << p.feasible_in_last_25()
            << " of the last 25 evaluations satisfy every bound\n";
  if (p.has_bayesian_optimization()) PrintModelStatus(p.bayesian_optimization());
  std::cout << "  bounds       " << BoundsText(s.bounds()) << "\n";
  std::cout << "  seed         " << s.seed() << ", dataset "
            << DatasetDisplayName(s.dataset().name()) << "\n";
  std::cout << "  workers      " << workers->size() << " active";
  for (const v1::WorkerInfo& w : *workers) {
    std::cout << "\n    " << w.name() << " (" << w.worker_id() << ", " << w.device() << ", "
              << w.busy_slots() << "/" << w.slots() << " busy, " << w.evaluations_done()
              << " done)";
  }
  std::cout << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddJobCommands(CLI::App& app, int* exit_code) {
  AddJobLifecycleCommands(app, exit_code);
  AddCandidateCommands(app, exit_code);
  AddControlCommands(app, exit_code);
  AddOutputCommands(app, exit_code);
}

absl::StatusOr<v1::Job> WatchUntilDone(CoordinatorClient& client, int64_t job_id) {
  ProgressBar bar(std::cerr, isatty(2));
  while (true) {
    grpc::ClientContext context;
    v1::WatchJobRequest request;
    request.set_job_id(job_id);
    std::unique_ptr<grpc::ClientReader<v1::JobEvent>> reader =
        client.stub().WatchJob(&context, request);
    v1::JobEvent event;
    while (reader->Read(&event)) {
      // After a result, its slot is usually leased the next candidate at once.
      const v1::JobProgress& progress = event.progress();
      const bool more_to_lease = progress.evaluations_done() + progress.candidates_stopped() +
                                     progress.evaluations_in_flight() +
                                     progress.evaluations_queued() <
                                 progress.rounds();
      bar.Update(progress,
                 (event.has_candidate_done() || event.has_candidate_stopped()) && more_to_lease);
      if (event.state() != v1::JOB_STATE_RUNNING) break;
    }
    context.TryCancel();
    grpc::Status status = reader->Finish();
    absl::StatusOr<v1::Job> job = client.GetJob(job_id);
    if (!job.ok()) {
      bar.Finish();
      return job.status();
    }
    if (job->state() != v1::JOB_STATE_RUNNING) {
      bar.Update(job->progress());
      bar.Finish();
      return job;
    }
    // The stream ended early (e.g. the coordinator restarted): reconnect.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void AddJobLifecycleCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<OnlineFlags>();
  auto job = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();

  CLI::App* submit = app.add_subcommand("submit", "Check a job spec and submit it");
  submit->add_option("spec", *file, "job spec file (.textproto or .json)")->required();
  AddCoordinatorFlags(submit, flags.get());
  AddFormatFlags(submit, flags.get(), FormatFlags::kJson);
  submit->callback([=] {
    absl::Status s = Submit(*flags, *file);
    *exit_code = s.ok() ? 0 : Fail(s);
  });

  CLI::App* jobs = app.add_subcommand("jobs", "Every job in the coordinator's store");
  AddCoordinatorFlags(jobs, flags.get());
  AddFormatFlags(jobs, flags.get(), FormatFlags::kJsonOrCsv);
  jobs->callback([=] {
    absl::Status s = Jobs(*flags);
    *exit_code = s.ok() ? 0 : Fail(s);
  });

  AddJobSubcommand(app, "status", "Progress, best feasible error, workers", job.get(), flags.get(),
                   FormatFlags::kJson)
      ->callback([=] {
        *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
          return Status(*flags, client, id);
        });
      });

  AddJobSubcommand(app, "watch", "Follow a job with a progress bar until it ends", job.get(),
                   flags.get(), FormatFlags::kNone)
      ->callback([=] {
        *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
          absl::StatusOr<v1::Job> done = WatchUntilDone(client, id);
          if (!done.ok()) return done.status();
          std::cout << "job " << id << " " << JobStateName(done->state()) << "\n";
          return absl::OkStatus();
        });
      });
}

}  // namespace unas::cli
