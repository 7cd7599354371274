// A Gaussian process on a precomputed kernel matrix (architectures have no
// coordinates; the kernels compare graphs). The Gram matrix is projected onto
// the positive semi-definite cone before the Cholesky factorisation when it
// is not already positive definite (the OTMANN kernel need not be PSD).
// Hyper-parameters that only scale the kernel (signal scale, noise) are
// fitted on one eigen-decomposition; the kernel's own parameters by an outer
// search that calls LogMarginalLikelihood / FitScaleAndNoise.
#ifndef UNAS_COORDINATOR_SEARCH_BO_GP_H_
#define UNAS_COORDINATOR_SEARCH_BO_GP_H_

#include <Eigen/Dense>

#include "absl/status/statusor.h"

namespace unas::search::bo {

// The nearest PSD matrix in Frobenius norm: negative eigenvalues set to 0.
// `removed`, when given, receives how far the projection moved the matrix:
// the norm of the negative eigenvalues over the norm of all of them.
Eigen::MatrixXd ProjectToPsd(const Eigen::MatrixXd& k, double* removed = nullptr);

// Eigen-decomposition of an (unscaled) kernel matrix with negative
// eigenvalues clipped to 0, and the centred targets in its eigenbasis.
struct Spectrum {
  Eigen::VectorXd eigenvalues;  // >= 0
  Eigen::VectorXd projected;    // U^T (y - mean)
};
Spectrum Decompose(const Eigen::MatrixXd& k, const Eigen::VectorXd& centred_y);

// log p(y) of N(mean, scale·K⁺ + noise·I), K⁺ the PSD projection.
double LogMarginalLikelihood(const Spectrum& spectrum, double scale, double noise);

struct ScaleAndNoise {
  double scale = 1.0;
  double noise = 1e-3;
  double log_likelihood = 0.0;
};
// Maximises the marginal likelihood over scale and noise within the bounds
// (log-space search, deterministic).
ScaleAndNoise FitScaleAndNoise(const Spectrum& spectrum, double scale_lo, double scale_hi,
                               double noise_lo, double noise_hi);

// The posterior of the latent function given y under N(mean, K + noise·I),
// K the full (scaled) kernel matrix of the training points.
class GaussianProcess {
 public:
  // `psd_by_construction` skips the positive-definiteness check (WL kernel).
  static absl::StatusOr<GaussianProcess> Fit(Eigen::MatrixXd k, const Eigen::VectorXd& y,
                                             double mean, double noise,
                                             bool psd_by_construction = false);

  // Fit in two halves: Factor projects and factorises K (the expensive
  // part, independent of the targets), Condition then takes the targets.
  // Posterior needs both.
  static absl::StatusOr<GaussianProcess> Factor(Eigen::MatrixXd k, double mean, double noise,
                                                bool psd_by_construction = false);
  absl::Status Condition(const Eigen::VectorXd& y);

  int size() const { return static_cast<int>(llt_.rows()); }
  bool projected() const { return projected_; }
  // ProjectToPsd's `removed` (0 when the Gram matrix needed no projection).
  double projection_removed() const { return projection_removed_; }

  // Mean and variance (>= 0) at a point with kernel values `k_x` against
  // the training points and prior variance `k_xx`.
  std::pair<double, double> Posterior(const Eigen::VectorXd& k_x, double k_xx) const;

 private:
  Eigen::LLT<Eigen::MatrixXd> llt_;  // of K⁺ + noise·I
  Eigen::VectorXd alpha_;
  double mean_ = 0.0;
  bool projected_ = false;
  double projection_removed_ = 0.0;
};

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_GP_H_
