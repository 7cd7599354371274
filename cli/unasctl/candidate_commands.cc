// The candidate commands: population, history, pareto and show (and
// PrintParetoTable, which `unasctl local` shares).
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/unasctl/job_commands.h"
#include "cli/unasctl/online_command.h"
#include "cli/unasctl/table.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/describe.h"

namespace unas::cli {
namespace {

absl::Status ListAndPrint(const OnlineFlags& c, CoordinatorClient& client,
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

absl::Status Show(const OnlineFlags& c, CoordinatorClient& client, int64_t job_id,
                  int64_t candidate_id) {
  absl::StatusOr<v1::Candidate> cand = client.GetCandidate(job_id, candidate_id);
  if (!cand.ok()) return cand.status();
  if (c.json) {
    std::cout << ToJson(*cand);
    return absl::OkStatus();
  }
  const v1::Candidate& x = *cand;
  std::cout << "candidate " << x.candidate_id() << " of job " << job_id << ": "
            << absl::AsciiStrToLower(CandidateStateName(x.state()))
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
  if (x.state() == v1::CANDIDATE_STATE_STOPPED) {
    const v1::StoppingDecision& d = x.stopping();
    const v1::EvaluationResult& e = x.evaluation();
    std::cout << absl::StrFormat(
        "  stopped       by the %s stopping rule at %.2f epochs: best error %.4f > %.4f, the "
        "median of %d completed candidates' mean errors up to there\n",
        d.rule(), d.epoch_fraction(), d.candidate_error(), d.threshold(), d.completed_compared());
    std::cout << absl::StrFormat("  training      %.1f s on %s until stopped\n",
                                 e.training_seconds(), x.worker_id());
  }
  if (!x.evaluation().curve().empty()) {
    std::cout << "  curve         ";
    for (int i = 0; i < x.evaluation().curve_size(); ++i) {
      const v1::CurvePoint& p = x.evaluation().curve(i);
      std::cout << (i == 0 ? "" : ", ")
                << absl::StrFormat("%.2f ep %.4f", p.epoch_fraction(), p.validation_error());
    }
    std::cout << " (epochs, validation error on the curve's subset)\n";
  }
  if (x.state() == v1::CANDIDATE_STATE_DONE) {
    const v1::EvaluationResult& e = x.evaluation();
    std::cout << absl::StrFormat("  errors        validation %.4f, test %.4f", e.validation_error(),
                                 e.test_error());
    if (e.has_int8_test_error())
      std::cout << absl::StrFormat(", int8 test %.4f", e.int8_test_error());
    std::cout << absl::StrFormat("\n  training      %.1f s on %s (%s), %d epochs\n",
                                 e.training_seconds(), x.worker_id(), e.device(), e.epochs_size());
    if (e.has_cortex_m4_instructions()) {
      std::cout << absl::StrFormat(
          "  Cortex-M4     %d instructions per inference (generated C, QEMU -icount)\n",
          e.cortex_m4_instructions());
    }
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

}  // namespace

absl::Status PrintParetoTable(CoordinatorClient& client, int64_t job_id, std::ostream& out) {
  absl::StatusOr<std::vector<v1::Candidate>> front = client.FeasibleParetoFront(job_id);
  if (!front.ok()) return front.status();
  if (front->empty()) {
    out << "no feasible candidate: relax the bounds or run more rounds\n";
    return absl::OkStatus();
  }
  out << "Pareto front (feasible candidates; test error, peak memory, model size, MACs):\n";
  PrintCandidates(out, *front, OutputFormat::kTable);
  return absl::OkStatus();
}

void AddCandidateCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<OnlineFlags>();
  auto job = std::make_shared<std::string>();
  auto candidate = std::make_shared<int64_t>(0);
  auto flag_all = std::make_shared<bool>(false);
  auto objectives = std::make_shared<std::string>();

  AddJobSubcommand(app, "population", "The current aging-evolution population", job.get(),
                   flags.get(), FormatFlags::kJsonOrCsv)
      ->callback([=] {
        *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
          v1::ListCandidatesRequest request;
          request.set_job_id(id);
          request.set_population_only(true);
          request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
          return ListAndPrint(*flags, client, request);
        });
      });

  CLI::App* history = AddJobSubcommand(
      app, "history", "Every evaluation (and candidate stopped early) in completion order",
      job.get(), flags.get(), FormatFlags::kJsonOrCsv);
  history->add_flag("--all", *flag_all, "every candidate in proposal order, any state");
  history->callback([=] {
    *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
      v1::ListCandidatesRequest request;
      request.set_job_id(id);
      if (!*flag_all) {
        request.add_states(v1::CANDIDATE_STATE_DONE);
        request.add_states(v1::CANDIDATE_STATE_STOPPED);
        request.set_order(v1::CANDIDATE_ORDER_FINISH_TIME);
      }
      return ListAndPrint(*flags, client, request);
    });
  });

  CLI::App* pareto = AddJobSubcommand(app, "pareto", "The Pareto front (feasible candidates)",
                                      job.get(), flags.get(), FormatFlags::kJsonOrCsv);
  pareto->add_flag("--all", *flag_all, "include candidates that violate a bound");
  pareto->add_option("--objectives", *objectives,
                     "comma-separated subset of error,pmu,size,macs (default: all four)");
  pareto->callback([=] {
    *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
      absl::StatusOr<std::vector<v1::Objective>> objs = ParseObjectives(*objectives);
      if (!objs.ok()) return objs.status();
      v1::GetParetoFrontRequest request;
      request.set_job_id(id);
      request.set_include_infeasible(*flag_all);
      request.set_use_test_error(true);
      for (v1::Objective o : *objs) request.add_objectives(o);
      absl::StatusOr<std::vector<v1::Candidate>> front = client.ParetoFront(request);
      if (!front.ok()) return front.status();
      PrintCandidates(std::cout, *front, flags->format());
      return absl::OkStatus();
    });
  });

  CLI::App* show = AddJobSubcommand(app, "show", "One candidate: architecture, metrics, lineage",
                                    job.get(), flags.get(), FormatFlags::kJson);
  show->add_option("candidate", *candidate, "candidate id")->required();
  show->callback([=] {
    *exit_code = WithJob(*flags, *job, [&](CoordinatorClient& client, int64_t id) {
      return Show(*flags, client, id, *candidate);
    });
  });
}

}  // namespace unas::cli
