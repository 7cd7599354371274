// The commands that write files from a job: export (one candidate's
// architecture, C project, int8 model and weights; export_command.h) and
// report (the HTML report and its data; report/report.h), and
// WriteJobReport, which `unasctl local` shares.
#include <iostream>
#include <memory>
#include <utility>

#include "cli/unasctl/export_command.h"
#include "cli/unasctl/job_commands.h"
#include "cli/unasctl/online_command.h"
#include "report/report.h"

namespace unas::cli {

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
  v1::ListCandidatesRequest stopped;
  stopped.set_job_id(job_id);
  stopped.add_states(v1::CANDIDATE_STATE_STOPPED);
  stopped.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
  absl::StatusOr<std::vector<v1::Candidate>> stopped_early = client.ListCandidates(stopped);
  if (!stopped_early.ok()) return stopped_early.status();
  data.stopped = *std::move(stopped_early);
  absl::StatusOr<std::vector<v1::Candidate>> front = client.FeasibleParetoFront(job_id);
  if (!front.ok()) return front.status();
  data.pareto = *std::move(front);
  return report::WriteReport(data, dir);
}

void AddOutputCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<OnlineFlags>();
  auto job = std::make_shared<std::string>();
  auto candidate = std::make_shared<int64_t>(0);
  auto out_dir = std::make_shared<std::string>();

  CLI::App* exp = app.add_subcommand(
      "export", "Write a candidate's architecture, C project, int8 model and weights");
  exp->add_option("job", *job, "job id or name")->required();
  exp->add_option("candidate", *candidate, "candidate id")->required();
  exp->add_option("-o,--out", *out_dir, "output folder")->required();
  auto formats = std::make_shared<std::string>("all");
  exp->add_option("--format", *formats, "all, or a comma-separated list of c, int8, onnx, torch")
      ->capture_default_str();
  AddCoordinatorFlags(exp, flags.get());
  exp->callback([=] {
    *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::StatusOr<v1::ExportCandidateResponse> r = client.Export(id, *candidate);
      if (!r.ok()) return r.status();
      return WriteCandidateExport(*r, *out_dir, *formats, std::cout, std::cerr);
    });
  });

  CLI::App* report = app.add_subcommand("report", "Write the HTML report and its data");
  report->add_option("job", *job, "job id or name")->required();
  report->add_option("-o,--out", *out_dir, "output folder")->required();
  AddCoordinatorFlags(report, flags.get());
  report->callback([=] {
    *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::Status s = WriteJobReport(client, id, *out_dir);
      if (s.ok()) std::cout << "report written to " << *out_dir << "/index.html\n";
      return s;
    });
  });
}

}  // namespace unas::cli
