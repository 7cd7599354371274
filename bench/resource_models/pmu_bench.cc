// PMU timing: (a) a 20-layer chain, (b) 9 sibling branches of 5 ops between a fork and an Add
// (plus the main path), (c) a sweep over 1..9 sibling branches. The graphs mimic the CNN space:
// 1x1/3x3 convolutions with varying filter counts, a pre-pool, a depthwise conv.
// (d) adversarial fork/joins: 9 chains of 1..5 operators with random sizes, where the fork buffer's
// release couples the chains; reports the mean, 99th percentile and largest time per graph, so the
// cost of the exact fallback search is visible, not only the common case.
// (e) 20,000 random architectures of the default CNN space on 28x28x1 inputs (what a search
// computes per candidate): mean, 99th and 99.9th percentile and largest time per graph.
// (f) Partition gadgets (docs/resource_models.md, "Hardness"): n numbers become n + 1 coupled
// chains whose PMU answers a Partition instance; 100 random instances per n, to show how the
// exact search grows on inputs that are NP-hard by construction.
// (g) 2,000 random architectures of the widest CNN space the job spec allows (32 conv blocks of
// up to 8 layers), where sibling branches are most numerous.

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "resource_models/graph.h"
#include "resource_models/pmu.h"

namespace unas::rm {
namespace {

Graph Chain(int layers) {
  Graph g;
  TensorId x = *g.AddInput("input", {1, 49, 40, 1});
  for (int i = 0; i < layers; ++i) {
    const std::string name = "conv" + std::to_string(i);
    x = *g.AddConv2D(name, x, {.filters = 4 + (i * 7) % 13, .kernel = i % 3 == 0 ? 3 : 1});
  }
  x = *g.AddDense("logits", x, {.units = 10});
  (void)g.MarkOutput(x);
  return g;
}

// Stem conv -> fork -> main path (3 ops) + `branches` sibling branches of 5 ops -> Add -> dense.
Graph Branches(int branches) {
  Graph g;
  TensorId x = *g.AddInput("input", {1, 32, 32, 3});
  x = *g.AddConv2D("stem", x, {.filters = 16, .kernel = 3, .stride = 2});  // 15x15x16
  std::vector<TensorId> tails;
  TensorId m = *g.AddConv2D("main0", x, {.filters = 24, .kernel = 3});  // 13x13x24
  m = *g.AddDepthwiseConv2D("main1", m, {.kernel = 3});                 // 11x11x24
  m = *g.AddConv2D("main2", m, {.filters = 32, .kernel = 1});           // 11x11x32
  tails.push_back(m);
  for (int b = 0; b < branches; ++b) {
    const std::string p = "br" + std::to_string(b) + "_";
    const int f = 8 + 4 * (b % 5);
    TensorId t = *g.AddConv2D(p + "0", x, {.filters = f, .kernel = 1});      // 15x15xf
    t = *g.AddPool(p + "1", t, {.pool_h = 1 + b % 2, .pool_w = 1 + b % 2});  // pre-pool
    t = *g.AddDepthwiseConv2D(p + "2", t, {.kernel = 1 + 2 * (b % 2 == 0)});
    t = *g.AddConv2D(p + "3", t, {.filters = 2 * f, .kernel = 1});
    t = *g.AddConv2D(p + "4", t, {.filters = 32, .kernel = 1});
    tails.push_back(t);
  }
  x = *g.AddAdd("add", tails);
  x = *g.AddPool("pool", x, {.pool_h = 2, .pool_w = 2});
  x = *g.AddDense("logits", x, {.units = 10});
  (void)g.MarkOutput(x);
  return g;
}

void Run(benchmark::State& state, const Graph& g) {
  int64_t peak = 0;
  for (auto _ : state) {
    absl::StatusOr<PmuResult> r = ComputePmu(g);
    if (!r.ok()) {
      state.SkipWithError(std::string(r.status().message()).c_str());
      return;
    }
    peak = r->peak_bytes;
    benchmark::DoNotOptimize(peak);
  }
  state.counters["pmu_bytes"] = static_cast<double>(peak);
  state.counters["ops"] = g.num_ops() - 1;
}

void BM_Chain20(benchmark::State& state) { Run(state, Chain(20)); }
BENCHMARK(BM_Chain20)->Unit(benchmark::kMicrosecond);

void BM_NineBranchesOfFive(benchmark::State& state) { Run(state, Branches(9)); }
BENCHMARK(BM_NineBranchesOfFive)->Unit(benchmark::kMicrosecond);

void BM_BranchSweep(benchmark::State& state) {
  Run(state, Branches(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_BranchSweep)->DenseRange(1, 9)->Unit(benchmark::kMicrosecond);

// A fork of random width into `chains` chains of 1..5 pointwise convolutions (random filter
// counts, an occasional 2x2 pool) on 8x8 maps, joined by a zero-padding Add.
Graph RandomForkJoin(std::mt19937_64& rng, int chains) {
  auto filters = [&] {
    // Mostly small, sometimes large: the coupling matters most when sizes differ widely.
    return static_cast<int>(rng() % 4 == 0 ? 32 + rng() % 97 : 1 + rng() % 24);
  };
  Graph g;
  TensorId x = *g.AddInput("input", {1, 8, 8, 4});
  x = *g.AddConv2D("fork", x, {.filters = filters(), .kernel = 1});
  std::vector<TensorId> tails;
  for (int c = 0; c < chains; ++c) {
    TensorId t = x;
    const int ops = 1 + static_cast<int>(rng() % 5);
    for (int k = 0; k < ops; ++k) {
      const std::string name = "c" + std::to_string(c) + "_" + std::to_string(k);
      const bool pool = k > 0 && rng() % 6 == 0 && g.tensor(t).shape[1] >= 2;
      t = pool ? *g.AddPool(name, t, {.pool_h = 2, .pool_w = 2})
               : *g.AddConv2D(name, t, {.filters = filters(), .kernel = 1});
    }
    tails.push_back(t);
  }
  x = *g.AddAdd("join", tails);
  x = *g.AddDense("logits", x, {.units = 10});
  (void)g.MarkOutput(x);
  return g;
}

// Times ComputePmu on every graph once per iteration; reports per-graph statistics.
void RunEach(benchmark::State& state, const std::vector<Graph>& graphs) {
  std::vector<double> micros(graphs.size());
  for (auto _ : state) {
    for (size_t i = 0; i < graphs.size(); ++i) {
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<PmuResult> r = ComputePmu(graphs[i]);
      micros[i] =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count();
      if (!r.ok()) {
        state.SkipWithError(std::string(r.status().message()).c_str());
        return;
      }
      benchmark::DoNotOptimize(r->peak_bytes);
    }
  }
  std::sort(micros.begin(), micros.end());
  const double n = static_cast<double>(micros.size());
  state.counters["graphs"] = n;
  state.counters["mean_us"] = std::accumulate(micros.begin(), micros.end(), 0.0) / n;
  state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  state.counters["p999_us"] = micros[micros.size() * 999 / 1000];
  state.counters["max_us"] = micros.back();
}

void BM_AdversarialForkJoins(benchmark::State& state) {
  std::mt19937_64 rng(20261122);
  std::vector<Graph> graphs;
  for (int i = 0; i < 2000; ++i) graphs.push_back(RandomForkJoin(rng, 9));
  RunEach(state, graphs);
}
BENCHMARK(BM_AdversarialForkJoins)->Unit(benchmark::kMillisecond)->Iterations(1);

// `count` resource graphs of random architectures of `space` on 28x28x1 inputs.
std::vector<Graph> RandomCnnGraphs(const SearchSpace& space, size_t count) {
  const DataShape data{28, 28, 1, 10};
  Rng rng(7);
  std::vector<Graph> graphs;
  while (graphs.size() < count) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    if (!arch.ok()) continue;
    absl::StatusOr<Graph> g = BuildResourceGraph(*arch, data);
    if (g.ok()) graphs.push_back(std::move(*g));
  }
  return graphs;
}

void BM_RandomCnnSpace(benchmark::State& state) {
  RunEach(state, RandomCnnGraphs(DefaultSearchSpace(SpaceKind::kCnn), 20000));
}
BENCHMARK(BM_RandomCnnSpace)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_WidestCnnSpace(benchmark::State& state) {
  SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  space.cnn.max_conv_blocks = 32;
  space.cnn.max_layers_per_block = 8;
  RunEach(state, RandomCnnGraphs(space, 2000));
}
BENCHMARK(BM_WidestCnnSpace)->Unit(benchmark::kMillisecond)->Iterations(1);

// Partition instance w -> fork of 2V bytes into chains [2v, 2V - v, v] (v = 2w, V = sum of v)
// and [V], on 1x1 maps (one byte per channel); the PMU is 9V/2 iff w splits into equal halves.
Graph PartitionGadget(const std::vector<int>& w) {
  int v_total = 0;
  for (int x : w) v_total += 2 * x;
  Graph g;
  const TensorId in = *g.AddInput("input", {1, 1, 1, 1});
  const TensorId fork = *g.AddConv2D("fork", in, {.filters = 2 * v_total, .kernel = 1});
  std::vector<TensorId> tails;
  for (size_t c = 0; c <= w.size(); ++c) {
    const std::vector<int> sizes =
        c < w.size() ? std::vector<int>{4 * w[c], 2 * v_total - 2 * w[c], 2 * w[c]}
                     : std::vector<int>{v_total};
    TensorId t = fork;
    for (size_t k = 0; k < sizes.size(); ++k) {
      const std::string name = "c" + std::to_string(c) + "_" + std::to_string(k);
      t = *g.AddConv2D(name, t, {.filters = sizes[k], .kernel = 1});
    }
    tails.push_back(t);
  }
  const TensorId x = *g.AddDense("logits", *g.AddAdd("join", tails), {.units = 2});
  (void)g.MarkOutput(x);
  return g;
}

void BM_PartitionGadgets(benchmark::State& state) {
  std::mt19937_64 rng(state.range(0));
  std::vector<Graph> graphs;
  for (int i = 0; i < 100; ++i) {
    std::vector<int> w(state.range(0));
    for (int& x : w) x = 1 + static_cast<int>(rng() % 100);
    graphs.push_back(PartitionGadget(w));
  }
  RunEach(state, graphs);
}
BENCHMARK(BM_PartitionGadgets)->DenseRange(2, 10, 2)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace unas::rm

BENCHMARK_MAIN();
