#include "coordinator/core/job_queries.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "coordinator/search/objectives.h"

namespace unas::coordinator {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

}  // namespace

v1::Candidate LightCandidate(const v1::Candidate& candidate) {
  v1::Candidate light = candidate;
  light.mutable_evaluation()->clear_trained_weights();
  light.mutable_evaluation()->clear_quantized_model();
  return light;
}

absl::StatusOr<v1::ListCandidatesResponse> ListJobCandidates(
    const JobEntry& j, const v1::ListCandidatesRequest& request) {
  int page_size =
      request.page_size() <= 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  int64_t offset = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token \"", request.page_token(), "\" is not one this server issued"));
  }
  // The ids to list, in the requested order.
  std::vector<int64_t> ids;
  bool by_finish = request.order() == v1::CANDIDATE_ORDER_FINISH_TIME;
  if (request.population_only()) {
    const v1::AlgorithmSpec& a = j.job.spec().algorithm();
    if (!a.has_aging_evolution()) {
      return absl::InvalidArgumentError("population_only: only aging evolution has a population");
    }
    size_t n = static_cast<size_t>(a.aging_evolution().population_size());
    size_t from = j.history.size() > n ? j.history.size() - n : 0;
    ids.assign(j.history.begin() + static_cast<std::ptrdiff_t>(from), j.history.end());
    if (!by_finish) std::sort(ids.begin(), ids.end());
  } else if (by_finish) {
    ids = j.history;
  } else {
    for (const CandidateRow& row : j.candidates) ids.push_back(row.candidate.candidate_id());
  }
  std::vector<int64_t> selected;
  for (int64_t id : ids) {
    v1::CandidateState state = j.row(id).candidate.state();
    if (request.states().empty() || std::find(request.states().begin(), request.states().end(),
                                              state) != request.states().end()) {
      selected.push_back(id);
    }
  }
  v1::ListCandidatesResponse response;
  response.set_total_size(static_cast<int32_t>(selected.size()));
  int64_t end = std::min<int64_t>(offset + page_size, static_cast<int64_t>(selected.size()));
  for (int64_t i = offset; i < end; ++i) {
    *response.add_candidates() = LightCandidate(j.row(selected[static_cast<size_t>(i)]).candidate);
  }
  if (end < static_cast<int64_t>(selected.size())) response.set_next_page_token(absl::StrCat(end));
  return response;
}

absl::StatusOr<v1::GetParetoFrontResponse> JobParetoFront(
    const JobEntry& j, const v1::GetParetoFrontRequest& request) {
  std::array<bool, search::kNumObjectives> use{};
  if (request.objectives().empty()) {
    use.fill(true);
  } else {
    for (int o : request.objectives()) {
      if (o < v1::OBJECTIVE_ERROR || o > v1::OBJECTIVE_MACS) {
        return absl::InvalidArgumentError(absl::StrCat("objectives: unknown objective ", o));
      }
      use[static_cast<size_t>(o - v1::OBJECTIVE_ERROR)] = true;
    }
  }
  std::vector<search::ObjectiveVector> points;
  std::vector<int64_t> ids;
  for (int64_t id : j.history) {
    const v1::Candidate& c = j.row(id).candidate;
    if (!request.include_infeasible() && !c.feasible()) continue;
    double error =
        request.use_test_error() ? c.evaluation().test_error() : c.evaluation().validation_error();
    points.push_back(search::MakeObjectives(error, c.metrics()));
    ids.push_back(id);
  }
  std::vector<size_t> front = search::ParetoFront(points, use);
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    return points[a][0] != points[b][0] ? points[a][0] < points[b][0] : ids[a] < ids[b];
  });
  v1::GetParetoFrontResponse response;
  for (size_t i : front) *response.add_candidates() = LightCandidate(j.row(ids[i]).candidate);
  return response;
}

}  // namespace unas::coordinator
