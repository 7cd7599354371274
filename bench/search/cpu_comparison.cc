// Does the search beat random sampling per CPU-second at tight MCU bounds?
// Three ways to search the same job, several seeds each, with the training
// time spent (stopped candidates' partial time included) as the budget:
//
//   unas_aging      μNAS: aging evolution from plain random starts, every
//                   candidate trained in full
//   random_bounded  random search drawn within the resource bounds
//   aging_both      aging evolution with both features: random starts and
//                   morphism children drawn within the bounds, and the
//                   automated (median) stopping rule
//
// Every arm trains with the job's learning curve on (so that every arm pays
// the same per-candidate cost and one shared evaluation cache serves all),
// but only aging_both stops candidates. Writes per-evaluation rows as CSV, a
// plot of the median best feasible error against training seconds, and a
// text summary: the median training time to reach an easy and a hard error
// target, the best feasible error at the budget, the share of training time
// spent on networks outside the resource bounds, and the ratios the search
// must beat. Run by hand:
//
//   build/bench/cpu_comparison[_training] [--config configs/fashion_mnist_tight.textproto]
//       [--arms unas_aging,random_bounded,aging_both] [--seeds 5 | --seed-list 5,4,3,2,1]
//       [--cpu-budget 1200] [--workers 4] [--threads 1] [--targets 0.25,0.2]
//       [--cache DIR] [--out docs/benchmarks] [--name NAME] [--from-csv A.csv,B.csv]
//
// cpu_comparison uses the synthetic evaluator (seconds; a check of the
// pipeline, not evidence); cpu_comparison_training trains for real through
// the shared evaluation cache (bench/search/shared_evaluation_cache.h), so
// two processes side by side (one per core, --threads 1, the seeds split)
// train nothing twice and a rerun resumes; merge their CSVs with --from-csv.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
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
  std::string config = std::string(UNAS_SOURCE_DIR) + "/configs/fashion_mnist_tight.textproto";
  std::vector<std::string> arms = {"unas_aging", "random_bounded", "aging_both"};
  int seeds = 5;
  std::vector<int> seed_list;
  double cpu_budget = 1200;
  int workers = 4;
  int threads = 1;
  std::vector<double> targets;  // easy, hard; default from the config's error bound
  std::string cache =
      (std::filesystem::temp_directory_path() / "unas_cpu_comparison_cache").string();
  std::string out = std::string(UNAS_SOURCE_DIR) + "/docs/benchmarks";
  std::string name;
  std::vector<std::string> from_csv;
};

// One evaluation row of one run.
struct Row {
  std::string arm;
  int seed = 0;
  RaceEvaluation e;
};

// The config's job as `arm` searches it, ended by the CPU budget alone.
absl::StatusOr<v1::JobSpec> SpecFor(const Flags& flags, const std::string& arm, int seed) {
  absl::StatusOr<v1::JobSpec> spec = ReadJobSpecFile(flags.config);
  if (!spec.ok()) return spec.status();
  v1::AlgorithmSpec& a = *spec->mutable_algorithm();
  v1::AgingEvolutionSpec aging = a.aging_evolution();
  if (arm == "unas_aging" || arm == "aging_both") {
    *a.mutable_aging_evolution() = aging;
  } else if (arm == "random_bounded") {
    a.mutable_random_search();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown arm \"", arm, "\" (unas_aging, random_bounded, aging_both)"));
  }
  a.mutable_feasible_proposals()->set_enabled(arm != "unas_aging");
  if (arm == "aging_both") {
    if (!spec->has_automated_stopping()) spec->mutable_automated_stopping();
  } else {
    spec->clear_automated_stopping();
  }
  // Every arm measures the curve (same cost, one cache); rounds never end a run.
  if (!spec->training().has_learning_curve()) spec->mutable_training()->mutable_learning_curve();
  a.set_rounds(100000);
  spec->set_seed(static_cast<uint64_t>(seed));
  spec->set_name(absl::StrCat(spec->name(), "_", arm, "_", seed));
  return PrepareJobSpec(*std::move(spec));
}

constexpr char kHeader[] =
    "arm,seed,evaluation,candidate_id,validation_error,feasible,within_resource_bounds,stopped,"
    "seconds,spent_seconds";

std::string CsvRow(const Row& r, int evaluation) {
  return absl::StrFormat("%s,%d,%d,%d,%.6f,%d,%d,%d,%.3f,%.3f", r.arm, r.seed, evaluation,
                         r.e.candidate_id, r.e.validation_error, r.e.feasible ? 1 : 0,
                         r.e.within_resource_bounds ? 1 : 0, r.e.stopped ? 1 : 0, r.e.seconds,
                         r.e.spent_seconds);
}

absl::Status ReadRows(const std::string& path, std::vector<Row>& rows) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
  std::string line;
  std::getline(in, line);
  if (line != kHeader) return absl::InvalidArgumentError(absl::StrCat(path, ": not our CSV"));
  for (int n = 2; std::getline(in, line); ++n) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    Row r;
    int evaluation = 0, feasible = 0, within = 0, stopped = 0;
    int64_t id = 0;
    if (f.size() != 10 || !absl::SimpleAtoi(f[1], &r.seed) ||
        !absl::SimpleAtoi(f[2], &evaluation) || !absl::SimpleAtoi(f[3], &id) ||
        !absl::SimpleAtod(f[4], &r.e.validation_error) || !absl::SimpleAtoi(f[5], &feasible) ||
        !absl::SimpleAtoi(f[6], &within) || !absl::SimpleAtoi(f[7], &stopped) ||
        !absl::SimpleAtod(f[8], &r.e.seconds) || !absl::SimpleAtod(f[9], &r.e.spent_seconds)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": not a row"));
    }
    r.arm = f[0];
    r.e.candidate_id = id;
    r.e.feasible = feasible != 0;
    r.e.within_resource_bounds = within != 0;
    r.e.stopped = stopped != 0;
    rows.push_back(r);
  }
  return absl::OkStatus();
}

// The median, a missing value (never reached) counting as +inf.
std::optional<double> Median(std::vector<std::optional<double>> values) {
  std::vector<double> v;
  for (const std::optional<double>& x : values) v.push_back(x.value_or(INFINITY));
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const double m =
      v.size() % 2 == 1 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
  if (!std::isfinite(m)) return std::nullopt;
  return m;
}

// One run's evaluations, in the order they came in.
using Run = std::vector<RaceEvaluation>;

// Training seconds spent when the best feasible error first reached `target`.
std::optional<double> SecondsToReach(const Run& run, double target) {
  for (const RaceEvaluation& e : run) {
    if (e.feasible && e.validation_error <= target) return e.spent_seconds;
  }
  return std::nullopt;
}

// The best feasible error among results in by `seconds` of training.
std::optional<double> BestBy(const Run& run, double seconds) {
  std::optional<double> best;
  for (const RaceEvaluation& e : run) {
    if (e.spent_seconds > seconds) break;
    if (e.feasible && (!best || e.validation_error < *best)) best = e.validation_error;
  }
  return best;
}

std::string Format(std::optional<double> v, const char* format = "%.0f") {
  return v ? absl::StrFormat(format, *v) : std::string("-");
}

std::string Label(const std::string& arm) {
  if (arm == "unas_aging") return "μNAS aging evolution (plain starts, full training)";
  if (arm == "random_bounded") return "random search within the bounds";
  if (arm == "aging_both") return "aging evolution, bounded proposals + median stopping";
  return arm;
}

int Main(int argc, char** argv) {
  Flags flags;
  bool training = false;
#ifdef UNAS_COMPARE_WITH_TRAINING
  training = true;
#endif
  std::string arms, seed_list, targets, from_csv;
  CLI::App app("Search vs random sampling per training-second at tight bounds");
  app.add_option("--config", flags.config, "job spec to search");
  app.add_option("--arms", arms, "comma-separated arms");
  app.add_option("--seeds", flags.seeds, "seeds 1..N");
  app.add_option("--seed-list", seed_list, "these seeds, in this order");
  app.add_option("--cpu-budget", flags.cpu_budget, "training seconds per run")
      ->check(CLI::PositiveNumber);
  app.add_option("--workers", flags.workers, "emulated asynchronous workers");
  app.add_option("--threads", flags.threads, "LibTorch threads (training)");
  app.add_option("--targets", targets, "easy,hard validation error targets");
  app.add_option("--cache", flags.cache, "shared evaluation cache (training)");
  app.add_option("--out", flags.out, "output folder");
  app.add_option("--name", flags.name, "output file name stem");
  app.add_option("--from-csv", from_csv, "summarise these CSVs instead of running");
  CLI11_PARSE(app, argc, argv);
  if (!arms.empty()) flags.arms = absl::StrSplit(arms, ',');
  for (absl::string_view t : absl::StrSplit(seed_list, ',', absl::SkipEmpty())) {
    int seed = 0;
    if (!absl::SimpleAtoi(t, &seed) || seed < 1) {
      std::fprintf(stderr, "cpu_comparison: --seed-list: %s is not a seed\n",
                   std::string(t).c_str());
      return 2;
    }
    flags.seed_list.push_back(seed);
  }
  if (flags.seed_list.empty()) {
    for (int seed = 1; seed <= flags.seeds; ++seed) flags.seed_list.push_back(seed);
  }
  for (absl::string_view t : absl::StrSplit(targets, ',', absl::SkipEmpty())) {
    double target = 0;
    if (absl::SimpleAtod(t, &target)) flags.targets.push_back(target);
  }
  if (!from_csv.empty()) flags.from_csv = absl::StrSplit(from_csv, ',');
  if (flags.name.empty()) {
    flags.name = training ? "cpu_comparison_fashion_mnist" : "cpu_comparison_synthetic";
  }
  absl::StatusOr<v1::JobSpec> base = SpecFor(flags, "aging_both", 1);
  if (!base.ok()) {
    std::fprintf(stderr, "cpu_comparison: %s\n", std::string(base.status().message()).c_str());
    return 1;
  }
  if (flags.targets.empty()) {
    const double bound = base->bounds().has_error() ? base->bounds().error() : 0.3;
    flags.targets = {bound, bound - 0.05};
  }

  std::vector<Row> rows;
  for (const std::string& path : flags.from_csv) {
    if (absl::Status s = ReadRows(path, rows); !s.ok()) {
      std::fprintf(stderr, "cpu_comparison: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  std::unique_ptr<worker::Evaluator> evaluator;
  std::unique_ptr<worker::Evaluator> trainer;
  RaceOptions race;
  race.workers = flags.workers;
  race.cpu_budget_seconds = flags.cpu_budget;
  if (training) {
#ifdef UNAS_COMPARE_WITH_TRAINING
    trainer = std::make_unique<worker::TrainingEvaluator>(flags.threads);
    evaluator = std::make_unique<SharedEvaluationCache>(*trainer, flags.cache, base->seed());
#endif
  } else {
    evaluator = std::make_unique<worker::SyntheticEvaluator>();
  }
  std::filesystem::create_directories(flags.out);
  const std::string stem = flags.out + "/" + flags.name;
  if (flags.from_csv.empty()) {
    std::ofstream csv(stem + ".csv");
    csv << kHeader << "\n";
    for (const std::string& arm : flags.arms) {
      for (int seed : flags.seed_list) {
        absl::StatusOr<v1::JobSpec> spec = SpecFor(flags, arm, seed);
        if (!spec.ok()) {
          std::fprintf(stderr, "cpu_comparison: %s\n",
                       std::string(spec.status().message()).c_str());
          return 1;
        }
        if (!training) {
          // Synthetic results take no time: a seeded 20-120 s per candidate,
          // growing with its size, stands in for its training.
          race.duration_seconds = [](const v1::Task& task, const v1::EvaluationResult& r) {
            return 20 + 100 * std::min(1.0, std::max(0.0, 0.7 - r.validation_error()) / 0.6) +
                   static_cast<double>(task.candidate_id() % 7);
          };
        }
        race.db_path = (std::filesystem::temp_directory_path() /
                        absl::StrCat("cpu_comparison_", getpid(), ".db"))
                           .string();
        absl::StatusOr<RaceResult> result = RunRace(*spec, *evaluator, race);
        if (!result.ok()) {
          std::fprintf(stderr, "%s seed %d: %s\n", arm.c_str(), seed,
                       std::string(result.status().message()).c_str());
          return 1;
        }
        for (size_t i = 0; i < result->history.size(); ++i) {
          Row row{arm, seed, result->history[i]};
          csv << CsvRow(row, static_cast<int>(i + 1)) << "\n";
          rows.push_back(row);
        }
        csv.flush();
        std::printf("%-15s seed %d: %zu results (%d stopped, %d skipped) in %.0f s wall\n",
                    arm.c_str(), seed, result->history.size(), result->stopped, result->skipped,
                    result->wall_seconds);
        std::fflush(stdout);
      }
    }
  } else {
    std::ofstream csv(stem + ".csv");
    csv << kHeader << "\n";
    std::map<std::pair<std::string, int>, int> evaluation;
    for (const Row& r : rows) csv << CsvRow(r, ++evaluation[{r.arm, r.seed}]) << "\n";
    flags.arms.clear();
    for (const Row& r : rows) {
      if (std::find(flags.arms.begin(), flags.arms.end(), r.arm) == flags.arms.end()) {
        flags.arms.push_back(r.arm);
      }
    }
  }

  // runs[arm][seed]
  std::map<std::string, std::map<int, Run>> runs;
  for (const Row& r : rows) runs[r.arm][r.seed].push_back(r.e);
  std::ostringstream text;
  text << absl::StrFormat(
      "%s, %s; budget %.0f training seconds per run, %d emulated workers; error targets %.3f "
      "(easy) and %.3f (hard); bounds: peak memory %d B, model size %d B, MACs %d, error %.3f\n\n",
      flags.config.substr(flags.config.find_last_of('/') + 1),
      training ? "real Fashion-MNIST training" : "synthetic evaluator", flags.cpu_budget,
      flags.workers, flags.targets[0], flags.targets.back(), base->bounds().peak_memory_bytes(),
      base->bounds().model_size_bytes(), base->bounds().macs(), base->bounds().error());
  std::map<std::string, std::optional<double>> hard_median;
  std::map<std::string, std::optional<double>> best_median;
  for (const std::string& arm : flags.arms) {
    std::vector<std::optional<double>> easy, hard, best;
    double seconds = 0, outside = 0;
    int results = 0, stopped = 0;
    std::string easy_runs, hard_runs, best_runs;
    for (const auto& [seed, run] : runs[arm]) {
      easy.push_back(SecondsToReach(run, flags.targets[0]));
      hard.push_back(SecondsToReach(run, flags.targets.back()));
      best.push_back(BestBy(run, flags.cpu_budget));
      absl::StrAppend(&easy_runs, easy_runs.empty() ? "" : " ", Format(easy.back()));
      absl::StrAppend(&hard_runs, hard_runs.empty() ? "" : " ", Format(hard.back()));
      absl::StrAppend(&best_runs, best_runs.empty() ? "" : " ", Format(best.back(), "%.3f"));
      for (const RaceEvaluation& e : run) {
        seconds += e.seconds;
        if (!e.within_resource_bounds) outside += e.seconds;
        ++results;
        stopped += e.stopped ? 1 : 0;
      }
    }
    hard_median[arm] = Median(hard);
    best_median[arm] = Median(best);
    text << absl::StrFormat(
        "%s (%s), %zu seeds, %d results (%d stopped early):\n"
        "  training seconds to reach %.3f: median %s (runs: %s)\n"
        "  training seconds to reach %.3f: median %s (runs: %s)\n"
        "  best feasible error at %.0f s: median %s (runs: %s)\n"
        "  share of training time on networks outside the resource bounds: %.1f %%\n\n",
        arm, Label(arm), runs[arm].size(), results, stopped, flags.targets[0], Format(Median(easy)),
        easy_runs, flags.targets.back(), Format(Median(hard)), hard_runs, flags.cpu_budget,
        Format(Median(best), "%.4f"), best_runs, seconds > 0 ? 100 * outside / seconds : 0.0);
  }
  if (runs.contains("aging_both")) {
    for (const std::string& other : {std::string("random_bounded"), std::string("unas_aging")}) {
      if (!runs.contains(other)) continue;
      const std::optional<double> mine = hard_median["aging_both"], theirs = hard_median[other];
      text << absl::StrFormat(
          "aging_both vs %s: time to the hard target %s (target: <= %s); best error at the "
          "budget %s vs %s\n",
          other,
          mine && theirs ? absl::StrFormat("%.2f of it", *mine / *theirs)
          : mine         ? std::string("reached, theirs never")
                         : std::string("not reached"),
          other == "random_bounded" ? "0.50" : "0.33", Format(best_median["aging_both"], "%.4f"),
          Format(best_median[other], "%.4f"));
    }
  }
  std::printf("\n%s", text.str().c_str());
  std::ofstream(stem + ".txt") << text.str();

  // The plot: the median over seeds of the best feasible error against
  // training seconds, sampled on a grid, and each seed faint.
  const std::map<std::string, std::string> colours = {
      {"unas_aging", "#d95f02"}, {"random_bounded", "#666666"}, {"aging_both", "#1b9e77"}};
  std::map<std::string, report::svg::Style> median_style, seed_style;
  report::svg::Plot plot;
  plot.id = flags.name;
  plot.title = absl::StrCat("Best feasible validation error against training seconds (",
                            runs.empty() ? 0 : runs.begin()->second.size(), " seeds, median bold)");
  plot.x_label = "training seconds spent (stopped candidates' partial time included)";
  plot.y_label = "best feasible validation error";
  plot.x_format = [](double x) { return absl::StrFormat("%g", x); };
  plot.y_format = [](double y) { return absl::StrFormat("%.2f", y); };
  plot.width = 800;
  plot.height = 440;
  plot.empty_message = "No feasible candidate";
  for (const std::string& arm : flags.arms) {
    const std::string colour = colours.contains(arm) ? colours.at(arm) : "#000000";
    median_style[arm].css_class = "median-" + arm;
    median_style[arm].stroke = colour;
    median_style[arm].stroke_width = 2.5;
    seed_style[arm].css_class = "seed-" + arm;
    seed_style[arm].stroke = colour;
    seed_style[arm].opacity = 0.25;
  }
  for (const std::string& arm : flags.arms) {
    for (const auto& [seed, run] : runs[arm]) {
      report::svg::Polyline line;
      line.step = true;
      line.style = &seed_style[arm];
      for (const RaceEvaluation& e : run) {
        if (std::optional<double> b = BestBy(run, e.spent_seconds)) {
          line.points.emplace_back(e.spent_seconds, *b);
        }
      }
      if (!line.points.empty()) plot.lines.push_back(std::move(line));
    }
    report::svg::Polyline median;
    median.step = true;
    median.style = &median_style[arm];
    for (int i = 1; i <= 100; ++i) {
      const double at = flags.cpu_budget * i / 100;
      std::vector<std::optional<double>> values;
      for (const auto& [seed, run] : runs[arm]) values.push_back(BestBy(run, at));
      if (std::optional<double> m = Median(values)) median.points.emplace_back(at, *m);
    }
    if (!median.points.empty()) plot.lines.push_back(std::move(median));
    report::svg::LegendEntry entry;
    entry.marker = report::svg::Marker::kLine;
    entry.style = &median_style[arm];
    entry.label = Label(arm);
    plot.legend.push_back(entry);
  }
  std::ofstream(stem + ".svg") << report::svg::Render(plot);
  std::printf("wrote %s.csv, %s.svg and %s.txt\n", stem.c_str(), stem.c_str(), stem.c_str());
  return 0;
}

}  // namespace
}  // namespace unas::bench

int main(int argc, char** argv) { return unas::bench::Main(argc, argv); }
