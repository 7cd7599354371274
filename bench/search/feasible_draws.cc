// Random starts and morphism children drawn the plain way (μNAS) and within
// the resource bounds (coordinator/search/feasible_proposals.h), on one job's
// space and bounds: the share within every resource bound and the time per
// proposal. No training. Run by hand:
//
//   build/bench/feasible_draws [--config configs/fashion_mnist_quick.textproto]
//       [--default-space (the default space of the config's kind instead of its own)]
//       [--starts 1000] [--children 1000] [--seed 1]
//       [--draws N --max-bound-excess F --morphism-redraws R (default: the config's)]
//
// Start i is what a job with this seed proposes as random candidate i (the
// candidate's Rng, CandidateSeed(seed, i)). Children are morphisms of the
// plain starts that are within the bounds, parent j % n for child j, each
// with its own candidate Rng, as aging evolution draws them. Feasibility is
// checked with the coordinator's full resource report
// (ComputeArchitectureResources), independently of the drawing code's own
// bound checker.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "common/job_spec/loader.h"
#include "common/objectives/objectives.h"
#include "common/search_space/resource_graph.h"
#include "coordinator/search/algorithm.h"
#include "coordinator/search/feasible_proposals.h"

namespace unas::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Tally {
  int proposals = 0;
  int feasible = 0;
  int64_t draws = 0;
  int max_draws = 0;
  double seconds = 0;
  std::vector<double> violations;  // of the infeasible ones
};

// Within every resource bound, by the coordinator's own metrics.
absl::StatusOr<bool> Feasible(const v1::Architecture& arch, const DataShape& data,
                              const search::BoundVector& bounds) {
  rm::ResourceOptions options;
  options.pmu.on_search_limit = rm::SearchLimitPolicy::kUpperBound;
  absl::StatusOr<rm::ResourceReport> r = ComputeArchitectureResources(arch, data, {}, options);
  if (!r.ok()) return r.status();
  search::BoundVector resource_bounds = bounds;
  resource_bounds[0].reset();
  return search::IsFeasible({0.0, static_cast<double>(r->pmu_bytes),
                             static_cast<double>(r->model_size_unas), static_cast<double>(r->macs)},
                            resource_bounds);
}

void Print(const char* what, const char* way, const Tally& t) {
  std::vector<double> v = t.violations;
  std::sort(v.begin(), v.end());
  std::string median = v.empty() ? "-" : absl::StrFormat("%.2f", v[v.size() / 2]);
  std::printf("%-9s %-8s %6d %8.1f%% %10.3f %10.2f %9d %18s\n", what, way, t.proposals,
              100.0 * t.feasible / std::max(1, t.proposals),
              1000.0 * t.seconds / std::max(1, t.proposals),
              static_cast<double>(t.draws) / std::max(1, t.proposals), t.max_draws, median.c_str());
}

int Main(int argc, char** argv) {
  std::string config = std::string(UNAS_SOURCE_DIR) + "/configs/fashion_mnist_quick.textproto";
  bool default_space = false;
  int starts = 1000;
  int children = 1000;
  uint64_t seed = 1;
  int draws = 0;                // 0: the config's
  double max_bound_excess = 0;  // 0: the config's
  int morphism_redraws = -1;    // -1: the config's
  CLI::App app{"Random starts and children drawn plainly and within the resource bounds"};
  app.add_option("--config", config, "job spec");
  app.add_flag("--default-space", default_space, "the default space of the config's kind");
  app.add_option("--starts", starts, "random starts per way");
  app.add_option("--children", children, "morphism children per way");
  app.add_option("--seed", seed, "job seed");
  app.add_option("--draws", draws, "feasible_proposals.draws");
  app.add_option("--max-bound-excess", max_bound_excess, "feasible_proposals.max_bound_excess");
  app.add_option("--morphism-redraws", morphism_redraws, "feasible_proposals.morphism_redraws");
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<v1::JobSpec> read = ReadJobSpecFile(config);
  if (!read.ok()) {
    std::fprintf(stderr, "%s\n", std::string(read.status().message()).c_str());
    return 1;
  }
  if (default_space) {
    const v1::SearchSpaceKind kind = read->search_space().kind();
    read->clear_search_space();
    read->mutable_search_space()->set_kind(kind);
  }
  v1::FeasibleProposalsSpec* f = read->mutable_algorithm()->mutable_feasible_proposals();
  f->set_enabled(true);
  if (draws > 0) f->set_draws(draws);
  if (max_bound_excess > 0) f->set_max_bound_excess(max_bound_excess);
  if (morphism_redraws >= 0) f->set_morphism_redraws(morphism_redraws);
  absl::StatusOr<v1::JobSpec> spec = PrepareJobSpec(*std::move(read));
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", std::string(spec.status().message()).c_str());
    return 1;
  }
  absl::StatusOr<SearchSpace> space = ResolveSearchSpace(spec->search_space());
  if (!space.ok()) return 1;
  const DataShape data = MakeDataShape(spec->input_shape(), spec->num_classes());
  const search::BoundVector bounds = search::MakeBounds(*spec);
  const search::BoundChecker checker(data, bounds);
  search::FeasibleProposalOptions on = search::MakeFeasibleProposalOptions(*spec);
  search::FeasibleProposalOptions off = on;
  off.enabled = false;

  std::printf("config %s%s, seed %llu; draws %d, max_bound_excess %.2f, morphism_redraws %d\n",
              config.c_str(), default_space ? " (default space)" : "",
              static_cast<unsigned long long>(seed), on.draws, on.max_bound_excess,
              on.morphism_redraws);
  std::printf("%-9s %-8s %6s %9s %10s %10s %9s %18s\n", "what", "way", "n", "feasible", "ms/each",
              "draws", "max", "median violation*");

  std::vector<v1::Architecture> parents;  // feasible plain starts
  for (const bool enabled : {false, true}) {
    Tally t;
    for (int i = 0; i < starts; ++i) {
      Rng rng(search::CandidateSeed(seed, i));
      const auto start = Clock::now();
      absl::StatusOr<search::DrawnArchitecture> drawn =
          search::DrawRandomArchitecture(*space, data, checker, enabled ? on : off, rng);
      t.seconds += std::chrono::duration<double>(Clock::now() - start).count();
      if (!drawn.ok()) {
        std::fprintf(stderr, "start %d: %s\n", i, std::string(drawn.status().message()).c_str());
        return 1;
      }
      absl::StatusOr<bool> ok = Feasible(drawn->architecture, data, bounds);
      absl::StatusOr<double> violation = checker.Violation(drawn->architecture);
      if (!ok.ok() || !violation.ok()) return 1;
      ++t.proposals;
      t.draws += drawn->draws;
      t.max_draws = std::max(t.max_draws, drawn->draws);
      if (*ok) {
        ++t.feasible;
        if (!enabled) parents.push_back(drawn->architecture);
      } else {
        t.violations.push_back(*violation);
      }
    }
    Print("start", enabled ? "bounded" : "plain", t);
  }
  if (parents.empty() || children <= 0) {
    std::printf("* of the proposals outside the bounds: max over resources of value / bound\n");
    return 0;
  }
  for (const bool enabled : {false, true}) {
    Tally t;
    for (int j = 0; j < children; ++j) {
      Rng rng(search::CandidateSeed(seed, starts + j));
      const v1::Architecture& parent = parents[static_cast<size_t>(j) % parents.size()];
      const auto start = Clock::now();
      absl::StatusOr<search::DrawnNeighbour> child =
          search::DrawNeighbour(parent, *space, data, checker, enabled ? on : off, rng);
      t.seconds += std::chrono::duration<double>(Clock::now() - start).count();
      if (!child.ok()) {
        std::fprintf(stderr, "child %d: %s\n", j, std::string(child.status().message()).c_str());
        return 1;
      }
      absl::StatusOr<bool> ok = Feasible(child->neighbour.architecture, data, bounds);
      absl::StatusOr<double> violation = checker.Violation(child->neighbour.architecture);
      if (!ok.ok() || !violation.ok()) return 1;
      ++t.proposals;
      t.draws += child->draws;
      t.max_draws = std::max(t.max_draws, child->draws);
      if (*ok) {
        ++t.feasible;
      } else {
        t.violations.push_back(*violation);
      }
    }
    Print("child", enabled ? "bounded" : "plain", t);
  }
  std::printf("children: morphisms of the %zu feasible plain starts\n", parents.size());
  std::printf("* of the proposals outside the bounds: max over resources of value / bound\n");
  return 0;
}

}  // namespace
}  // namespace unas::bench

int main(int argc, char** argv) { return unas::bench::Main(argc, argv); }
