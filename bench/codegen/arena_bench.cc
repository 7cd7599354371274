// The arena planner and the generated C (docs/deploy.md):
// (a) 1,000 random architectures of the default CNN space on 28x28x1
//     inputs: arena / PMU (both with the input, in the PMU's order) as
//     median, 99th percentile and largest ratio, how many reach the PMU, the
//     planner's mean and largest time per network, and which placement won;
// (b) one random CNN with random int8 weights: images per CPU second of the
//     generated C (gcc -O2, one process, start-up included) against the
//     reference interpreter.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <vector>

#include "codegen/c_project.h"
#include "codegen/memory_plan.h"
#include "codegen/write_files.h"
#include "common/search_space/random_architecture.h"
#include "common/search_space/resource_graph.h"
#include "int8/interpreter.h"
#include "resource_models/pmu.h"
#include "tests/codegen/random_models.h"

namespace unas::codegen {
namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t index = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

void BM_ArenaOverPmuRandomCnnSpace(benchmark::State& state) {
  const DataShape data{28, 28, 1, 10};
  const SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  std::vector<rm::Graph> graphs;
  Rng rng(7);
  while (graphs.size() < 1000) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    if (!arch.ok()) continue;
    absl::StatusOr<rm::Graph> g = BuildResourceGraph(*arch, data);
    if (g.ok()) graphs.push_back(*std::move(g));
  }
  std::vector<double> ratios, micros;
  std::vector<int> wins(5, 0);
  int exact = 0, chains = 0, chains_missed = 0;
  for (auto _ : state) {
    for (const rm::Graph& g : graphs) {
      absl::StatusOr<rm::PmuResult> pmu = rm::ComputePmu(
          g, {.include_input = true, .on_search_limit = rm::SearchLimitPolicy::kUpperBound});
      if (!pmu.ok()) {
        state.SkipWithError(std::string(pmu.status().message()).c_str());
        return;
      }
      const Clock::time_point start = Clock::now();
      absl::StatusOr<MemoryPlan> plan = PlanMemory(g, pmu->order);
      micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (!plan.ok() || !CheckMemoryPlan(*plan).ok()) {
        state.SkipWithError("planning failed");
        return;
      }
      ratios.push_back(static_cast<double>(plan->arena_bytes) /
                       static_cast<double>(pmu->peak_bytes));
      exact += plan->arena_bytes == pmu->peak_bytes ? 1 : 0;
      bool chain = true;
      for (const rm::Tensor& t : g.tensors()) chain = chain && t.consumers.size() <= 1;
      chains += chain ? 1 : 0;
      chains_missed += chain && plan->arena_bytes != pmu->peak_bytes ? 1 : 0;
      ++wins[static_cast<int>(plan->placement)];
    }
  }
  state.counters["median"] = Percentile(ratios, 0.5);
  state.counters["p99"] = Percentile(ratios, 0.99);
  state.counters["max"] = *std::max_element(ratios.begin(), ratios.end());
  state.counters["at_pmu"] = exact;
  state.counters["chains"] = chains;
  state.counters["chains_above_pmu"] = chains_missed;
  state.counters["plan_us_mean"] =
      std::accumulate(micros.begin(), micros.end(), 0.0) / static_cast<double>(micros.size());
  state.counters["plan_us_max"] = *std::max_element(micros.begin(), micros.end());
  state.counters["won_first_fit"] = wins[0];
  state.counters["won_best_fit"] = wins[1];
  state.counters["won_breadth_first_fit"] = wins[2];
  state.counters["won_breadth_best_fit"] = wins[3];
  state.counters["won_two_ended"] = wins[4];
}
BENCHMARK(BM_ArenaOverPmuRandomCnnSpace)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_GeneratedCAgainstInterpreter(benchmark::State& state) {
  Rng rng(12);
  absl::StatusOr<v1::QuantizedModel> model =
      testing::RandomModel(SpaceKind::kCnn, {28, 28, 1, 10}, rng, 5);
  absl::StatusOr<int8::Interpreter> interpreter =
      model.ok() ? int8::Interpreter::Create(*model) : model.status();
  absl::StatusOr<CProject> project = model.ok() ? GenerateCProject(*model) : model.status();
  if (!project.ok() || !interpreter.ok()) {
    state.SkipWithError("model generation failed");
    return;
  }
  const int count = 5000;
  std::mt19937 values(1);
  std::uniform_int_distribution<int> value(-128, 127);
  std::vector<int8_t> inputs(interpreter->input_size() * count);
  for (int8_t& v : inputs) v = static_cast<int8_t>(value(values));
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("unas_codegen_bench_" + std::to_string(getpid()));
  if (!WriteFolder(dir, project->files).ok() ||
      std::system(("make -s -C " + dir.string() + " host > /dev/null").c_str()) != 0) {
    state.SkipWithError("could not build the generated project");
    return;
  }
  std::ofstream(dir / "in.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(inputs.data()),
             static_cast<std::streamsize>(inputs.size()));
  // CPU seconds (user + system), robust on a shared machine: the child's for
  // the C program (start-up included), this thread's for the interpreter.
  auto cpu_seconds = [](int who) {
    rusage usage{};
    getrusage(who, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  };
  double c_seconds = 0, interpreter_seconds = 0;
  for (auto _ : state) {
    double start = cpu_seconds(RUSAGE_CHILDREN);
    const int rc =
        std::system(("cd " + dir.string() + " && ./unas_run logits < in.bin > out.bin").c_str());
    c_seconds = cpu_seconds(RUSAGE_CHILDREN) - start;
    if (rc != 0) state.SkipWithError("unas_run failed");
    std::vector<int8_t> logits(interpreter->output_size());
    start = cpu_seconds(RUSAGE_THREAD);
    for (int i = 0; i < count; ++i) {
      interpreter->Run(&inputs[i * interpreter->input_size()], logits.data());
    }
    interpreter_seconds = cpu_seconds(RUSAGE_THREAD) - start;
  }
  std::filesystem::remove_all(dir);
  state.counters["c_images_per_s"] = count / c_seconds;
  state.counters["interpreter_images_per_s"] = count / interpreter_seconds;
  state.counters["arena_bytes"] = static_cast<double>(project->info.arena_bytes);
  state.counters["flash_bytes"] = static_cast<double>(project->info.flash_bytes);
}
BENCHMARK(BM_GeneratedCAgainstInterpreter)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace unas::codegen

BENCHMARK_MAIN();
