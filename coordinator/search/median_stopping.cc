#include "coordinator/search/median_stopping.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace unas::search {
namespace {

// Workers compute fractions as steps / steps per epoch: two curves' "0.5"
// may differ in the last bits.
constexpr double kFractionSlack = 1e-9;

double Median(std::vector<double>& values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

}  // namespace

CompletedCurve::CompletedCurve(const Curve& curve) {
  fractions_.reserve(static_cast<size_t>(curve.size()));
  error_sums_.reserve(static_cast<size_t>(curve.size()));
  double sum = 0;
  for (const v1::CurvePoint& point : curve) {
    sum += point.validation_error();
    fractions_.push_back(point.epoch_fraction());
    error_sums_.push_back(sum);
  }
}

std::optional<double> CompletedCurve::MeanErrorUpTo(double fraction) const {
  const auto end =
      std::upper_bound(fractions_.begin(), fractions_.end(), fraction + kFractionSlack);
  const size_t count = static_cast<size_t>(end - fractions_.begin());
  if (count == 0) return std::nullopt;
  return error_sums_[count - 1] / static_cast<double>(count);
}

std::optional<v1::StoppingDecision> MedianStoppingDecision(
    const Curve& curve, std::span<const CompletedCurve> completed,
    const v1::AutomatedStoppingSpec& spec, double training_epochs) {
  if (static_cast<int>(completed.size()) < spec.min_completed()) return std::nullopt;
  double best = 1.0;
  std::vector<double> means;
  means.reserve(completed.size());
  for (const v1::CurvePoint& point : curve) {
    best = std::min(best, point.validation_error());
    if (point.epoch_fraction() + kFractionSlack < spec.grace_epochs()) continue;
    if (point.epoch_fraction() + kFractionSlack >= training_epochs) break;
    means.clear();
    for (const CompletedCurve& other : completed) {
      if (std::optional<double> mean = other.MeanErrorUpTo(point.epoch_fraction())) {
        means.push_back(*mean);
      }
    }
    if (static_cast<int>(means.size()) < spec.min_completed()) continue;
    const int compared = static_cast<int>(means.size());
    const double median = Median(means);
    if (best > median) {
      v1::StoppingDecision decision;
      decision.set_rule(kMedianRuleName);
      decision.set_epoch_fraction(point.epoch_fraction());
      decision.set_candidate_error(best);
      decision.set_threshold(median);
      decision.set_completed_compared(compared);
      return decision;
    }
  }
  return std::nullopt;
}

int64_t MaxCurvePoints(const v1::TrainingSpec& training) {
  if (!training.has_learning_curve()) return 0;
  return int64_t{training.learning_curve().points_per_epoch()} *
         std::max<int64_t>(0, training.epochs());
}

absl::Status CheckCurve(const Curve& curve, const v1::TrainingSpec& training) {
  if (curve.empty()) return absl::OkStatus();
  const int64_t limit = MaxCurvePoints(training);
  if (curve.size() > limit) {
    return absl::InvalidArgumentError(
        limit == 0 ? std::string("curve: the job measures no learning curve")
                   : absl::StrCat("curve has ", curve.size(), " points; the job's ", limit,
                                  " (training.learning_curve.points_per_epoch x epochs) at most"));
  }
  double previous = 0;
  for (int i = 0; i < curve.size(); ++i) {
    const v1::CurvePoint& p = curve[i];
    const std::string where = absl::StrCat("curve[", i, "]");
    if (!std::isfinite(p.epoch_fraction()) || p.epoch_fraction() <= previous ||
        p.epoch_fraction() > training.epochs() + kFractionSlack) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".epoch_fraction (", p.epoch_fraction(), ") must be > ", previous,
                       " (the previous point's) and <= ", training.epochs(), " (training.epochs)"));
    }
    if (!std::isfinite(p.validation_error()) || p.validation_error() < 0 ||
        p.validation_error() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".validation_error (", p.validation_error(), ") must be in [0, 1]"));
    }
    if (!std::isfinite(p.training_seconds()) || p.training_seconds() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".training_seconds (", p.training_seconds(), ") must be >= 0"));
    }
    previous = p.epoch_fraction();
  }
  return absl::OkStatus();
}

Curve CurveUpTo(const Curve& curve, double epoch_fraction) {
  Curve kept;
  for (const v1::CurvePoint& point : curve) {
    if (point.epoch_fraction() > epoch_fraction + kFractionSlack) break;
    *kept.Add() = point;
  }
  return kept;
}

}  // namespace unas::search
