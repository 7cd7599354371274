#include "coordinator/core/job_queries.h"

#include <algorithm>
#include <array>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/objectives/objectives.h"

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

absl::StatusOr<CandidatePage> SelectCandidatePage(const JobEntry& job,
                                                  const v1::ListCandidatesRequest& request) {
  int page_size =
      request.page_size() <= 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  int64_t offset = 0;
  if (!request.page_token().empty() &&
      (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token \"", request.page_token().substr(0, 32), "\" is not one this server issued"));
  }
  auto wanted = [&](int64_t id) {
    return request.states().empty() || std::find(request.states().begin(), request.states().end(),
                                                 job.state(id)) != request.states().end();
  };
  // The ids to list, in the requested order, filtered.
  std::vector<int64_t> selected;
  const bool by_finish = request.order() == v1::CANDIDATE_ORDER_FINISH_TIME;
  if (request.population_only()) {
    const v1::AlgorithmSpec& algorithm = job.job.spec().algorithm();
    if (!algorithm.has_aging_evolution()) {
      return absl::InvalidArgumentError("population_only: only aging evolution has a population");
    }
    const size_t population = static_cast<size_t>(algorithm.aging_evolution().population_size());
    const size_t from = job.history.size() > population ? job.history.size() - population : 0;
    for (size_t index = from; index < job.history.size(); ++index) {
      if (wanted(job.history[index])) selected.push_back(job.history[index]);
    }
    if (!by_finish) std::sort(selected.begin(), selected.end());
  } else if (by_finish) {
    for (int64_t id : job.history) {
      if (wanted(id)) selected.push_back(id);
    }
  } else {
    for (int64_t id = 1; id <= job.candidate_count(); ++id) {
      if (wanted(id)) selected.push_back(id);
    }
  }
  CandidatePage page;
  page.total_size = static_cast<int32_t>(selected.size());
  // A token past the end (any int64 a client sends) lists nothing; the sum
  // below cannot overflow once the offset is at most the size.
  const int64_t size = static_cast<int64_t>(selected.size());
  offset = std::min(offset, size);
  const int64_t end = std::min<int64_t>(offset + page_size, size);
  for (int64_t index = offset; index < end; ++index) {
    page.ids.push_back(selected[static_cast<size_t>(index)]);
  }
  if (end < size) page.next_page_token = absl::StrCat(end);
  return page;
}

absl::StatusOr<std::vector<v1::Candidate>> AssembleCandidates(
    store::Store& store, int64_t job_id, const std::vector<int64_t>& ids,
    absl::flat_hash_map<int64_t, v1::Candidate> in_memory) {
  std::vector<int64_t> to_read;
  for (int64_t id : ids) {
    if (!in_memory.contains(id)) to_read.push_back(id);
  }
  if (!to_read.empty()) {
    absl::StatusOr<std::vector<store::CandidateRow>> rows = store.ReadCandidates(job_id, to_read);
    if (!rows.ok()) return rows.status();
    for (store::CandidateRow& row : *rows) {
      const int64_t id = row.candidate.candidate_id();
      in_memory.try_emplace(id, LightCandidate(row.candidate));
    }
  }
  std::vector<v1::Candidate> candidates;
  candidates.reserve(ids.size());
  for (int64_t id : ids) {
    auto found = in_memory.find(id);
    if (found == in_memory.end()) {
      return absl::InternalError(
          absl::StrCat("job ", job_id, " candidate ", id, " is missing from the store"));
    }
    candidates.push_back(std::move(found->second));
  }
  return candidates;
}

void CandidateAssembly::CopyInMemory(const JobEntry& job, const std::vector<int64_t>& ids) {
  for (int64_t id : ids) {
    if (const CandidateRow* row = job.FindRow(id)) {
      in_memory_.try_emplace(id, LightCandidate(row->candidate));
    }
  }
}

absl::StatusOr<std::vector<v1::Candidate>> CandidateAssembly::Read(
    store::Store& store, int64_t job_id, const std::vector<int64_t>& ids) && {
  return AssembleCandidates(store, job_id, ids, std::move(in_memory_));
}

store::EvaluationPoint EvaluationPointOf(const v1::Candidate& candidate) {
  store::EvaluationPoint point;
  point.candidate_id = candidate.candidate_id();
  point.feasible = candidate.feasible();
  point.validation_error = candidate.evaluation().validation_error();
  point.test_error = candidate.evaluation().test_error();
  point.metrics = candidate.metrics();
  return point;
}

absl::StatusOr<std::vector<int64_t>> ParetoFrontIds(
    const std::vector<store::EvaluationPoint>& points, const v1::GetParetoFrontRequest& request) {
  std::array<bool, search::kNumObjectives> use{};
  if (request.objectives().empty()) {
    use.fill(true);
  } else {
    for (int objective : request.objectives()) {
      if (objective < v1::OBJECTIVE_ERROR || objective > v1::OBJECTIVE_MACS) {
        return absl::InvalidArgumentError(
            absl::StrCat("objectives: unknown objective ", objective));
      }
      use[static_cast<size_t>(objective - v1::OBJECTIVE_ERROR)] = true;
    }
  }
  std::vector<search::ObjectiveVector> objectives;
  std::vector<int64_t> ids;
  for (const store::EvaluationPoint& point : points) {
    if (!request.include_infeasible() && !point.feasible) continue;
    const double error = request.use_test_error() ? point.test_error : point.validation_error;
    objectives.push_back(search::MakeObjectives(error, point.metrics));
    ids.push_back(point.candidate_id);
  }
  std::vector<size_t> front = search::ParetoFront(objectives, use);
  std::sort(front.begin(), front.end(), [&](size_t a, size_t b) {
    return objectives[a][0] != objectives[b][0] ? objectives[a][0] < objectives[b][0]
                                                : ids[a] < ids[b];
  });
  std::vector<int64_t> front_ids;
  front_ids.reserve(front.size());
  for (size_t index : front) front_ids.push_back(ids[index]);
  return front_ids;
}

}  // namespace unas::coordinator
