#include "cli/unasctl/progress_bar.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace unas::cli {
namespace {

std::string FormatEta(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

}  // namespace

ProgressBar::ProgressBar(std::ostream& out, bool interactive)
    : out_(out), interactive_(interactive) {}

std::string ProgressBar::Render(const v1::JobProgress& p, double evaluations_per_second,
                                int width) {
  int rounds = std::max(1, p.rounds());
  // Candidates stopped early count towards the rounds as evaluations do.
  const int observed = p.evaluations_done() + p.candidates_stopped();
  int filled = std::clamp(observed * width / rounds, 0, width);
  std::string bar = absl::StrCat("[", std::string(static_cast<size_t>(filled), '#'),
                                 std::string(static_cast<size_t>(width - filled), '.'), "]");
  std::string line = absl::StrFormat("%s %d/%d evaluations, %d training", bar, observed, p.rounds(),
                                     p.evaluations_in_flight());
  if (p.candidates_stopped() > 0) {
    absl::StrAppend(&line, ", ", p.candidates_stopped(), " stopped early");
  }
  if (p.evaluations_failed() > 0) absl::StrAppend(&line, ", ", p.evaluations_failed(), " failed");
  if (p.candidates_skipped() > 0) {
    absl::StrAppend(&line, ", ", p.candidates_skipped(), " skipped");
  }
  if (p.has_best_feasible_error()) {
    absl::StrAppend(&line, absl::StrFormat(" | best feasible error %.4f", p.best_feasible_error()));
  } else {
    absl::StrAppend(&line, " | nothing feasible yet");
  }
  int left = p.rounds() - observed;
  if (left > 0) {
    double eta = evaluations_per_second > 0 ? left / evaluations_per_second : NAN;
    absl::StrAppend(&line, " | ETA ", FormatEta(eta));
  }
  return line;
}

void ProgressBar::Update(const v1::JobProgress& progress, bool transient) {
  absl::Time now = absl::Now();
  const int observed = progress.evaluations_done() + progress.candidates_stopped();
  if (start_done_ < 0) {
    start_done_ = observed;
    start_ = now;
  }
  double elapsed = absl::ToDoubleSeconds(now - start_);
  double rate = elapsed > 1 ? (observed - start_done_) / elapsed : 0.0;
  std::string line = Render(progress, rate, 30);
  if (interactive_) {
    out_ << "\r" << line << "\033[K" << std::flush;
  } else if (!transient && line != last_line_ && now - last_print_ > absl::Seconds(5)) {
    out_ << line << "\n" << std::flush;
    last_print_ = now;
  }
  last_line_ = line;
}

void ProgressBar::Finish() {
  if (interactive_) {
    out_ << "\n" << std::flush;
  } else if (!last_line_.empty()) {
    out_ << last_line_ << "\n" << std::flush;
  }
}

}  // namespace unas::cli
