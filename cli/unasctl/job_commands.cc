#include "cli/unasctl/job_commands.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/unasctl/export_command.h"
#include "cli/unasctl/progress_bar.h"
#include "cli/unasctl/table.h"
#include "common/job_spec/loader.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/describe.h"
#include "google/protobuf/util/time_util.h"
#include "report/report.h"

namespace unas::cli {
namespace {

using google::protobuf::util::TimeUtil;

struct Common {
  std::string coordinator = kDefaultCoordinator;
  rpc::ChannelSecurity security;
  bool json = false;
  bool csv = false;
  OutputFormat format() const {
    return json ? OutputFormat::kJson : csv ? OutputFormat::kCsv : OutputFormat::kTable;
  }
};

void AddCoordinatorFlag(CLI::App* cmd, Common* c) {
  cmd->add_option("--coordinator", c->coordinator, "coordinator address HOST:PORT")
      ->envname("UNAS_COORDINATOR")
      ->capture_default_str();
  cmd->add_option("--tls-ca", c->security.tls_ca_file,
                  "PEM CA of the coordinator's certificate: connect with TLS")
      ->envname("UNAS_TLS_CA");
  cmd->add_option("--token-file", c->security.token_file,
                  "file holding the client token, sent with every call")
      ->envname("UNAS_TOKEN_FILE");
  cmd->add_option("--tls-server-name", c->security.tls_server_name,
                  "name to check in the coordinator's certificate (default: the host)");
}

void AddFormatFlags(CLI::App* cmd, Common* c, bool csv) {
  CLI::Option* json = cmd->add_flag("--json", c->json, "JSON output for scripts");
  if (csv) cmd->add_flag("--csv", c->csv, "CSV output for scripts")->excludes(json);
}

int Fail(const absl::Status& status) {
  std::cerr << "unasctl: " << status.message() << "\n";
  return 1;
}

std::string StateName(v1::JobState state) {
  return absl::AsciiStrToLower(absl::StripPrefix(v1::JobState_Name(state), "JOB_STATE_"));
}

std::string BoundsText(const v1::Bounds& b) {
  std::vector<std::string> parts;
  if (b.has_error()) parts.push_back(absl::StrFormat("error <= %.4g", b.error()));
  if (b.has_peak_memory_bytes()) parts.push_back("PMU <= " + HumanBytes(b.peak_memory_bytes()));
  if (b.has_model_size_bytes()) parts.push_back("size <= " + HumanBytes(b.model_size_bytes()));
  if (b.has_macs()) parts.push_back("MACs <= " + HumanCount(b.macs()));
  return parts.empty() ? "none" : absl::StrJoin(parts, ", ");
}

// Runs `body` with a client for the resolved job; prints errors.
template <typename Body>
int WithJob(const Common& c, const std::string& job, Body body) {
  CoordinatorClient client(c.coordinator, c.security);
  absl::StatusOr<int64_t> job_id = client.ResolveJob(job);
  if (!job_id.ok()) return Fail(job_id.status());
  absl::Status s = body(client, *job_id);
  return s.ok() ? 0 : Fail(s);
}

// --- submit ------------------------------------------------------------------

absl::Status Submit(const Common& c, const std::string& file) {
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

absl::Status Jobs(const Common& c) {
  CoordinatorClient client(c.coordinator, c.security);
  absl::StatusOr<std::vector<v1::Job>> jobs = client.ListJobs();
  if (!jobs.ok()) return jobs.status();
  if (c.json) {
    std::vector<const google::protobuf::Message*> items;
    for (const v1::Job& j : *jobs) items.push_back(&j);
    PrintJsonArray(std::cout, items);
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
                                    StateName(j.state()),
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
      std::cout << "job " << j.job_id() << " " << StateName(j.state()) << ": " << j.failure_reason()
                << "\n";
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

absl::Status Status(const Common& c, CoordinatorClient& client, int64_t job_id) {
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
  std::cout << "job " << job->job_id() << " '" << s.name() << "': " << StateName(job->state())
            << (job->failure_reason().empty() ? "" : " (" + job->failure_reason() + ")") << "\n";
  std::cout << absl::StrFormat("  evaluations  %d of %d done, %d training, %d queued, %d failed",
                               p.evaluations_done(), p.rounds(), p.evaluations_in_flight(),
                               p.evaluations_queued(), p.evaluations_failed());
  if (p.candidates_skipped() > 0) std::cout << ", " << p.candidates_skipped() << " skipped";
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
            << absl::StripPrefix(v1::DatasetName_Name(s.dataset().name()), "DATASET_NAME_") << "\n";
  std::cout << "  workers      " << workers->size() << " active";
  for (const v1::WorkerInfo& w : *workers) {
    std::cout << "\n    " << w.name() << " (" << w.worker_id() << ", " << w.device() << ", "
              << w.busy_slots() << "/" << w.slots() << " busy, " << w.evaluations_done()
              << " done)";
  }
  std::cout << "\n";
  return absl::OkStatus();
}

// --- candidates ----------------------------------------------------------------

absl::Status ListAndPrint(const Common& c, CoordinatorClient& client,
                          v1::ListCandidatesRequest request) {
  absl::StatusOr<std::vector<v1::Candidate>> candidates = client.ListCandidates(request);
  if (!candidates.ok()) return candidates.status();
  PrintCandidates(std::cout, *candidates, c.format());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Objective>> ParseObjectives(const std::string& text) {
  std::vector<v1::Objective> out;
  if (text.empty()) return out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(part));
    if (name == "error") {
      out.push_back(v1::OBJECTIVE_ERROR);
    } else if (name == "pmu" || name == "memory") {
      out.push_back(v1::OBJECTIVE_PEAK_MEMORY);
    } else if (name == "size") {
      out.push_back(v1::OBJECTIVE_MODEL_SIZE);
    } else if (name == "macs") {
      out.push_back(v1::OBJECTIVE_MACS);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--objectives: unknown objective '", name,
                                                     "' (use error, pmu, size, macs)"));
    }
  }
  return out;
}

absl::Status Show(const Common& c, CoordinatorClient& client, int64_t job_id,
                  int64_t candidate_id) {
  absl::StatusOr<v1::Candidate> cand = client.GetCandidate(job_id, candidate_id);
  if (!cand.ok()) return cand.status();
  if (c.json) {
    std::cout << ToJson(*cand);
    return absl::OkStatus();
  }
  const v1::Candidate& x = *cand;
  std::cout << "candidate " << x.candidate_id() << " of job " << job_id << ": "
            << absl::AsciiStrToLower(
                   absl::StripPrefix(v1::CandidateState_Name(x.state()), "CANDIDATE_STATE_"))
            << (x.state() == v1::CANDIDATE_STATE_DONE
                    ? (x.feasible() ? ", feasible" : ", infeasible")
                    : "")
            << "\n";
  std::cout << "  architecture  " << DescribeArchitecture(x.architecture()) << "\n";
  if (x.has_sparsity()) std::cout << absl::StrFormat("  sparsity      %.3f\n", x.sparsity());
  const v1::ResourceMetrics& m =
      x.state() == v1::CANDIDATE_STATE_DONE ? x.metrics() : x.dense_metrics();
  std::cout << "  peak memory   " << m.peak_memory_bytes() << " B ("
            << m.peak_memory_with_input_bytes() << " B with the input"
            << (m.peak_memory_is_upper_bound() ? "; upper bound, the exact search hit its limit"
                                               : "")
            << ")\n";
  std::cout << "  model size    " << m.model_size_bytes() << " B (" << m.model_size_deployed_bytes()
            << " B deployed int8)\n";
  std::cout << "  MACs          " << m.macs() << " (" << m.conv_dense_macs() << " in conv/dense)\n";
  if (x.state() == v1::CANDIDATE_STATE_DONE) {
    const v1::EvaluationResult& e = x.evaluation();
    std::cout << absl::StrFormat("  errors        validation %.4f, test %.4f", e.validation_error(),
                                 e.test_error());
    if (e.has_int8_test_error())
      std::cout << absl::StrFormat(", int8 test %.4f", e.int8_test_error());
    std::cout << absl::StrFormat("\n  training      %.1f s on %s (%s), %d epochs\n",
                                 e.training_seconds(), x.worker_id(), e.device(), e.epochs_size());
  }
  std::cout << "  attempts      " << x.attempts() << "\n";
  for (const std::string& reason : x.failure_reasons()) std::cout << "    - " << reason << "\n";
  // Lineage: the chain of parents back to a random ancestor.
  std::cout << "  lineage       " << x.candidate_id();
  int64_t parent = x.has_parent_id() ? x.parent_id() : 0;
  for (int depth = 0; parent != 0 && depth < 1000; ++depth) {
    absl::StatusOr<v1::Candidate> p = client.GetCandidate(job_id, parent);
    if (!p.ok()) break;
    std::cout << " <- " << parent;
    parent = p->has_parent_id() ? p->parent_id() : 0;
  }
  std::cout << (x.has_parent_id() ? " (random)" : " (random: no parent)") << "\n";
  std::cout << "\n" << ToTextproto(x.architecture());
  return absl::OkStatus();
}

absl::Status Export(CoordinatorClient& client, int64_t job_id, int64_t candidate_id,
                    const std::string& dir, const std::string& formats) {
  absl::StatusOr<v1::ExportCandidateResponse> r = client.Export(job_id, candidate_id);
  if (!r.ok()) return r.status();
  return WriteCandidateExport(*r, dir, formats, std::cout, std::cerr);
}

}  // namespace

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
      const bool more_to_lease = progress.evaluations_done() + progress.evaluations_in_flight() +
                                     progress.evaluations_queued() <
                                 progress.rounds();
      bar.Update(progress, event.has_candidate_done() && more_to_lease);
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

absl::Status PrintParetoTable(CoordinatorClient& client, int64_t job_id, std::ostream& out) {
  v1::GetParetoFrontRequest request;
  request.set_job_id(job_id);
  request.set_use_test_error(true);
  absl::StatusOr<std::vector<v1::Candidate>> front = client.ParetoFront(request);
  if (!front.ok()) return front.status();
  if (front->empty()) {
    out << "no feasible candidate: relax the bounds or run more rounds\n";
    return absl::OkStatus();
  }
  out << "Pareto front (feasible candidates; test error, peak memory, model size, MACs):\n";
  PrintCandidates(out, *front, OutputFormat::kTable);
  return absl::OkStatus();
}

absl::Status WriteJobReport(CoordinatorClient& client, int64_t job_id, const std::string& dir,
                            const std::string& exports_dir) {
  report::ReportData data;
  data.exports_dir = exports_dir;
  absl::StatusOr<v1::Job> job = client.GetJob(job_id);
  if (!job.ok()) return job.status();
  data.job = *job;
  v1::ListCandidatesRequest history;
  history.set_job_id(job_id);
  history.add_states(v1::CANDIDATE_STATE_DONE);
  history.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  absl::StatusOr<std::vector<v1::Candidate>> done = client.ListCandidates(history);
  if (!done.ok()) return done.status();
  data.history = *std::move(done);
  v1::GetParetoFrontRequest pareto;
  pareto.set_job_id(job_id);
  pareto.set_use_test_error(true);
  absl::StatusOr<std::vector<v1::Candidate>> front = client.ParetoFront(pareto);
  if (!front.ok()) return front.status();
  data.pareto = *std::move(front);
  return report::WriteReport(data, dir);
}

void AddJobCommands(CLI::App& app, int* exit_code) {
  auto common = std::make_shared<Common>();
  auto job = std::make_shared<std::string>();
  auto candidate = std::make_shared<int64_t>(0);
  auto file = std::make_shared<std::string>();
  auto flag_all = std::make_shared<bool>(false);
  auto objectives = std::make_shared<std::string>();
  auto out_dir = std::make_shared<std::string>();

  CLI::App* submit = app.add_subcommand("submit", "Check a job spec and submit it");
  submit->add_option("spec", *file, "job spec file (.textproto or .json)")->required();
  AddCoordinatorFlag(submit, common.get());
  AddFormatFlags(submit, common.get(), false);
  submit->callback([=] {
    absl::Status s = Submit(*common, *file);
    *exit_code = s.ok() ? 0 : Fail(s);
  });

  CLI::App* jobs = app.add_subcommand("jobs", "Every job in the coordinator's store");
  AddCoordinatorFlag(jobs, common.get());
  AddFormatFlags(jobs, common.get(), true);
  jobs->callback([=] {
    absl::Status s = Jobs(*common);
    *exit_code = s.ok() ? 0 : Fail(s);
  });

  auto job_command = [&](const std::string& name, const std::string& help, bool csv) {
    CLI::App* cmd = app.add_subcommand(name, help);
    cmd->add_option("job", *job, "job id or name")->required();
    AddCoordinatorFlag(cmd, common.get());
    AddFormatFlags(cmd, common.get(), csv);
    return cmd;
  };

  job_command("status", "Progress, best feasible error, workers", false)->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      return Status(*common, client, id);
    });
  });

  CLI::App* watch = app.add_subcommand("watch", "Follow a job with a progress bar until it ends");
  watch->add_option("job", *job, "job id or name")->required();
  AddCoordinatorFlag(watch, common.get());
  watch->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::StatusOr<v1::Job> done = WatchUntilDone(client, id);
      if (!done.ok()) return done.status();
      std::cout << "job " << id << " " << StateName(done->state()) << "\n";
      return absl::OkStatus();
    });
  });

  job_command("population", "The current aging-evolution population", true)->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      v1::ListCandidatesRequest request;
      request.set_job_id(id);
      request.set_population_only(true);
      request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
      return ListAndPrint(*common, client, request);
    });
  });

  CLI::App* history = job_command("history", "Every evaluation in completion order", true);
  history->add_flag("--all", *flag_all, "every candidate in proposal order, any state");
  history->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      v1::ListCandidatesRequest request;
      request.set_job_id(id);
      if (!*flag_all) {
        request.add_states(v1::CANDIDATE_STATE_DONE);
        request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
      }
      return ListAndPrint(*common, client, request);
    });
  });

  CLI::App* pareto = job_command("pareto", "The Pareto front (feasible candidates)", true);
  pareto->add_flag("--all", *flag_all, "include candidates that violate a bound");
  pareto->add_option("--objectives", *objectives,
                     "comma-separated subset of error,pmu,size,macs (default: all four)");
  pareto->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::StatusOr<std::vector<v1::Objective>> objs = ParseObjectives(*objectives);
      if (!objs.ok()) return objs.status();
      v1::GetParetoFrontRequest request;
      request.set_job_id(id);
      request.set_include_infeasible(*flag_all);
      request.set_use_test_error(true);
      for (v1::Objective o : *objs) request.add_objectives(o);
      absl::StatusOr<std::vector<v1::Candidate>> front = client.ParetoFront(request);
      if (!front.ok()) return front.status();
      PrintCandidates(std::cout, *front, common->format());
      return absl::OkStatus();
    });
  });

  CLI::App* show = job_command("show", "One candidate: architecture, metrics, lineage", false);
  show->add_option("candidate", *candidate, "candidate id")->required();
  show->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      return Show(*common, client, id, *candidate);
    });
  });

  CLI::App* cancel = app.add_subcommand("cancel", "Stop a job's search");
  cancel->add_option("job", *job, "job id or name")->required();
  AddCoordinatorFlag(cancel, common.get());
  cancel->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::StatusOr<v1::Job> done = client.Cancel(id);
      if (!done.ok()) return done.status();
      std::cout << "job " << id << " cancelled after " << done->progress().evaluations_done()
                << " evaluations\n";
      return absl::OkStatus();
    });
  });

  CLI::App* workers = app.add_subcommand("workers", "Workers known to the coordinator");
  workers->add_flag("--all", *flag_all, "include workers not heard from recently");
  AddCoordinatorFlag(workers, common.get());
  AddFormatFlags(workers, common.get(), true);
  workers->callback([=] {
    CoordinatorClient client(common->coordinator, common->security);
    absl::StatusOr<std::vector<v1::WorkerInfo>> list = client.ListWorkers(*flag_all);
    if (!list.ok()) {
      *exit_code = Fail(list.status());
      return;
    }
    if (common->json) {
      std::vector<const google::protobuf::Message*> items;
      for (const v1::WorkerInfo& w : *list) items.push_back(&w);
      PrintJsonArray(std::cout, items);
      return;
    }
    Table table({"ID", "NAME", "HOST", "DEVICE", "SLOTS", "BUSY", "DONE", "LAST SEEN"});
    for (const v1::WorkerInfo& w : *list) {
      table.AddRow({w.worker_id(), w.name(), w.host(), w.device(), absl::StrCat(w.slots()),
                    absl::StrCat(w.busy_slots()), absl::StrCat(w.evaluations_done()),
                    TimeUtil::ToString(w.last_heartbeat()).substr(0, 19)});
    }
    common->csv ? table.PrintCsv(std::cout) : table.PrintText(std::cout);
  });

  CLI::App* exp = app.add_subcommand(
      "export", "Write a candidate's architecture, C project, int8 model and weights");
  exp->add_option("job", *job, "job id or name")->required();
  exp->add_option("candidate", *candidate, "candidate id")->required();
  exp->add_option("-o,--out", *out_dir, "output folder")->required();
  auto formats = std::make_shared<std::string>("all");
  exp->add_option("--format", *formats, "all, or a comma-separated list of c, int8, onnx, torch")
      ->capture_default_str();
  AddCoordinatorFlag(exp, common.get());
  exp->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      return Export(client, id, *candidate, *out_dir, *formats);
    });
  });

  CLI::App* report = app.add_subcommand("report", "Write the HTML report and its data");
  report->add_option("job", *job, "job id or name")->required();
  report->add_option("-o,--out", *out_dir, "output folder")->required();
  AddCoordinatorFlag(report, common.get());
  report->callback([=] {
    *exit_code = WithJob(*common, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::Status s = WriteJobReport(client, id, *out_dir);
      if (s.ok()) std::cout << "report written to " << *out_dir << "/index.html\n";
      return s;
    });
  });
}

}  // namespace unas::cli
