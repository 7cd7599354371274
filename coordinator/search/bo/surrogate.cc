#include "coordinator/search/bo/surrogate.h"

#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>

#include "absl/strings/str_cat.h"

namespace unas::search::bo {
namespace {

double Matern52(double distance, double length) {
  double r = std::sqrt(5.0) * distance / length;
  return (1 + r + r * r / 3.0) * std::exp(-r);
}

double Variance(const std::vector<double>& y, double mean) {
  double v = 0;
  for (double e : y) v += (e - mean) * (e - mean);
  return y.size() > 1 ? v / static_cast<double>(y.size()) : 0.0;
}

}  // namespace

void ParallelFor(int n, int threads, const std::function<void(int)>& body) {
  threads = std::max(1, std::min(threads, n / 8));
  if (threads <= 1) {
    for (int i = 0; i < n; ++i) body(i);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = t; i < n; i += threads) body(i);
    });
  }
  for (int i = 0; i < n; i += threads) body(i);
  for (std::thread& th : pool) th.join();
}

absl::StatusOr<std::shared_ptr<const ArchEntry>> MakeArchEntry(const v1::Architecture& arch,
                                                               const DataShape& data,
                                                               uint64_t fingerprint) {
  absl::StatusOr<ArchAnalysis> analysis = AnalyseArchitecture(arch, data);
  if (!analysis.ok()) return analysis.status();
  auto entry = std::make_shared<ArchEntry>();
  entry->fingerprint = fingerprint;
  entry->analysis = *std::move(analysis);
  entry->wl = ComputeWlFeatures(entry->analysis.graph);
  return std::shared_ptr<const ArchEntry>(std::move(entry));
}

const std::vector<OtmannDistance>& Surrogate::DistancesToObservations(const ArchEntry& entry) {
  std::vector<OtmannDistance>& row = rows_[entry.fingerprint];
  const int from = static_cast<int>(row.size());
  const int to = size();
  if (from < to && options_.kind == KernelKind::kOtmann) {
    row.resize(static_cast<size_t>(to));
    ParallelFor(to - from, options_.threads, [&](int k) {
      row[static_cast<size_t>(from + k)] =
          ComputeOtmannDistance(entry.analysis.graph, points_[from + k].entry->analysis.graph);
    });
  } else if (from < to) {
    row.resize(static_cast<size_t>(to));  // WL reads no distances
  }
  return row;
}

std::vector<std::pair<uint64_t, std::vector<OtmannDistance>>> Surrogate::ComputeRowsUntil(
    const std::vector<const ArchEntry*>& entries, const std::atomic<bool>& stop) const {
  std::vector<std::pair<uint64_t, std::vector<OtmannDistance>>> out;
  if (options_.kind != KernelKind::kOtmann) return out;
  const int n = size();
  for (const ArchEntry* entry : entries) {
    if (stop.load(std::memory_order_relaxed)) break;
    std::vector<OtmannDistance> row(static_cast<size_t>(n));
    int j = 0;
    for (; j < n && !stop.load(std::memory_order_relaxed); ++j) {
      row[static_cast<size_t>(j)] =
          ComputeOtmannDistance(entry->analysis.graph, points_[j].entry->analysis.graph);
    }
    row.resize(static_cast<size_t>(j));  // a partial row is completed when it is read
    out.emplace_back(entry->fingerprint, std::move(row));
  }
  return out;
}

void Surrogate::CacheRows(std::vector<std::pair<uint64_t, std::vector<OtmannDistance>>> rows) {
  for (auto& [fingerprint, row] : rows) {
    std::vector<OtmannDistance>& cached = rows_[fingerprint];
    if (row.size() > cached.size()) cached = std::move(row);
  }
}

void Surrogate::RetainRows(const absl::flat_hash_set<uint64_t>& keep) {
  absl::erase_if(rows_, [&](const auto& kv) { return !keep.contains(kv.first); });
}

namespace {

// A stored row: the kernel (1 byte), the fingerprint (8), then the doubles.
constexpr size_t kRowHeader = 1 + sizeof(uint64_t);
static_assert(sizeof(OtmannDistance) == 2 * kNumCoefficientPairs * sizeof(double));

size_t DoublesPerPair(KernelKind kind) {
  return kind == KernelKind::kOtmann ? 2 * kNumCoefficientPairs : kMaxWlDepth + 1;
}

}  // namespace

std::string Surrogate::EncodeRow(int i) const {
  const size_t bytes = static_cast<size_t>(i) * DoublesPerPair(options_.kind) * sizeof(double);
  std::string out(kRowHeader + bytes, '\0');
  out[0] = static_cast<char>(options_.kind);
  const uint64_t fingerprint = points_[i].entry->fingerprint;
  std::memcpy(out.data() + 1, &fingerprint, sizeof(fingerprint));
  if (bytes == 0) return out;
  const void* data = options_.kind == KernelKind::kOtmann
                         ? static_cast<const void*>(distances_[i].data())
                         : static_cast<const void*>(wl_dots_[i].data());
  std::memcpy(out.data() + kRowHeader, data, bytes);
  return out;
}

bool Surrogate::AddRestoredRow(uint64_t fingerprint) {
  if (restored_.empty()) return false;
  const int i = size();
  auto it = restored_.find(i);
  const size_t bytes = static_cast<size_t>(i) * DoublesPerPair(options_.kind) * sizeof(double);
  uint64_t stored = 0;
  if (it != restored_.end() && it->second.size() == kRowHeader + bytes) {
    std::memcpy(&stored, it->second.data() + 1, sizeof(stored));
  }
  if (it == restored_.end() || it->second.size() != kRowHeader + bytes ||
      it->second[0] != static_cast<char>(options_.kind) || stored != fingerprint) {
    restored_.clear();  // the history differs from here on: compute every later row
    return false;
  }
  const char* data = it->second.data() + kRowHeader;
  if (options_.kind == KernelKind::kOtmann) {
    std::vector<OtmannDistance> row(static_cast<size_t>(i));
    if (bytes > 0) std::memcpy(static_cast<void*>(row.data()), data, bytes);
    distances_.push_back(std::move(row));
  } else {
    std::vector<WlDots> dots(static_cast<size_t>(i));
    if (bytes > 0) std::memcpy(static_cast<void*>(dots.data()), data, bytes);
    wl_dots_.push_back(std::move(dots));
  }
  restored_.erase(it);
  ++restored_used_;
  return true;
}

bool Surrogate::Add(GpPoint point, double error) {
  const bool restored = AddRestoredRow(point.entry->fingerprint);
  if (restored) {
    rows_.erase(point.entry->fingerprint);
  } else if (options_.kind == KernelKind::kOtmann) {
    std::vector<OtmannDistance> row = DistancesToObservations(*point.entry);
    rows_.erase(point.entry->fingerprint);
    distances_.push_back(std::move(row));
  } else {
    std::vector<WlDots> dots(points_.size());
    for (size_t j = 0; j < points_.size(); ++j) {
      for (int it = 0; it <= kMaxWlDepth; ++it) {
        dots[j][it] = WlDot(point.entry->wl, points_[j].entry->wl, it);
      }
    }
    wl_dots_.push_back(std::move(dots));
  }
  points_.push_back(std::move(point));
  errors_.push_back(error);
  return restored;
}

const OtmannDistance& Surrogate::Pairwise(int i, int j) const {
  static const OtmannDistance kUnused{};
  if (distances_.empty()) return kUnused;
  return i > j ? distances_[i][j] : distances_[j][i];
}

const Surrogate::WlDots* Surrogate::PairwiseDots(int i, int j) const {
  if (wl_dots_.empty()) return nullptr;
  return i > j ? &wl_dots_[i][j] : &wl_dots_[j][i];
}

double Surrogate::Kernel(const HyperParameters& h, const GpPoint& a, const GpPoint& b,
                         const OtmannDistance& d, const WlDots* dots) const {
  double base;
  if (h.kind == KernelKind::kOtmann) {
    double lp = 0, emd = 0;
    for (int k = 0; k < kNumCoefficientPairs; ++k) {
      lp += h.beta_lp[k] * d.lp[k];
      emd += h.beta_emd[k] * d.emd[k] * d.emd[k];
    }
    base = h.alpha * std::exp(-lp) + (1 - h.alpha) * std::exp(-emd);
  } else if (dots != nullptr) {
    double dot = 0;
    for (int it = 0; it <= h.wl_depth; ++it) dot += (*dots)[it];
    double norm =
        std::sqrt(a.entry->wl.squared_norm[h.wl_depth] * b.entry->wl.squared_norm[h.wl_depth]);
    base = norm > 0 ? dot / norm : 0.0;
  } else {
    base = WlKernel(a.entry->wl, b.entry->wl, h.wl_depth);
  }
  if (options_.sparsity_range && a.sparsity && b.sparsity) {
    base *= Matern52(std::abs(*a.sparsity - *b.sparsity), h.sparsity_length);
  }
  return h.scale * base;
}

Eigen::MatrixXd Surrogate::UnscaledGram(const HyperParameters& h,
                                        const std::vector<int>& idx) const {
  HyperParameters unit = h;
  unit.scale = 1.0;
  const int m = static_cast<int>(idx.size());
  Eigen::MatrixXd k(m, m);
  static const OtmannDistance kZero{};
  for (int a = 0; a < m; ++a) {
    k(a, a) = Kernel(unit, points_[idx[a]], points_[idx[a]], kZero);
    for (int b = 0; b < a; ++b) {
      k(a, b) = k(b, a) = Kernel(unit, points_[idx[a]], points_[idx[b]], Pairwise(idx[a], idx[b]),
                                 PairwiseDots(idx[a], idx[b]));
    }
  }
  return k;
}

namespace {

struct OuterProblem {
  const Surrogate* surrogate;
  std::function<double(const double*)> evaluate;
};

double OuterObjective(unsigned, const double* x, double*, void* data) {
  return static_cast<OuterProblem*>(data)->evaluate(x);
}

}  // namespace

absl::StatusOr<HyperParameters> Surrogate::Fit(int m) const {
  if (m < 0 || m > size()) {
    return absl::InvalidArgumentError(absl::StrCat("fit on ", m, " of ", size(), " observations"));
  }
  std::vector<int> idx;
  const int cap = std::max(2, options_.max_fit_observations);
  if (m <= cap) {
    for (int i = 0; i < m; ++i) idx.push_back(i);
  } else {
    for (int k = 0; k < cap; ++k) {
      idx.push_back(static_cast<int>(static_cast<int64_t>(k) * m / cap));
    }
  }
  std::vector<double> y;
  for (int i : idx) y.push_back(errors_[i]);
  HyperParameters h;
  h.kind = options_.kind;
  h.fitted_on = m;
  double mean = 0;
  for (double e : y) mean += e;
  h.mean = y.empty() ? 0.0 : mean / static_cast<double>(y.size());
  const double var = std::max(Variance(y, h.mean), 1e-6);
  for (int k = 0; k < kNumCoefficientPairs; ++k) {
    h.beta_lp[k] = std::sqrt(kBetaLpMin * kBetaLpMax);
    h.beta_emd[k] = std::sqrt(kBetaEmdMin * kBetaEmdMax);
  }
  h.alpha = 0.5;
  h.sparsity_length = options_.sparsity_range ? *options_.sparsity_range : 1.0;
  h.scale = var;
  h.noise = 0.01 * var;
  if (m < 2) return h;

  Eigen::VectorXd centred(static_cast<Eigen::Index>(y.size()));
  for (size_t i = 0; i < y.size(); ++i) centred[static_cast<Eigen::Index>(i)] = y[i] - h.mean;
  HyperParameters best = h;
  best.log_likelihood = -std::numeric_limits<double>::infinity();
  auto try_shape = [&](const HyperParameters& shape) {
    Spectrum spectrum = Decompose(UnscaledGram(shape, idx), centred);
    ScaleAndNoise sn = FitScaleAndNoise(spectrum, kScaleMin * var, kScaleMax * var, kNoiseMin * var,
                                        kNoiseMax * var);
    if (sn.log_likelihood > best.log_likelihood) {
      best = shape;
      best.scale = sn.scale;
      best.noise = sn.noise;
      best.log_likelihood = sn.log_likelihood;
    }
    return -sn.log_likelihood;
  };
  const double range = options_.sparsity_range.value_or(1.0);
  if (options_.kind == KernelKind::kWeisfeilerLehman) {
    // Depth by marginal likelihood (NAS-BOWL); the sparsity length on a grid.
    std::vector<double> lengths = {1.0};
    if (options_.sparsity_range) lengths = {0.05, 0.15, 0.5, 1.5, 5.0};
    for (int depth = 1; depth <= kMaxWlDepth; ++depth) {
      for (double length : lengths) {
        HyperParameters shape = h;
        shape.wl_depth = depth;
        shape.sparsity_length = length * range;
        try_shape(shape);
      }
    }
    return best;
  }
  // OTMANN: log β's, α and (pruning) log sparsity length by BOBYQA.
  const bool with_sparsity = options_.sparsity_range.has_value();
  const int dims = 2 * kNumCoefficientPairs + 1 + (with_sparsity ? 1 : 0);
  std::vector<double> lo(dims), hi(dims), x(dims);
  for (int k = 0; k < kNumCoefficientPairs; ++k) {
    lo[k] = std::log(kBetaLpMin);
    hi[k] = std::log(kBetaLpMax);
    lo[kNumCoefficientPairs + k] = std::log(kBetaEmdMin);
    hi[kNumCoefficientPairs + k] = std::log(kBetaEmdMax);
  }
  lo[2 * kNumCoefficientPairs] = 0.0;
  hi[2 * kNumCoefficientPairs] = 1.0;
  if (with_sparsity) {
    lo[dims - 1] = std::log(kSparsityLengthMin * range);
    hi[dims - 1] = std::log(kSparsityLengthMax * range);
  }
  for (int d = 0; d < dims; ++d) x[d] = 0.5 * (lo[d] + hi[d]);
  auto shape_of = [&](const double* p) {
    HyperParameters shape = h;
    for (int k = 0; k < kNumCoefficientPairs; ++k) {
      shape.beta_lp[k] = std::exp(p[k]);
      shape.beta_emd[k] = std::exp(p[kNumCoefficientPairs + k]);
    }
    shape.alpha = p[2 * kNumCoefficientPairs];
    if (with_sparsity) shape.sparsity_length = std::exp(p[dims - 1]);
    return shape;
  };
  OuterProblem problem{this, [&](const double* p) { return try_shape(shape_of(p)); }};
  nlopt_opt opt = nlopt_create(NLOPT_LN_BOBYQA, static_cast<unsigned>(dims));
  nlopt_set_lower_bounds(opt, lo.data());
  nlopt_set_upper_bounds(opt, hi.data());
  nlopt_set_min_objective(opt, OuterObjective, &problem);
  nlopt_set_maxeval(opt, options_.max_fit_trials);
  nlopt_set_xtol_rel(opt, 1e-3);
  double value = 0;
  nlopt_optimize(opt, x.data(), &value);  // `best` holds the best trial whatever the return code
  nlopt_destroy(opt);
  if (!std::isfinite(best.log_likelihood)) try_shape(h);
  return best;
}

absl::StatusOr<std::unique_ptr<Surrogate::Model>> Surrogate::BuildModel(
    const HyperParameters& h, const std::vector<GpPoint>& pending) {
  const int n = size();
  const int p = static_cast<int>(pending.size());
  std::vector<const std::vector<OtmannDistance>*> pending_rows;
  for (const GpPoint& q : pending) pending_rows.push_back(&DistancesToObservations(*q.entry));
  static const OtmannDistance kZero{};
  Eigen::MatrixXd k(n + p, n + p);
  for (int a = 0; a < n; ++a) {
    k(a, a) = Kernel(h, points_[a], points_[a], kZero);
    for (int b = 0; b < a; ++b) {
      k(a, b) = k(b, a) = Kernel(h, points_[a], points_[b], Pairwise(a, b), PairwiseDots(a, b));
    }
  }
  for (int q = 0; q < p; ++q) {
    const int a = n + q;
    k(a, a) = Kernel(h, pending[q], pending[q], kZero);
    for (int b = 0; b < n; ++b) {
      k(a, b) = k(b, a) = Kernel(h, pending[q], points_[b], (*pending_rows[q])[b]);
    }
    for (int r = 0; r < q; ++r) {
      OtmannDistance d = h.kind == KernelKind::kOtmann
                             ? ComputeOtmannDistance(pending[q].entry->analysis.graph,
                                                     pending[r].entry->analysis.graph)
                             : kZero;
      k(a, n + r) = k(n + r, a) = Kernel(h, pending[q], pending[r], d);
    }
  }
  Eigen::VectorXd y(n + p);
  for (int i = 0; i < n; ++i) y[i] = errors_[i];
  const bool psd = h.kind == KernelKind::kWeisfeilerLehman;
  // Hallucinate: the pending points "observed" at the observations-only
  // mean. The two GPs' projections and factorisations are independent (only
  // the targets of the second wait for the first), so with two threads they
  // run side by side; each is computed exactly as on its own.
  absl::StatusOr<GaussianProcess> observed = absl::UnknownError("no pending points");
  auto factor_observed = [&] {
    observed = GaussianProcess::Factor(k.topLeftCorner(n, n), h.mean, h.noise, psd);
  };
  std::thread side;
  if (p > 0 && options_.threads > 1) side = std::thread(factor_observed);
  absl::StatusOr<GaussianProcess> gp = GaussianProcess::Factor(k, h.mean, h.noise, psd);
  if (side.joinable()) {
    side.join();
  } else if (p > 0) {
    factor_observed();
  }
  if (p > 0) {
    if (!observed.ok()) return observed.status();
    if (absl::Status s = observed->Condition(y.head(n)); !s.ok()) return s;
    for (int q = 0; q < p; ++q) {
      y[n + q] = observed->Posterior(k.block(n + q, 0, 1, n).transpose(), k(n + q, n + q)).first;
    }
  }
  if (!gp.ok()) return gp.status();
  if (absl::Status s = gp->Condition(y); !s.ok()) return s;
  return std::unique_ptr<Model>(new Model(this, h, pending, *std::move(gp)));
}

std::pair<double, double> Surrogate::Model::Posterior(const GpPoint& x) {
  Surrogate& s = *surrogate_;
  const int n = s.size();
  const int p = static_cast<int>(pending_.size());
  Eigen::VectorXd k_x(n + p);
  static const OtmannDistance kZero{};
  const std::vector<OtmannDistance>& row = s.DistancesToObservations(*x.entry);
  for (int i = 0; i < n; ++i) k_x[i] = s.Kernel(hyper_, x, s.points_[i], row[i]);
  for (int q = 0; q < p; ++q) {
    OtmannDistance d =
        hyper_.kind == KernelKind::kOtmann
            ? ComputeOtmannDistance(x.entry->analysis.graph, pending_[q].entry->analysis.graph)
            : kZero;
    k_x[n + q] = s.Kernel(hyper_, x, pending_[q], d);
  }
  return gp_.Posterior(k_x, s.Kernel(hyper_, x, x, kZero));
}

}  // namespace unas::search::bo
