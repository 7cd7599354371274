#include "coordinator/search/bayesian_optimization.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/search_space/fingerprint.h"
#include "common/search_space/morphisms.h"
#include "common/search_space/random_architecture.h"
#include "coordinator/search/bo/model_records.h"

namespace unas::search {
namespace {

constexpr int kRandomAttempts = 1000;
constexpr double kInf = std::numeric_limits<double>::infinity();

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bo::SurrogateOptions SurrogateOptionsOf(const BayesianOptimizationOptions& o) {
  bo::SurrogateOptions s;
  s.kind = o.kernel;
  if (o.sparsity && o.sparsity->max > o.sparsity->min) {
    s.sparsity_range = o.sparsity->max - o.sparsity->min;
  }
  s.max_fit_observations = o.max_fit_observations;
  s.threads = o.threads > 0
                  ? o.threads
                  : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u));
  return s;
}

// The dense network's resource objectives (the error, unknown, left 0).
ObjectiveVector DenseObjectives(const bo::ArchResources& r) {
  return {0.0, static_cast<double>(r.peak_memory_bytes), static_cast<double>(r.model_size_bytes),
          static_cast<double>(r.macs)};
}

}  // namespace

// One acquisition candidate. Its Thompson draw z is taken when it is created,
// so whether its posterior is ever computed does not change any later draw.
struct BayesianOptimization::Candidate {
  v1::Architecture architecture;
  std::optional<double> sparsity;
  std::shared_ptr<const bo::ArchEntry> entry;
  ObjectiveVector objectives{};  // error filled when evaluated
  double z = 0;
  bool rejected = false;  // over every bound by the skip factor
  bool eligible = false;  // may be proposed: not rejected, not evaluated or in flight
  double upper = kInf;    // acquisition value bound from the resources alone
  std::optional<double> value;
};

BayesianOptimization::BayesianOptimization(BayesianOptimizationOptions options)
    : options_(std::move(options)), surrogate_(SurrogateOptionsOf(options_)) {}

absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> BayesianOptimization::Entry(
    const v1::Architecture& arch) {
  uint64_t fp = Fingerprint(arch, options_.data);
  auto it = entries_.find(fp);
  if (it != entries_.end()) return it->second;
  absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> entry =
      bo::MakeArchEntry(arch, options_.data, fp);
  if (!entry.ok()) return entry.status();
  entries_[fp] = *entry;
  return entry;
}

void BayesianOptimization::Observe(const Evaluated& evaluated) {
  proposed_.erase(evaluated.candidate_id);
  absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> entry = Entry(evaluated.architecture);
  if (!entry.ok()) {
    if (observe_error_.ok()) {
      observe_error_ = absl::Status(
          entry.status().code(), absl::StrCat("observing candidate ", evaluated.candidate_id, ": ",
                                              entry.status().message()));
    }
    return;
  }
  observed_.insert((*entry)->fingerprint);
  if (!surrogate_.Add({*entry, evaluated.sparsity}, evaluated.objectives[0])) {
    const int i = surrogate_.size() - 1;
    records_.push_back({kModelRow, i, surrogate_.EncodeRow(i)});
  }
  history_.push_back(evaluated);
}

std::vector<ModelRecord> BayesianOptimization::TakeModelRecords() {
  std::vector<ModelRecord> out;
  out.swap(records_);
  return out;
}

void BayesianOptimization::RestoreModelRecords(std::vector<ModelRecord> records) {
  absl::flat_hash_map<int64_t, std::string> rows;
  for (ModelRecord& record : records) {
    if (record.kind == kModelRow) {
      rows[record.position] = std::move(record.bytes);
    } else if (record.kind == kModelHyper) {
      restored_hyper_ = bo::DecodeHyper(record.bytes);
    }
  }
  surrogate_.RestoreRows(std::move(rows));
}

absl::StatusOr<Proposal> BayesianOptimization::RandomProposal(
    Rng& rng, const absl::flat_hash_set<uint64_t>& taken) {
  // With feasible proposals on, up to feasible.draws of the draws that are
  // neither taken nor skipped are weighed: the first within every resource
  // bound wins, else the least-violating (feasible_proposals.h). Off, the
  // first such draw wins, as in μNAS; the Rng is consumed the same way.
  const bool weigh =
      options_.feasible.enabled && (options_.bounds[1] || options_.bounds[2] || options_.bounds[3]);
  const int draws = std::max(1, options_.feasible.draws);
  Proposal proposal;
  std::optional<Proposal> best;
  double best_violation = kInf;
  int weighed = 0;
  for (int attempt = 0; attempt < kRandomAttempts; ++attempt) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(options_.space, options_.data, rng);
    if (!arch.ok()) return arch.status();
    proposal.architecture = *std::move(arch);
    proposal.sparsity.reset();
    if (options_.sparsity) proposal.sparsity = RandomSparsity(*options_.sparsity, rng);
    if (taken.contains(Fingerprint(proposal.architecture, options_.data))) continue;
    absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> entry = Entry(proposal.architecture);
    if (!entry.ok()) return entry.status();
    const ObjectiveVector dense = DenseObjectives((*entry)->analysis.resources);
    if (ExceedsEveryBound(dense, options_.bounds, options_.skip_infeasible_factor)) continue;
    if (!weigh) return proposal;
    const double violation = BoundViolation(dense, options_.bounds);
    if (violation < best_violation) {
      best = proposal;
      best_violation = violation;
    }
    if (best_violation <= 1.0 || ++weighed >= draws) return *std::move(best);
  }
  // A space this small or this infeasible: let the coordinator decide.
  return best ? *std::move(best) : proposal;
}

absl::StatusOr<std::optional<Proposal>> BayesianOptimization::Propose(
    const ProposalContext& context) {
  return ProposeImpl(context, nullptr);
}

absl::StatusOr<std::optional<Proposal>> BayesianOptimization::ProposeWithPending(
    const ProposalContext& context, std::span<const PendingCandidate> pending) {
  return ProposeImpl(context, &pending);
}

absl::StatusOr<std::optional<Proposal>> BayesianOptimization::ProposeImpl(
    const ProposalContext& context, const std::span<const PendingCandidate>* listed) {
  if (!observe_error_.ok()) return observe_error_;
  Rng rng(CandidateSeed(options_.seed, context.candidate_id));
  // The in-flight candidates: the caller's list, else the newest of our own
  // unobserved proposals (older ones were skipped or failed).
  std::vector<std::pair<const v1::Architecture*, std::optional<double>>> in_flight;
  if (listed != nullptr) {
    absl::flat_hash_set<int64_t> ids;
    for (const PendingCandidate& p : *listed) {
      ids.insert(p.candidate_id);
      if (p.architecture != nullptr) in_flight.emplace_back(p.architecture, p.sparsity);
    }
    std::erase_if(proposed_, [&](const auto& kv) { return !ids.contains(kv.first); });
  } else {
    while (static_cast<int>(proposed_.size()) > std::max(context.in_flight, 0)) {
      proposed_.erase(proposed_.begin());
    }
    for (const auto& [id, own] : proposed_) in_flight.emplace_back(&own.architecture, own.sparsity);
  }
  absl::flat_hash_set<uint64_t> taken = observed_;
  std::vector<bo::GpPoint> pending;
  for (const auto& [arch, sparsity] : in_flight) {
    absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> entry = Entry(*arch);
    if (!entry.ok()) return entry.status();
    if (!taken.insert((*entry)->fingerprint).second) continue;
    pending.push_back({*entry, sparsity});
  }

  std::optional<Proposal> proposal;
  if (context.evaluations_done < options_.starting_points || surrogate_.size() == 0) {
    // Random starting points; once they are all out, wait for one.
    if (context.evaluations_done + context.in_flight >= options_.starting_points &&
        context.in_flight > 0) {
      return std::nullopt;
    }
    absl::StatusOr<Proposal> random = RandomProposal(rng, taken);
    if (!random.ok()) return random.status();
    proposal = *std::move(random);
  } else {
    absl::StatusOr<std::optional<Proposal>> step = Step(rng, pending, taken);
    if (!step.ok()) return step.status();
    proposal = *std::move(step);
  }
  if (proposal) {
    proposed_[context.candidate_id] = {proposal->architecture, proposal->sparsity};
  }
  // Keep the analyses still needed: pending candidates and this proposal.
  absl::flat_hash_set<uint64_t> keep;
  for (const bo::GpPoint& p : pending) keep.insert(p.entry->fingerprint);
  if (proposal) keep.insert(Fingerprint(proposal->architecture, options_.data));
  absl::erase_if(entries_, [&](const auto& kv) { return !keep.contains(kv.first); });
  surrogate_.RetainRows(keep);
  return proposal;
}

absl::StatusOr<std::optional<Proposal>> BayesianOptimization::Step(
    Rng& rng, std::vector<bo::GpPoint> pending, const absl::flat_hash_set<uint64_t>& taken) {
  BoStepReport report;
  report.observations = surrogate_.size();
  report.pending = static_cast<int>(pending.size());
  const int n = surrogate_.size();
  int m = (n / options_.refit_period) * options_.refit_period;
  if (m < 2) m = n;
  const auto start = std::chrono::steady_clock::now();
  // Fitted if due and built once the first candidates exist (build_model
  // below); the acquisition's time excludes both.
  absl::StatusOr<std::unique_ptr<bo::Surrogate::Model>> model = absl::UnknownError("no model");

  std::array<double, kNumObjectives> lambdas;
  for (double& lambda : lambdas) lambda = rng.UniformDouble();
  const BoundVector& bounds = options_.bounds;
  BoundVector resource_bounds = bounds;
  resource_bounds[0].reset();
  const bool any_resource_bound = resource_bounds[1] || resource_bounds[2] || resource_bounds[3];

  std::vector<Candidate> candidates;
  auto add = [&](v1::Architecture arch, std::optional<double> sparsity) -> absl::Status {
    Candidate c;
    absl::StatusOr<std::shared_ptr<const bo::ArchEntry>> entry = Entry(arch);
    if (!entry.ok()) return entry.status();
    c.entry = *entry;
    c.architecture = std::move(arch);
    c.sparsity = sparsity;
    c.z = rng.Normal(0.0, 1.0);
    const bo::ArchResources& r = c.entry->analysis.resources;
    double size = static_cast<double>(r.model_size_bytes);
    // A pruned candidate's size is estimated from its target sparsity.
    if (sparsity) size = std::nearbyint((1.0 - *sparsity) * size);
    c.objectives = {0.0, static_cast<double>(r.peak_memory_bytes), size,
                    static_cast<double>(r.macs)};
    c.rejected = ExceedsEveryBound(DenseObjectives(r), bounds, options_.skip_infeasible_factor);
    c.eligible = !c.rejected && !taken.contains(c.entry->fingerprint);
    if (c.rejected) {
      c.upper = -kInf;
      c.value = -kInf;
    } else if (!bounds[0]) {
      c.upper = ScalarisedFitness(c.objectives, bounds, lambdas);
      c.value = c.upper;  // the error is not an objective: nothing to model
    } else if (any_resource_bound) {
      c.upper = ScalarisedFitness(c.objectives, resource_bounds, lambdas);
    }
    candidates.push_back(std::move(c));
    return absl::OkStatus();
  };
  auto value_of = [&](Candidate& c) -> double {
    if (!c.value) {
      auto [mu, var] = (*model)->Posterior({c.entry, c.sparsity});
      ++report.gp_evaluations;
      ObjectiveVector x = c.objectives;
      x[0] = mu + std::sqrt(var) * c.z;
      c.value = ScalarisedFitness(x, bounds, lambdas);
    }
    return *c.value;
  };
  // The first best (by position in `positions`) of the candidates there,
  // computing posteriors only for those whose resource bound could still win.
  auto best_of = [&](const std::vector<int>& positions) -> int {
    std::vector<int> order(positions.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return candidates[positions[a]].upper > candidates[positions[b]].upper;
    });
    int best = -1;
    double best_value = -kInf;
    for (int pos : order) {
      Candidate& c = candidates[positions[pos]];
      if (best >= 0 && c.upper < best_value) break;
      if (best >= 0 && c.upper == best_value && pos > best) continue;
      double v = value_of(c);
      if (best < 0 || v > best_value || (v == best_value && pos < best)) {
        best = pos;
        best_value = v;
      }
    }
    return best < 0 ? -1 : positions[best];
  };
  auto mutate_sparsity = [&](std::optional<double> parent) -> std::optional<double> {
    if (!options_.sparsity) return std::nullopt;
    const SparsityRange& range = *options_.sparsity;
    double s = parent.value_or(range.min) + rng.Normal(0.0, (range.max - range.min) / 10.0);
    return std::clamp(s, range.min, range.max);
  };

  // The hyper-parameter fit when due and the GP, while another thread
  // computes the OTMANN rows of the candidates most likely to need a
  // posterior (highest resource bound first) until the GP is ready: the fit
  // and the Gram matrix's projection run on one thread, and the rows are
  // exact, so this changes when work is done, not any result. The fit takes
  // no random draws, so doing it after the candidates' draws changes
  // nothing either.
  auto build_model = [&]() -> absl::Status {
    std::vector<const bo::ArchEntry*> ahead;
    if (bounds[0] && options_.kernel == bo::KernelKind::kOtmann &&
        SurrogateOptionsOf(options_).threads > 1) {
      std::vector<int> order(candidates.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return candidates[a].upper > candidates[b].upper; });
      absl::flat_hash_set<uint64_t> seen;
      for (int i : order) {
        const Candidate& c = candidates[i];
        if (c.value || surrogate_.HasRow(c.entry->fingerprint) ||
            !seen.insert(c.entry->fingerprint).second) {
          continue;
        }
        ahead.push_back(c.entry.get());
      }
    }
    std::atomic<bool> stop{false};
    std::vector<std::pair<uint64_t, std::vector<bo::OtmannDistance>>> rows;
    std::thread precompute;
    if (!ahead.empty()) {
      precompute = std::thread([&] { rows = surrogate_.ComputeRowsUntil(ahead, stop); });
    }
    const auto fit_start = std::chrono::steady_clock::now();
    // Hyper-parameters stored before a restart stand in for the fit when
    // they were fitted on exactly these m observations (the fit is a
    // function of them alone).
    if ((!hyper_ || hyper_->fitted_on != m) && restored_hyper_ &&
        restored_hyper_->first.fitted_on == m && restored_hyper_->first.kind == options_.kernel &&
        restored_hyper_->second == bo::ObservationChecksum(surrogate_, m)) {
      hyper_ = restored_hyper_->first;
      restored_hyper_used_ = true;
    }
    restored_hyper_.reset();
    if (!hyper_ || hyper_->fitted_on != m) {
      absl::StatusOr<bo::HyperParameters> fit = surrogate_.Fit(m);
      if (fit.ok()) {
        hyper_ = *fit;
        report.refitted = true;
        records_.push_back(
            {kModelHyper, 0, bo::EncodeHyper(*hyper_, bo::ObservationChecksum(surrogate_, m))});
      } else {
        model = fit.status();
      }
    }
    report.fit_seconds = SecondsSince(fit_start);
    const auto model_start = std::chrono::steady_clock::now();
    if (hyper_ && hyper_->fitted_on == m) {
      report.hyper = *hyper_;
      model = surrogate_.BuildModel(*hyper_, pending);
    }
    stop = true;
    if (precompute.joinable()) precompute.join();
    surrogate_.CacheRows(std::move(rows));
    report.model_seconds = SecondsSince(model_start);
    if (!model.ok()) return model.status();
    report.gram_projected = (*model)->projected();
    report.projection_removed = (*model)->projection_removed();
    return absl::OkStatus();
  };

  std::optional<int64_t> parent_id;
  if (options_.local_optimizer) {
    // All morphs of one random observation (LocalBayesOpt).
    const Evaluated& parent = history_[rng.Index(history_.size())];
    parent_id = parent.candidate_id;
    absl::StatusOr<std::vector<Neighbour>> morphs =
        Neighbours(parent.architecture, options_.space, rng);
    if (!morphs.ok()) return morphs.status();
    for (Neighbour& morph : *morphs) {
      if (!Entry(morph.architecture).ok()) continue;  // cannot be built for this data
      if (absl::Status s = add(std::move(morph.architecture), mutate_sparsity(parent.sparsity));
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = build_model(); !s.ok()) return s;
  } else {
    const int population = std::max(1, options_.acquisition_population);
    for (int i = 0; i < population && i < options_.acquisition_evaluations; ++i) {
      absl::StatusOr<v1::Architecture> arch =
          RandomArchitecture(options_.space, options_.data, rng);
      if (!arch.ok()) return arch.status();
      std::optional<double> sparsity;
      if (options_.sparsity) sparsity = RandomSparsity(*options_.sparsity, rng);
      if (absl::Status s = add(*std::move(arch), sparsity); !s.ok()) return s;
    }
    if (absl::Status s = build_model(); !s.ok()) return s;
    std::vector<int> sample(static_cast<size_t>(options_.acquisition_sample));
    while (static_cast<int>(candidates.size()) < options_.acquisition_evaluations) {
      // Tournament over the last `population` candidates (aging).
      const int size = static_cast<int>(candidates.size());
      const int pool = std::min(population, size);
      for (int& s : sample) s = size - pool + static_cast<int>(rng.Index(pool));
      const Candidate& parent = candidates[best_of(sample)];
      absl::StatusOr<Neighbour> child =
          RandomNeighbour(parent.architecture, options_.space, options_.data, rng);
      if (!child.ok()) return child.status();
      std::optional<double> sparsity = mutate_sparsity(parent.sparsity);
      if (absl::Status s = add(std::move(child->architecture), sparsity); !s.ok()) return s;
    }
  }
  std::vector<int> eligible;
  for (int i = 0; i < static_cast<int>(candidates.size()); ++i) {
    if (candidates[i].eligible) eligible.push_back(i);
  }
  report.candidates = static_cast<int>(candidates.size());
  std::optional<Proposal> proposal;
  if (!eligible.empty()) {
    Candidate& best = candidates[best_of(eligible)];
    proposal = Proposal{std::move(best.architecture), best.sparsity, parent_id};
  } else {
    absl::StatusOr<Proposal> random = RandomProposal(rng, taken);
    if (!random.ok()) return random.status();
    proposal = *std::move(random);
  }
  report.acquisition_seconds =
      std::max(0.0, SecondsSince(start) - report.fit_seconds - report.model_seconds);
  last_step_ = report;
  stepped_ = true;
  return proposal;
}

std::optional<v1::BayesianOptimizationStatus> BayesianOptimization::ModelStatus() const {
  if (!stepped_) return std::nullopt;
  const BoStepReport& r = last_step_;
  const bo::HyperParameters& h = r.hyper;
  v1::BayesianOptimizationStatus s;
  s.set_observations(r.observations);
  s.set_kernel(h.kind == bo::KernelKind::kOtmann ? "otmann" : "wl");
  s.set_fitted_on(h.fitted_on);
  s.set_log_likelihood(h.log_likelihood);
  s.set_mean(h.mean);
  s.set_scale(h.scale);
  s.set_noise(h.noise);
  if (h.kind == bo::KernelKind::kOtmann) {
    for (double b : h.beta_lp) s.add_beta_lp(b);
    for (double b : h.beta_emd) s.add_beta_emd(b);
    s.set_alpha(h.alpha);
  } else {
    s.set_wl_depth(h.wl_depth);
  }
  if (options_.sparsity) s.set_sparsity_length(h.sparsity_length);
  s.set_pending(r.pending);
  s.set_refitted(r.refitted);
  s.set_fit_seconds(r.fit_seconds);
  s.set_model_seconds(r.model_seconds);
  s.set_acquisition_seconds(r.acquisition_seconds);
  s.set_step_seconds(r.fit_seconds + r.model_seconds + r.acquisition_seconds);
  return s;
}

}  // namespace unas::search
