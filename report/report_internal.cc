// The facts every part of the report reads (report_internal.h): the
// objectives and their applied bounds, the error metric, the best feasible
// candidate, and small helpers on candidate lists.
#include "report/report_internal.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/objectives/objectives.h"
#include "google/protobuf/util/time_util.h"
#include "report/format.h"

namespace unas::report::internal {

using v1::Candidate;

std::vector<Objective> Objectives(const v1::JobSpec& spec) {
  const v1::Bounds& b = spec.bounds();
  // The bounds exactly as the search applies them (one implementation,
  // common/objectives/objectives.h); a bound the spec sets but the search
  // drops gets a note.
  const search::BoundVector applied = search::MakeBounds(spec);
  std::vector<Objective> out(4);
  out[0] = {"validation error",
            "error",
            std::nullopt,
            "",
            [](const Candidate& c) { return c.evaluation().validation_error(); },
            PercentLabel};
  out[1] = {"peak memory",
            "PMU",
            std::nullopt,
            "",
            [](const Candidate& c) { return static_cast<double>(c.metrics().peak_memory_bytes()); },
            [](double v) { return FormatBytes(v); }};
  out[2] = {"model size",
            "size",
            std::nullopt,
            "",
            [](const Candidate& c) { return static_cast<double>(c.metrics().model_size_bytes()); },
            [](double v) { return FormatBytes(v); }};
  out[3] = {"MACs",
            "MACs",
            std::nullopt,
            "",
            [](const Candidate& c) { return static_cast<double>(c.metrics().macs()); },
            [](double v) { return FormatCount(v); }};
  const bool set[search::kNumObjectives] = {b.has_error(), b.has_peak_memory_bytes(),
                                            b.has_model_size_bytes(), b.has_macs()};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].bound = applied[i];
    if (set[i] && !applied[i]) out[i].bound_note = "set, but not applied with unstructured pruning";
  }
  return out;
}

double ErrorOf(const Candidate& c, ErrorMetric metric) {
  return metric == ErrorMetric::kTest ? c.evaluation().test_error()
                                      : c.evaluation().validation_error();
}

std::string ErrorName(ErrorMetric metric) {
  return metric == ErrorMetric::kTest ? "test error" : "validation error";
}

std::string PercentLabel(double fraction) {
  return absl::StrCat(FormatMinimalDecimals(fraction * 100, 2), "%");
}

std::string ErrorBoundLabel(double bound, ErrorMetric metric) {
  return absl::StrCat("error bound ", PercentLabel(bound),
                      metric == ErrorMetric::kTest ? " (validation)" : "");
}

const Candidate* BestFeasible(const std::vector<Candidate>& history, ErrorMetric metric) {
  const Candidate* best = nullptr;
  for (const Candidate& c : history) {
    if (!c.feasible() || !std::isfinite(ErrorOf(c, metric))) continue;
    if (best == nullptr || ErrorOf(c, metric) < ErrorOf(*best, metric)) best = &c;
  }
  return best;
}

int64_t CountFeasible(const std::vector<Candidate>& candidates) {
  int64_t feasible = 0;
  for (const Candidate& c : candidates) feasible += c.feasible() ? 1 : 0;
  return feasible;
}

absl::flat_hash_set<int64_t> CandidateIds(const std::vector<Candidate>& candidates) {
  absl::flat_hash_set<int64_t> ids;
  for (const Candidate& c : candidates) ids.insert(c.candidate_id());
  return ids;
}

std::string JobTitle(const v1::JobSpec& spec) {
  return spec.name().empty() ? "(unnamed job)" : spec.name();
}

std::string TimeText(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return google::protobuf::util::TimeUtil::ToString(t);
}

}  // namespace unas::report::internal
