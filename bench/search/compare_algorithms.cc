// Which algorithm finds good networks sooner: aging evolution, Bayesian
// optimisation with the OTMANN and the WL kernel, and random search on the
// same job (the quick demo's space, bounds and recipe by default), the same
// budget and several seeds each. Writes the best feasible validation error
// after every evaluation as CSV, an SVG plot of it (median over seeds, each
// seed faint) and prints how many evaluations each run needed to reach the
// job's error bound with every bound satisfied. Run by hand:
//
//   build/bench/compare_algorithms [--budget 100] [--seeds 5] [--workers 4]
//       [--algorithms aging,bo_otmann,bo_wl,random] [--config FILE]
//       [--out DIR (default docs/benchmarks)] [--name search_comparison_synthetic]
//       [--targets 0.2,0.18 (stricter error targets, also reported)]
//       [--from-csv A.csv,B.csv (no runs: summarise and plot earlier runs' CSVs as one,
//        e.g. two halves of the algorithms run side by side, one per core)]
//       [--seed-list 5,4,3,2,1 (these seeds in this order instead of 1..--seeds)]
//       [--cache DIR (training only; default $TMPDIR/unas_compare_algorithms_cache)]
//       [--skip-factor F (algorithm.skip_infeasible_factor for every run; default the
//        config's)]
//
// compare_algorithms evaluates with the synthetic evaluator (an error that is
// a fixed function of the architecture; minutes). compare_algorithms_training
// (built with LibTorch) trains every candidate for real with the config's
// recipe, one at a time, using --threads LibTorch threads. Its error is made a
// fixed function of the candidate (one data split, a training seed from the
// network's fingerprint; bench/search/shared_evaluation_cache.h), and each
// distinct candidate is trained once across all runs: with the same search
// seed all four algorithms start from the same random networks. Two processes
// sharing --cache (e.g. one per core, --threads 1, the algorithms split
// between them, one with --seed-list 5,4,3,2,1) train nothing twice; merge
// their CSVs with --from-csv.
//
// Each run emulates --workers asynchronous workers on a virtual clock: an
// evaluation takes its measured training time (synthetic: a seeded 0.5-1.5 s
// per candidate), and results arrive in the order they would finish.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/search/search_race.h"
#include "bench/search/shared_evaluation_cache.h"
#include "common/job_spec/loader.h"
#include "coordinator/search/algorithm.h"
#include "report/svg_plot.h"
#include "worker/daemon/synthetic_evaluator.h"
#ifdef UNAS_COMPARE_WITH_TRAINING
#include "worker/daemon/training_evaluator.h"
#endif

namespace unas::bench {
namespace {

struct Flags {
  int budget = 100;
  int seeds = 5;
  int workers = 4;
  int threads = 2;
  std::vector<std::string> algorithms = {"aging", "bo_otmann", "bo_wl", "random"};
  std::string config = std::string(UNAS_SOURCE_DIR) + "/configs/fashion_mnist_quick.textproto";
  std::string out = std::string(UNAS_SOURCE_DIR) + "/docs/benchmarks";
  std::string name;
  std::vector<double> targets;
  // Instead of running: the CSVs of earlier runs (e.g. two halves of the
  // algorithms run side by side on two cores), summarised and plotted as one.
  std::vector<std::string> from_csv;
  std::vector<int> seed_list;  // empty: 1..seeds
  std::optional<double> skip_factor;
  std::string cache =
      (std::filesystem::temp_directory_path() / "unas_compare_algorithms_cache").string();
};

// The config's job with `algorithm` instead of its own. Bayesian
// optimisation starts from as many random points as aging evolution's
// initial population, so both spend the same evaluations on random search
// (at most half the budget).
absl::StatusOr<v1::JobSpec> SpecFor(const Flags& flags, const std::string& algorithm,
                                    uint64_t seed) {
  absl::StatusOr<v1::JobSpec> spec = ReadJobSpecFile(flags.config);
  if (!spec.ok()) return spec.status();
  v1::AlgorithmSpec& a = *spec->mutable_algorithm();
  const int population = a.has_aging_evolution() && a.aging_evolution().has_population_size()
                             ? a.aging_evolution().population_size()
                             : 10;
  if (algorithm == "bo_otmann" || algorithm == "bo_wl") {
    // A budget too small for that (a quick check) still takes BO steps.
    a.mutable_bayesian_optimization()->set_starting_points(
        std::max(1, std::min(population, flags.budget / 2)));
    a.mutable_bayesian_optimization()->set_kernel(algorithm == "bo_wl" ? v1::BO_KERNEL_WL
                                                                       : v1::BO_KERNEL_OTMANN);
  } else if (algorithm == "random") {
    a.mutable_random_search();
  } else if (algorithm == "aging") {
    // A budget below the population (a quick check) shrinks it to fit.
    v1::AgingEvolutionSpec& ae = *a.mutable_aging_evolution();
    if (ae.has_population_size() && ae.population_size() > flags.budget) {
      ae.set_population_size(flags.budget);
      if (ae.sample_size() > flags.budget) ae.set_sample_size(flags.budget);
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown algorithm ", algorithm));
  }
  a.set_rounds(flags.budget);
  if (flags.skip_factor) a.set_skip_infeasible_factor(*flags.skip_factor);
  spec->set_seed(seed);
  spec->set_name(absl::StrCat(spec->name(), "_", algorithm, "_", seed));
  return PrepareJobSpec(*std::move(spec));
}

std::string Csv(double v) { return absl::StrFormat("%.6f", v); }

// Reads rows written by an earlier run (the header below) into the curves of
// best feasible error per algorithm and seed, and copies them to `csv`.
absl::Status ReadCurves(
    const std::string& path, std::ofstream& csv, std::vector<std::string>& algorithms, int& seeds,
    std::map<std::string, std::map<int, std::vector<std::optional<double>>>>& curves) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::string line;
  std::getline(in, line);  // header
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    int seed = 0, evaluation = 0;
    if (fields.size() != 7 || !absl::SimpleAtoi(fields[1], &seed) ||
        !absl::SimpleAtoi(fields[2], &evaluation) || evaluation < 1) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", row, ": not a comparison row"));
    }
    const std::string& algorithm = fields[0];
    if (std::find(algorithms.begin(), algorithms.end(), algorithm) == algorithms.end()) {
      algorithms.push_back(algorithm);
    }
    seeds = std::max(seeds, seed);
    std::vector<std::optional<double>>& curve = curves[algorithm][seed];
    if (curve.size() < static_cast<size_t>(evaluation))
      curve.resize(static_cast<size_t>(evaluation));
    double best = 0;
    if (absl::SimpleAtod(fields[6], &best)) curve[static_cast<size_t>(evaluation - 1)] = best;
    csv << line << "\n";
  }
  return absl::OkStatus();
}

// The median of values where a missing value (never reached) counts as +inf.
std::optional<double> Median(std::vector<std::optional<double>> values) {
  std::vector<double> v;
  for (const std::optional<double>& x : values) v.push_back(x.value_or(INFINITY));
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  double m = v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  if (!std::isfinite(m)) return std::nullopt;
  return m;
}

struct Styles {
  // The median's line (unfilled), its end marker (filled) and each seed's line.
  std::map<std::string, report::svg::Style> median, end, seed;
};

Styles MakeStyles() {
  const std::map<std::string, std::string> colours = {
      {"aging", "#1b9e77"}, {"bo_otmann", "#d95f02"}, {"bo_wl", "#7570b3"}, {"random", "#666666"}};
  Styles s;
  for (const auto& [name, colour] : colours) {
    report::svg::Style& median = s.median[name];
    median.css_class = "median-" + name;
    median.stroke = colour;
    median.stroke_width = 2.5;
    report::svg::Style& end = s.end[name];
    end = median;
    end.fill = colour;
    report::svg::Style& seed = s.seed[name];
    seed.css_class = "seed-" + name;
    seed.stroke = colour;
    seed.opacity = 0.25;
  }
  return s;
}

std::string Label(const std::string& algorithm) {
  if (algorithm == "aging") return "aging evolution";
  if (algorithm == "bo_otmann") return "BO, OTMANN kernel";
  if (algorithm == "bo_wl") return "BO, WL kernel";
  return "random search";
}

int Main(int argc, char** argv) {
  Flags flags;
  bool training = false;
#ifdef UNAS_COMPARE_WITH_TRAINING
  training = true;
  flags.budget = 20;
#endif
  flags.name = training ? "search_comparison_fashion_mnist" : "search_comparison_synthetic";
  for (int i = 1; i < argc; i += 2) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h" || i + 1 >= argc) {
      // A flag without its value would otherwise start an hour-long run.
      std::fprintf(stderr,
                   "usage: %s [--budget N] [--seeds N] [--workers N] [--threads N]\n"
                   "    [--algorithms aging,bo_otmann,bo_wl,random] [--config FILE] [--out DIR]\n"
                   "    [--name NAME] [--targets 0.2,0.18] [--from-csv A.csv,B.csv]\n"
                   "    [--seed-list 5,4,3,2,1] [--cache DIR] [--skip-factor F]\n",
                   argv[0]);
      return std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h" ? 0 : 2;
    }
    const std::string flag = argv[i], value = argv[i + 1];
    int n = 0;
    if (flag == "--budget" && absl::SimpleAtoi(value, &n)) {
      flags.budget = n;
    } else if (flag == "--seeds" && absl::SimpleAtoi(value, &n)) {
      flags.seeds = n;
    } else if (flag == "--workers" && absl::SimpleAtoi(value, &n)) {
      flags.workers = n;
    } else if (flag == "--threads" && absl::SimpleAtoi(value, &n)) {
      flags.threads = n;
    } else if (flag == "--algorithms") {
      flags.algorithms = absl::StrSplit(value, ',');
    } else if (flag == "--config") {
      flags.config = value;
    } else if (flag == "--out") {
      flags.out = value;
    } else if (flag == "--targets") {
      for (absl::string_view t : absl::StrSplit(value, ',')) {
        double target = 0;
        if (absl::SimpleAtod(t, &target)) flags.targets.push_back(target);
      }
    } else if (flag == "--name") {
      flags.name = value;
    } else if (flag == "--seed-list") {
      flags.seed_list.clear();
      for (absl::string_view t : absl::StrSplit(value, ',')) {
        int seed = 0;
        if (!absl::SimpleAtoi(t, &seed) || seed < 1) {
          std::fprintf(stderr, "compare_algorithms: --seed-list: %s is not a seed\n",
                       std::string(t).c_str());
          return 2;
        }
        flags.seed_list.push_back(seed);
      }
      flags.seeds = static_cast<int>(flags.seed_list.size());
    } else if (double f = 0; flag == "--skip-factor" && absl::SimpleAtod(value, &f) && f >= 0) {
      flags.skip_factor = f;
    } else if (flag == "--cache") {
      flags.cache = value;
    } else if (flag == "--from-csv") {
      flags.from_csv = absl::StrSplit(value, ',');
    } else {
      std::fprintf(stderr, "compare_algorithms: unknown flag or value %s %s\n", flag.c_str(),
                   value.c_str());
      return 2;
    }
  }
  if (flags.seed_list.empty()) {
    for (int seed = 1; seed <= flags.seeds; ++seed) flags.seed_list.push_back(seed);
  }
  std::unique_ptr<worker::Evaluator> evaluator;
  std::unique_ptr<worker::Evaluator> trainer;
  SharedEvaluationCache* cache = nullptr;
  RaceOptions race;
  race.workers = flags.workers;
  if (training) {
#ifdef UNAS_COMPARE_WITH_TRAINING
    absl::StatusOr<v1::JobSpec> config = ReadJobSpecFile(flags.config);
    if (!config.ok()) {
      std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
      return 1;
    }
    trainer = std::make_unique<worker::TrainingEvaluator>(flags.threads);
    // The config's own seed picks the one data split every run trains on.
    auto cached = std::make_unique<SharedEvaluationCache>(*trainer, flags.cache, config->seed());
    cache = cached.get();
    evaluator = std::move(cached);
    std::printf("training with %d thread(s); results shared through %s\n", flags.threads,
                flags.cache.c_str());
#endif
  } else {
    evaluator = std::make_unique<worker::SyntheticEvaluator>();
  }
  std::optional<double> error_bound;
  std::filesystem::create_directories(flags.out);
  const std::string csv_path = flags.out + "/" + flags.name + ".csv";
  for (const std::string& path : flags.from_csv) {
    std::error_code error;
    if (std::filesystem::equivalent(path, csv_path, error)) {
      std::fprintf(stderr, "compare_algorithms: --from-csv %s is also the output; pick --name\n",
                   path.c_str());
      return 2;
    }
  }
  std::ofstream csv(csv_path);
  csv << "algorithm,seed,evaluation,candidate_id,validation_error,feasible,best_feasible_error\n";
  // curves[algorithm][seed index][evaluation]
  std::map<std::string, std::vector<std::vector<std::optional<double>>>> curves;
  std::map<std::string, std::vector<std::optional<double>>> reached, final_best;
  if (!flags.from_csv.empty()) {
    absl::StatusOr<v1::JobSpec> spec = SpecFor(flags, "aging", 1);
    if (spec.ok() && spec->bounds().has_error()) error_bound = spec->bounds().error();
    flags.algorithms.clear();
    flags.seeds = 0;
    std::map<std::string, std::map<int, std::vector<std::optional<double>>>> read;
    for (const std::string& path : flags.from_csv) {
      if (absl::Status s = ReadCurves(path, csv, flags.algorithms, flags.seeds, read); !s.ok()) {
        std::fprintf(stderr, "compare_algorithms: %s\n", std::string(s.message()).c_str());
        return 1;
      }
    }
    flags.budget = 0;
    for (auto& [algorithm, by_seed] : read) {
      for (auto& [seed, curve] : by_seed) {
        std::optional<double> first;
        for (size_t i = 0; i < curve.size() && !first; ++i) {
          if (curve[i]) first = static_cast<double>(i + 1);
        }
        reached[algorithm].push_back(first);
        final_best[algorithm].push_back(curve.empty() ? std::nullopt : curve.back());
        flags.budget = std::max(flags.budget, static_cast<int>(curve.size()));
        curves[algorithm].push_back(std::move(curve));
      }
    }
  }
  // With --from-csv the curves are read above; nothing runs.
  const std::vector<std::string> to_run =
      flags.from_csv.empty() ? flags.algorithms : std::vector<std::string>{};
  for (const std::string& algorithm : to_run) {
    for (int seed : flags.seed_list) {
      absl::StatusOr<v1::JobSpec> spec = SpecFor(flags, algorithm, static_cast<uint64_t>(seed));
      if (!spec.ok()) {
        std::fprintf(stderr, "%s\n", std::string(spec.status().message()).c_str());
        return 1;
      }
      if (spec->bounds().has_error()) error_bound = spec->bounds().error();
      if (!training) {
        race.duration_seconds = [seed](const v1::Task& task, const v1::EvaluationResult&) {
          const uint64_t h =
              search::CandidateSeed(static_cast<uint64_t>(seed) * 7919 + 13, task.candidate_id());
          return 0.5 + static_cast<double>(h % 10000) / 10000.0;
        };
      }
      race.db_path = (std::filesystem::temp_directory_path() /
                      absl::StrCat("compare_algorithms_", getpid(), ".db"))
                         .string();
      absl::StatusOr<RaceResult> result = RunRace(*spec, *evaluator, race);
      if (!result.ok()) {
        std::fprintf(stderr, "%s seed %d: %s\n", algorithm.c_str(), seed,
                     std::string(result.status().message()).c_str());
        return 1;
      }
      std::vector<std::optional<double>> curve = BestFeasibleCurve(result->history);
      std::optional<double> first;
      for (size_t i = 0; i < result->history.size(); ++i) {
        const RaceEvaluation& e = result->history[i];
        csv << algorithm << "," << seed << "," << i + 1 << "," << e.candidate_id << ","
            << Csv(e.validation_error) << "," << (e.feasible ? 1 : 0) << ","
            << (curve[i] ? Csv(*curve[i]) : "") << "\n";
        // Feasible means every bound, the error bound included, holds.
        if (!first && curve[i]) first = static_cast<double>(i + 1);
      }
      reached[algorithm].push_back(first);
      final_best[algorithm].push_back(curve.empty() ? std::nullopt : curve.back());
      std::printf(
          "%-10s seed %d: %zu evaluations (%d skipped) in %.1f s wall; bound first met at %s; "
          "best feasible error %s%s\n",
          algorithm.c_str(), seed, result->history.size(), result->skipped, result->wall_seconds,
          first ? absl::StrCat(static_cast<int>(*first)).c_str() : "never",
          curve.empty() || !curve.back() ? "none" : absl::StrFormat("%.4f", *curve.back()).c_str(),
          cache ? absl::StrFormat(" (trained so far %d, reused %d)", cache->trained(),
                                  cache->reused())
                      .c_str()
                : "");
      std::fflush(stdout);
      curves[algorithm].push_back(std::move(curve));
    }
  }
  csv.close();

  std::printf("\nmedian over %d seeds, budget %d, %d workers (error bound %s):\n", flags.seeds,
              flags.budget, flags.workers,
              error_bound ? absl::StrFormat("%.3f", *error_bound).c_str() : "none");
  for (const std::string& algorithm : flags.algorithms) {
    std::optional<double> m = Median(reached[algorithm]);
    std::optional<double> best = Median(final_best[algorithm]);
    std::string runs;
    for (const std::optional<double>& r : reached[algorithm]) {
      absl::StrAppend(&runs, runs.empty() ? "" : " ", r ? absl::StrCat(static_cast<int>(*r)) : "-");
    }
    std::printf(
        "  %-10s evaluations to reach the bound: median %s (runs: %s); best feasible "
        "error at the budget: median %s\n",
        algorithm.c_str(), m ? absl::StrFormat("%g", *m).c_str() : "not reached", runs.c_str(),
        best ? absl::StrFormat("%.4f", *best).c_str() : "none");
    for (double target : flags.targets) {
      std::vector<std::optional<double>> firsts;
      std::string target_runs;
      for (const auto& curve : curves[algorithm]) {
        std::optional<double> first;
        for (size_t i = 0; i < curve.size() && !first; ++i) {
          if (curve[i] && *curve[i] <= target) first = static_cast<double>(i + 1);
        }
        firsts.push_back(first);
        absl::StrAppend(&target_runs, target_runs.empty() ? "" : " ",
                        first ? absl::StrCat(static_cast<int>(*first)) : "-");
      }
      std::optional<double> mt = Median(firsts);
      std::printf("  %-10s   feasible error <= %.3f: median %s (runs: %s)\n", "", target,
                  mt ? absl::StrFormat("%g", *mt).c_str() : "not reached", target_runs.c_str());
    }
  }

  // The plot: per algorithm, the median curve over seeds and each seed faint.
  Styles styles = MakeStyles();
  report::svg::Style bound_style;
  bound_style.css_class = "bound-line";
  bound_style.stroke = "#b2182b";
  bound_style.dash = "6,4";
  report::svg::Plot plot;
  plot.id = flags.name;
  plot.title = absl::StrCat("Best feasible validation error, ",
                            training ? "Fashion-MNIST training" : "synthetic evaluator", " (",
                            flags.seeds, " seeds, median bold; ", flags.workers, " workers)");
  plot.x_label = "evaluations";
  plot.y_label = "best feasible validation error";
  plot.x_integer = true;
  plot.x_format = [](double x) { return absl::StrFormat("%g", x); };
  plot.y_format = [](double y) { return absl::StrFormat("%.2f", y); };
  plot.width = 800;
  plot.height = 440;
  plot.empty_message = "No feasible candidate";
  if (error_bound) {
    report::svg::RefLine bound;
    bound.value = *error_bound;
    bound.label = "error bound";
    bound.style = &bound_style;
    plot.ref_lines.push_back(bound);
  }
  for (const std::string& algorithm : flags.algorithms) {
    const auto& runs = curves[algorithm];
    for (const auto& curve : runs) {
      report::svg::Polyline line;
      line.step = true;
      line.style = &styles.seed[algorithm];
      for (size_t i = 0; i < curve.size(); ++i) {
        if (curve[i]) line.points.emplace_back(static_cast<double>(i + 1), *curve[i]);
      }
      if (!line.points.empty()) plot.lines.push_back(std::move(line));
    }
    report::svg::Polyline median;
    median.step = true;
    median.style = &styles.median[algorithm];
    for (int i = 0; i < flags.budget; ++i) {
      std::vector<std::optional<double>> at;
      for (const auto& curve : runs) {
        if (static_cast<size_t>(i) < curve.size()) at.push_back(curve[static_cast<size_t>(i)]);
      }
      if (std::optional<double> m = Median(at)) {
        median.points.emplace_back(static_cast<double>(i + 1), *m);
      }
    }
    if (!median.points.empty()) {
      report::svg::Point end;
      end.x = median.points.back().first;
      end.y = median.points.back().second;
      end.style = &styles.end[algorithm];
      end.tooltip =
          absl::StrCat(Label(algorithm), ": median best ", absl::StrFormat("%.4f", end.y));
      plot.points.push_back(end);
      plot.lines.push_back(std::move(median));
    }
    report::svg::LegendEntry entry;
    entry.marker = report::svg::Marker::kLine;
    entry.style = &styles.median[algorithm];
    entry.label = Label(algorithm);
    plot.legend.push_back(entry);
  }
  const std::string svg_path = flags.out + "/" + flags.name + ".svg";
  std::ofstream(svg_path) << report::svg::Render(plot);
  std::printf("wrote %s and %s\n", csv_path.c_str(), svg_path.c_str());
  return 0;
}

}  // namespace
}  // namespace unas::bench

int main(int argc, char** argv) { return unas::bench::Main(argc, argv); }
