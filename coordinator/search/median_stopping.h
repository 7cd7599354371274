// The median stopping rule (Golovin et al., "Google Vizier: A Service for
// Black-Box Optimization", KDD 2017), over learning curves (CurvePoint:
// validation error after a fraction of the training), and the checks a
// curve from a worker must pass before the rule reads it. Pure functions:
// the decision depends only on the running candidate's curve and the
// completed candidates' curves, so a seeded one-worker run repeats exactly
// and a restarted coordinator decides as the one before it did (workers
// re-send the whole curve with each heartbeat).
#ifndef UNAS_COORDINATOR_SEARCH_MEDIAN_STOPPING_H_
#define UNAS_COORDINATOR_SEARCH_MEDIAN_STOPPING_H_

#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "unas/v1/evaluation.pb.h"
#include "unas/v1/job_spec.pb.h"

namespace unas::search {

using Curve = google::protobuf::RepeatedPtrField<v1::CurvePoint>;

// The rule's name in StoppingDecision.rule.
inline constexpr char kMedianRuleName[] = "median";

// A completed candidate's curve as the rule reads it: its points' fractions
// in order and the running sums of their errors, so that the mean error up
// to any fraction is one binary search.
class CompletedCurve {
 public:
  explicit CompletedCurve(const Curve& curve);
  // The mean error of the points with epoch_fraction <= `fraction`; nullopt
  // when the curve has none there.
  std::optional<double> MeanErrorUpTo(double fraction) const;
  bool empty() const { return fractions_.empty(); }

 private:
  std::vector<double> fractions_;
  std::vector<double> error_sums_;  // error_sums_[i]: points 0..i
};

// Walks `curve` in order; at each point with epoch_fraction >= grace_epochs
// compares the candidate's best error so far with the median, over the
// completed curves that have points up to that fraction, of their mean
// error there. Returns the decision at the first point where the best error
// is strictly worse, with at least min_completed curves compared; nullopt
// when the candidate may go on. `spec` is defaults-filled. Points at the end
// of training (epoch_fraction = `training_epochs`) are never decided on: a
// candidate that finished training is a complete result, not a stopped one.
std::optional<v1::StoppingDecision> MedianStoppingDecision(
    const Curve& curve, std::span<const CompletedCurve> completed,
    const v1::AutomatedStoppingSpec& spec, double training_epochs);

// The most points a curve may hold for `training`: points_per_epoch per
// epoch (0 when the job measures no curve).
int64_t MaxCurvePoints(const v1::TrainingSpec& training);

// A curve a worker sent for a job with `training`: at most MaxCurvePoints
// points, epoch fractions strictly increasing in (0, epochs], errors finite
// in [0, 1], training seconds finite and >= 0. INVALID_ARGUMENT naming the
// point and what is wrong otherwise.
absl::Status CheckCurve(const Curve& curve, const v1::TrainingSpec& training);

// The curve up to and including the point at `epoch_fraction`.
Curve CurveUpTo(const Curve& curve, double epoch_fraction);

}  // namespace unas::search

#endif  // UNAS_COORDINATOR_SEARCH_MEDIAN_STOPPING_H_
