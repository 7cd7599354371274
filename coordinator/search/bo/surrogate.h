// The error model of Bayesian optimisation: the observed architectures, their
// pairwise OTMANN distances (computed once, when an observation arrives: O(n)
// new transports per observation), the kernel (OTMANN or WL, times a Matérn
// kernel on sparsity in pruning jobs), hyper-parameters fitted by marginal
// likelihood, and the GP posterior at new architectures with pending
// evaluations hallucinated at the GP mean.
#ifndef UNAS_COORDINATOR_SEARCH_BO_SURROGATE_H_
#define UNAS_COORDINATOR_SEARCH_BO_SURROGATE_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "coordinator/search/bo/arch_graph.h"
#include "coordinator/search/bo/gp.h"
#include "coordinator/search/bo/otmann.h"
#include "coordinator/search/bo/wl_kernel.h"

namespace unas::search::bo {

enum class KernelKind { kOtmann, kWeisfeilerLehman };

// An analysed architecture: what every kernel and the acquisition read.
struct ArchEntry {
  uint64_t fingerprint = 0;
  ArchAnalysis analysis;
  WlFeatures wl;
};

absl::StatusOr<std::shared_ptr<const ArchEntry>> MakeArchEntry(const v1::Architecture& arch,
                                                               const DataShape& data,
                                                               uint64_t fingerprint);

// Hyper-parameter bounds of the original's GP (docs/search.md); searched in log space.
inline constexpr double kBetaLpMin = 1e-9, kBetaLpMax = 1e-3;
inline constexpr double kBetaEmdMin = 0.1, kBetaEmdMax = 100.0;
inline constexpr double kScaleMin = 0.03, kScaleMax = 30.0;  // × Var(y)
inline constexpr double kNoiseMin = 1e-6, kNoiseMax = 1.0;   // × Var(y)
// Matérn-5/2 length on sparsity, × the job's sparsity range.
inline constexpr double kSparsityLengthMin = 0.05, kSparsityLengthMax = 5.0;

struct HyperParameters {
  KernelKind kind = KernelKind::kOtmann;
  std::array<double, kNumCoefficientPairs> beta_lp{};
  std::array<double, kNumCoefficientPairs> beta_emd{};
  double alpha = 0.5;  // weight of the lp term; 1 - alpha for the emd term
  int wl_depth = 2;
  double sparsity_length = 1.0;
  double mean = 0.0;
  double scale = 1.0;
  double noise = 1e-3;
  double log_likelihood = 0.0;
  int fitted_on = 0;  // observations the fit used
};

// One point of the GP: an architecture and, in pruning jobs, its sparsity.
struct GpPoint {
  std::shared_ptr<const ArchEntry> entry;
  std::optional<double> sparsity;
};

struct SurrogateOptions {
  KernelKind kind = KernelKind::kOtmann;
  std::optional<double> sparsity_range;  // max - min of the job's sparsity; unset: no pruning
  // The hyper-parameter fit uses at most this many observations (evenly
  // spaced in history order): the fit decomposes its Gram matrix once per
  // trial, which at several hundred observations would dominate a step.
  int max_fit_observations = 200;
  int max_fit_trials = 80;  // kernel-parameter trials per fit (OTMANN)
  int threads = 1;          // for distance rows
};

class Surrogate {
 public:
  explicit Surrogate(SurrogateOptions options) : options_(options) {}

  // Appends an observation and its distances to the earlier ones. True
  // when its row came from RestoreRows instead of being computed.
  bool Add(GpPoint point, double error);
  int size() const { return static_cast<int>(points_.size()); }
  const std::vector<GpPoint>& points() const { return points_; }
  const std::vector<double>& errors() const { return errors_; }

  // OTMANN distances of `entry` to observations [0, size()), cached per
  // fingerprint until dropped by RetainRows (a later call computes only the
  // distances to newer observations).
  const std::vector<OtmannDistance>& DistancesToObservations(const ArchEntry& entry);
  void RetainRows(const absl::flat_hash_set<uint64_t>& keep);

  // OTMANN rows of `entries` (in order) computed on one thread until `stop`
  // becomes true (the last one possibly partial), for the caller to store
  // with CacheRows later. It reads no cache, so it may run while another
  // thread builds a model. Rows are exact: which ones were computed ahead
  // changes no result, only when the work is done.
  bool HasRow(uint64_t fingerprint) const { return rows_.contains(fingerprint); }
  std::vector<std::pair<uint64_t, std::vector<OtmannDistance>>> ComputeRowsUntil(
      const std::vector<const ArchEntry*>& entries, const std::atomic<bool>& stop) const;
  void CacheRows(std::vector<std::pair<uint64_t, std::vector<OtmannDistance>>> rows);

  // The stored form of observation i's row (its OTMANN distances, or WL dot
  // products, to the observations before it), tagged with the kernel and
  // its fingerprint: doubles bit for bit, so a restored row equals the one
  // computed (in the byte order of the machine that wrote it).
  std::string EncodeRow(int i) const;
  // Rows an earlier run stored, by position. Add takes the row of position
  // size() from here instead of computing it while every observation so far
  // matched the stored ones (kernel, fingerprint, length); the first
  // mismatch drops all of them, so a row is used only where it is exactly
  // what Add would compute.
  void RestoreRows(absl::flat_hash_map<int64_t, std::string> rows) { restored_ = std::move(rows); }
  int restored_rows_used() const { return restored_used_; }

  // WL dot products of two graphs per iteration 0..kMaxWlDepth.
  using WlDots = std::array<double, kMaxWlDepth + 1>;

  // Kernel value (scale included) between two points whose OTMANN distance
  // is `d` (read by the OTMANN kernel) and whose WL dot products are `dots`
  // (read by the WL kernel; computed when null).
  double Kernel(const HyperParameters& h, const GpPoint& a, const GpPoint& b,
                const OtmannDistance& d, const WlDots* dots = nullptr) const;

  // Marginal-likelihood fit on the first `m` observations.
  absl::StatusOr<HyperParameters> Fit(int m) const;

  // The GP over all observations plus `pending` (hallucinated at the
  // posterior mean of the observations-only GP).
  class Model;
  absl::StatusOr<std::unique_ptr<Model>> BuildModel(const HyperParameters& h,
                                                    const std::vector<GpPoint>& pending);

 private:
  const OtmannDistance& Pairwise(int i, int j) const;  // i != j
  const WlDots* PairwiseDots(int i, int j) const;      // i != j
  Eigen::MatrixXd UnscaledGram(const HyperParameters& h, const std::vector<int>& idx) const;
  // Appends the restored row of observation size() if there is a matching one.
  bool AddRestoredRow(uint64_t fingerprint);

  SurrogateOptions options_;
  std::vector<GpPoint> points_;
  std::vector<double> errors_;
  // distances_[i][j], wl_dots_[i][j]: observation i to observation j < i
  // (the kernel's own pair data only).
  std::vector<std::vector<OtmannDistance>> distances_;
  std::vector<std::vector<WlDots>> wl_dots_;
  // Node-based: references handed out stay valid while other rows are added.
  absl::node_hash_map<uint64_t, std::vector<OtmannDistance>> rows_;
  absl::flat_hash_map<int64_t, std::string> restored_;  // RestoreRows, not yet used
  int restored_used_ = 0;
};

class Surrogate::Model {
 public:
  // Posterior mean and variance of the error at `x`.
  std::pair<double, double> Posterior(const GpPoint& x);
  const HyperParameters& hyper() const { return hyper_; }
  bool projected() const { return gp_.projected(); }
  double projection_removed() const { return gp_.projection_removed(); }

 private:
  friend class Surrogate;
  Model(Surrogate* s, HyperParameters h, std::vector<GpPoint> pending, GaussianProcess gp)
      : surrogate_(s), hyper_(h), pending_(std::move(pending)), gp_(std::move(gp)) {}
  Surrogate* surrogate_;
  HyperParameters hyper_;
  std::vector<GpPoint> pending_;
  GaussianProcess gp_;
};

// Deterministic parallel loop over [0, n) with up to `threads` threads.
void ParallelFor(int n, int threads, const std::function<void(int)>& body);

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_SURROGATE_H_
