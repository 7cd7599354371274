// Speed of Bayesian optimisation: one OTMANN distance between two random
// default-space CNNs, and one BO step (GP on the cached distances + the
// 300-evaluation acquisition) at 100, 400 and 800 observations, on
// Fashion-MNIST's shape with cnn_fashion_bo's bounds. Run by hand:
//   build/bench/bo_step [--observations 100,400,800] [--kernel otmann|wl|both]
//                       [--threads N (default: up to 2)] [--pending N (default 0)]
// --pending gives each step N in-flight random candidates (parallel workers:
// the GP is then built on the evaluations plus hallucinated pending points).
// Each step prints the fingerprint of its proposal, so that a change's effect
// on proposals can be seen.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/network_plan.h"
#include "common/search_space/random_architecture.h"
#include "coordinator/search/bayesian_optimization.h"
#include "coordinator/search/bo/otmann.h"

namespace unas::search {
namespace {

using Clock = std::chrono::steady_clock;
const DataShape kData{28, 28, 1, 10};

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A smooth error of the network's size (as the synthetic evaluator's).
double Error(const v1::Architecture& arch) {
  absl::StatusOr<NetworkPlan> plan = PlanNetwork(arch, kData);
  double params = plan.ok() ? static_cast<double>(plan->parameter_count()) : 0.0;
  return 0.08 + 0.6 * std::exp(-params / 8000.0);
}

void DistanceBench() {
  Rng rng(1);
  SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  std::vector<bo::LayerGraph> graphs;
  while (graphs.size() < 200) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, kData, rng);
    absl::StatusOr<bo::ArchAnalysis> a = bo::AnalyseArchitecture(*arch, kData);
    if (a.ok()) graphs.push_back(std::move(a->graph));
  }
  std::vector<double> times;
  double layers = 0;
  for (size_t i = 0; i + 1 < graphs.size(); ++i) {
    auto start = Clock::now();
    constexpr int kRepeats = 20;
    for (int r = 0; r < kRepeats; ++r) bo::ComputeOtmannDistance(graphs[i], graphs[i + 1]);
    times.push_back(Seconds(start) / kRepeats * 1e6);
    layers += static_cast<double>(graphs[i].layers.size());
  }
  std::sort(times.begin(), times.end());
  double mean = 0;
  for (double t : times) mean += t / static_cast<double>(times.size());
  std::printf(
      "OTMANN distance, default CNN space on 28x28x1 (%zu pairs, mean %.1f layers): median %.1f "
      "us, mean %.1f us, p90 %.1f us (5 transports per distance, one per coefficient pair)\n",
      times.size(), layers / static_cast<double>(times.size()), times[times.size() / 2], mean,
      times[times.size() * 9 / 10]);
}

void StepBench(bo::KernelKind kernel, int n, int threads, int pending_count) {
  BayesianOptimizationOptions options;
  options.starting_points = 15;
  options.seed = 7;
  options.space = DefaultSearchSpace(SpaceKind::kCnn);
  options.data = kData;
  options.bounds = {0.10, 64000.0, 64000.0, 1e6};  // cnn_fashion_bo
  options.kernel = kernel;
  options.threads = threads;
  BayesianOptimization bo(options);
  Rng rng(3);
  auto start = Clock::now();
  for (int id = 1; id <= n; ++id) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(options.space, kData, rng);
    Evaluated e;
    e.candidate_id = id;
    e.architecture = *arch;
    e.objectives = {Error(*arch), 0, 0, 0};
    bo.Observe(e);
  }
  double observe = Seconds(start);
  std::vector<v1::Architecture> in_flight;
  std::vector<PendingCandidate> pending;
  for (int q = 0; q < pending_count; ++q) {
    in_flight.push_back(*RandomArchitecture(options.space, kData, rng));
  }
  for (int q = 0; q < pending_count; ++q) {
    pending.push_back({n + 100 + q, &in_flight[static_cast<size_t>(q)], std::nullopt});
  }
  const char* name = kernel == bo::KernelKind::kOtmann ? "otmann" : "wl";
  for (int step = 0; step < 2; ++step) {
    ProposalContext context;
    context.candidate_id = n + 1 + step;
    context.evaluations_done = n;
    context.in_flight = pending_count;
    start = Clock::now();
    std::clock_t cpu_start = std::clock();
    absl::StatusOr<std::optional<Proposal>> p =
        pending.empty() ? bo.Propose(context) : bo.ProposeWithPending(context, pending);
    double total = Seconds(start);
    double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (!p.ok()) {
      std::printf("%s n=%d: %s\n", name, n, std::string(p.status().message()).c_str());
      return;
    }
    const BoStepReport& r = bo.last_step();
    std::printf(
        "%-6s n=%3d %s: step %.2f s (cpu %.2f s) = hyper-parameter fit %.2f s + GP (Gram%s, "
        "Cholesky, %d pending) %.2f s "
        "+ acquisition %.2f s (%d candidates, %d posteriors); observing all %d took %.1f s; "
        "projection removed %.2g of the Gram's eigenvalue norm; proposal %016llx\n",
        name, n, r.refitted ? "with refit   " : "without refit", total, cpu, r.fit_seconds,
        r.gram_projected ? " projected" : "", r.pending, r.model_seconds, r.acquisition_seconds,
        r.candidates, r.gp_evaluations, n, observe, r.projection_removed,
        *p ? static_cast<unsigned long long>(Fingerprint((*p)->architecture, kData)) : 0ULL);
  }
}

}  // namespace
}  // namespace unas::search

int main(int argc, char** argv) {
  std::vector<int> sizes = {100, 400, 800};
  std::string kernel = "both";
  int threads = 0;
  int pending = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--observations") {
      sizes.clear();
      for (absl::string_view s : absl::StrSplit(argv[i + 1], ',')) {
        int n = 0;
        if (absl::SimpleAtoi(s, &n) && n > 0) sizes.push_back(n);
      }
    } else if (flag == "--kernel") {
      kernel = argv[i + 1];
    } else if (flag == "--threads") {
      threads = std::atoi(argv[i + 1]);
    } else if (flag == "--pending") {
      pending = std::atoi(argv[i + 1]);
    }
  }
  unas::search::DistanceBench();
  for (int n : sizes) {
    if (kernel != "wl")
      unas::search::StepBench(unas::search::bo::KernelKind::kOtmann, n, threads, pending);
    if (kernel != "otmann") {
      unas::search::StepBench(unas::search::bo::KernelKind::kWeisfeilerLehman, n, threads, pending);
    }
  }
  return 0;
}
