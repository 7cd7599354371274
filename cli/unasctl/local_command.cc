#include "cli/unasctl/local_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/unasctl/coordinator_client.h"
#include "cli/unasctl/deploy_step.h"
#include "cli/unasctl/job_commands.h"
#include "cli/unasctl/online_command.h"
#include "common/job_spec/loader.h"
#include "common/process/stop_signals.h"
#include "common/process/subprocess.h"
#include "google/protobuf/util/message_differencer.h"

namespace unas::cli {
namespace {

struct LocalFlags {
  std::string spec;
  std::string dir;  // default runs/<name>
  int slots = 0;    // 0: one per core (CPU) or per GPU
  int threads = 1;
  bool synthetic = false;
  bool no_report = false;
  // HOST:PORT of the live dashboard (port 0: any free one), or "off".
  std::string dashboard = "127.0.0.1:0";
};

// GPUs visible to this machine (the NVIDIA driver's device files).
int CountGpus() {
  int n = 0;
  while (std::filesystem::exists("/dev/nvidia" + std::to_string(n))) ++n;
  return n;
}

// The running processes of one local search.
class LocalRun {
 public:
  LocalRun(const LocalFlags& flags, std::string dir) : flags_(flags), dir_(std::move(dir)) {}
  ~LocalRun() { Stop(); }

  absl::Status StartCoordinator() {
    std::string port_file = dir_ + "/coordinator.port";
    std::string dashboard_port_file = dir_ + "/dashboard.port";
    std::filesystem::remove(port_file);
    std::filesystem::remove(dashboard_port_file);
    SubprocessOptions options;
    options.parent_death_signal = SIGTERM;
    std::vector<std::string> command = {ExecutableDir() + "/unas-coordinator",
                                        "--db",
                                        dir_ + "/search.db",
                                        "--listen",
                                        "127.0.0.1:0",
                                        "--port-file",
                                        port_file};
    // The live dashboard (docs/dashboard.md), by default on a free loopback port.
    const bool dashboard = flags_.dashboard != "off";
    if (dashboard) {
      command.insert(command.end(),
                     {"--http", flags_.dashboard, "--http-port-file", dashboard_port_file});
    }
    coordinator_ = std::make_unique<Subprocess>(command, dir_ + "/coordinator.log", options);
    std::optional<int> port = WaitForPortFile(port_file, absl::Seconds(30));
    if (!port) {
      return absl::UnavailableError(absl::StrCat("the coordinator did not start; see ", dir_,
                                                 "/coordinator.log:\n", coordinator_->ReadLog()));
    }
    address_ = absl::StrCat("127.0.0.1:", *port);
    // Written before the gRPC port file: it is there by now.
    if (std::optional<int> http =
            dashboard ? WaitForPortFile(dashboard_port_file, absl::Seconds(5)) : std::nullopt) {
      std::string host = flags_.dashboard.substr(0, flags_.dashboard.rfind(':'));
      if (host == "0.0.0.0" || host == "[::]" || host.empty()) host = "127.0.0.1";
      std::cerr << "dashboard: http://" << host << ":" << *http << "/\n";
    }
    return absl::OkStatus();
  }

  // One worker process per GPU, or one process with a slot per core.
  void StartWorkers() {
    int gpus = flags_.synthetic ? 0 : CountGpus();
    int cores = std::max(1u, std::thread::hardware_concurrency());
    // The local coordinator is plaintext on loopback: a cluster's TLS and
    // token settings in the environment would only make the workers fail.
    unsetenv("UNAS_TLS_CA");
    unsetenv("UNAS_TOKEN_FILE");
    std::vector<std::string> common = {ExecutableDir() + "/unas-worker", "--coordinator", address_};
    if (flags_.synthetic) common.push_back("--synthetic");
    SubprocessOptions options;
    options.parent_death_signal = SIGTERM;
    if (gpus > 0) {
      for (int g = 0; g < gpus; ++g) {
        std::vector<std::string> argv = common;
        argv.insert(argv.end(), {"--name", absl::StrCat("local/gpu", g), "--slots",
                                 absl::StrCat(flags_.slots > 0 ? flags_.slots : 1), "--threads",
                                 absl::StrCat(std::max(1, cores / gpus))});
        SubprocessOptions gpu_options = options;
        gpu_options.env.push_back(absl::StrCat("CUDA_VISIBLE_DEVICES=", g));
        workers_.push_back(std::make_unique<Subprocess>(
            argv, absl::StrCat(dir_, "/worker-gpu", g, ".log"), gpu_options));
      }
      std::cerr << "workers: " << gpus << " GPU(s)\n";
      return;
    }
    int slots = flags_.slots > 0 ? flags_.slots : std::max(1, cores / flags_.threads);
    std::vector<std::string> argv = common;
    argv.insert(argv.end(), {"--name", "local/cpu", "--slots", absl::StrCat(slots), "--threads",
                             absl::StrCat(flags_.threads)});
    workers_.push_back(std::make_unique<Subprocess>(argv, dir_ + "/worker.log", options));
    std::cerr << "workers: " << slots << " CPU slot(s) of " << flags_.threads << " thread(s)\n";
  }

  // Graceful stop: workers first (they give back their leases), then the
  // coordinator; SIGKILL whatever does not stop in time.
  void Stop() {
    std::lock_guard<std::mutex> lock(stop_mu_);  // Ctrl-C and the normal end may race
    for (auto& w : workers_) w->Signal(SIGTERM);
    for (auto& w : workers_) {
      if (!w->Wait(absl::Seconds(30))) w->Kill();
    }
    workers_.clear();
    if (coordinator_) {
      coordinator_->Signal(SIGTERM);
      if (!coordinator_->Wait(absl::Seconds(15))) coordinator_->Kill();
      coordinator_.reset();
    }
  }

  const std::string& address() const { return address_; }

 private:
  LocalFlags flags_;
  std::string dir_;
  std::string address_;
  std::mutex stop_mu_;
  std::unique_ptr<Subprocess> coordinator_;
  std::vector<std::unique_ptr<Subprocess>> workers_;
};

// The job of this spec in the run's database: resumed if it exists (and has
// the same spec), submitted otherwise.
absl::StatusOr<int64_t> FindOrSubmit(CoordinatorClient& client, const v1::JobSpec& raw,
                                     const v1::JobSpec& prepared, const std::string& dir) {
  absl::StatusOr<std::vector<v1::Job>> jobs = client.ListJobs();
  if (!jobs.ok()) return jobs.status();
  for (const v1::Job& job : *jobs) {
    if (job.spec().name() != prepared.name()) continue;
    if (!google::protobuf::util::MessageDifferencer::Equivalent(job.spec(), prepared)) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " holds job '", prepared.name(), "' with a different spec; delete the folder ",
          "or pass --dir to start a new search"));
    }
    std::cerr << "resuming job " << job.job_id() << " '" << prepared.name() << "' ("
              << job.progress().evaluations_done() << "/" << job.progress().rounds()
              << " evaluations done)\n";
    return job.job_id();
  }
  absl::StatusOr<v1::Job> job = client.Submit(raw);
  if (!job.ok()) return job.status();
  std::cerr << "started job " << job->job_id() << " '" << prepared.name() << "' ("
            << job->progress().rounds() << " evaluations)\n";
  return job->job_id();
}

int RunLocal(const LocalFlags& flags) {
  absl::StatusOr<v1::JobSpec> raw = ReadJobSpecFile(flags.spec);
  if (!raw.ok()) return Fail(raw.status());
  absl::StatusOr<v1::JobSpec> prepared = PrepareJobSpec(*raw);
  if (!prepared.ok()) {
    return Fail(
        absl::InvalidArgumentError(absl::StrCat(flags.spec, ": ", prepared.status().message())));
  }
  std::string dir = flags.dir.empty() ? "runs/" + prepared->name() : flags.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(absl::PermissionDeniedError(absl::StrCat(dir, ": ", ec.message())));
  std::cerr << "run folder: " << dir << " (database, logs, report)\n";

  LocalRun run(flags, dir);
  std::atomic<bool> interrupted{false};
  StopSignalWatcher watcher([&](int) {
    interrupted = true;
    std::cerr << "\nstopping (run the same command again to resume)...\n";
    run.Stop();
  });
  if (absl::Status s = run.StartCoordinator(); !s.ok()) return Fail(s);
  CoordinatorClient client(run.address());
  absl::StatusOr<int64_t> job_id = FindOrSubmit(client, *raw, *prepared, dir);
  if (!job_id.ok()) return Fail(job_id.status());
  absl::StatusOr<v1::Job> job = client.GetJob(*job_id);
  if (!job.ok()) return Fail(job.status());
  if (job->state() == v1::JOB_STATE_RUNNING) {
    run.StartWorkers();
    job = WatchUntilDone(client, *job_id);
  }
  if (interrupted.load()) return 130;
  if (!job.ok()) return Fail(job.status());
  std::cout << "\njob " << *job_id << " '" << prepared->name()
            << "': " << JobStateName(job->state())
            << (job->failure_reason().empty() ? "" : " (" + job->failure_reason() + ")") << ", "
            << job->progress().evaluations_done() << " evaluations\n\n";
  if (absl::Status s = PrintParetoTable(client, *job_id, std::cout); !s.ok()) return Fail(s);
  // The Pareto candidates' exports first, so that the report links them. The
  // search's results stand without them: a failure here (no compiler, say) is
  // reported, not fatal.
  const std::string exports = dir + (flags.no_report ? "/exports" : "/report/exports");
  if (absl::Status s = ExportDeployable(client, *job_id, *prepared, exports, std::cout); !s.ok()) {
    std::cerr << "unasctl: exporting the Pareto candidates failed: " << s.message() << "\n";
  }
  if (!flags.no_report) {
    std::string report_dir = dir + "/report";
    if (absl::Status s = WriteJobReport(client, *job_id, report_dir, "exports"); !s.ok()) {
      return Fail(s);
    }
    std::cout << "\nreport: " << report_dir << "/index.html\n";
  }
  run.Stop();
  return job->state() == v1::JOB_STATE_SUCCEEDED ? 0 : 1;
}

}  // namespace

void AddLocalCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<LocalFlags>();
  CLI::App* local = app.add_subcommand(
      "local", "Run a whole search on this machine: coordinator, workers, progress, report");
  local->add_option("spec", flags->spec, "job spec file (.textproto or .json)")->required();
  local->add_option("--dir", flags->dir, "run folder (default: runs/<job name>)");
  local
      ->add_option("--slots", flags->slots,
                   "candidates trained at once (default: one per core, or one per GPU)")
      ->check(CLI::Range(0, 256));
  local->add_option("--threads", flags->threads, "LibTorch threads per slot")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  local->add_flag("--synthetic", flags->synthetic,
                  "no training: synthetic errors (a dry run of the search machinery)");
  local->add_flag("--no-report", flags->no_report, "do not write the HTML report");
  local
      ->add_option("--dashboard", flags->dashboard,
                   "HOST:PORT of the live dashboard (port 0: a free one), or off")
      ->capture_default_str()
      ->check([](const std::string& value) -> std::string {
        if (value == "off") return "";
        const size_t colon = value.rfind(':');
        int port = 0;
        if (colon == std::string::npos || colon == 0 ||
            !absl::SimpleAtoi(value.substr(colon + 1), &port) || port < 0 || port > 65535) {
          return "expected HOST:PORT (e.g. 127.0.0.1:8080) or off, got \"" + value + "\"";
        }
        return "";
      });
  local->callback([flags, exit_code] { *exit_code = RunLocal(*flags); });
}

}  // namespace unas::cli
