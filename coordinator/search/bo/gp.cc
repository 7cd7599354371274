#include "coordinator/search/bo/gp.h"

#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include "absl/strings/str_cat.h"

namespace unas::search::bo {

namespace {

// LAPACK's MRRR solver for a symmetric tridiagonal matrix (liblapack). The
// trailing arguments are the hidden lengths of the two character arguments
// (gfortran's calling convention).
extern "C" void dstemr_(const char* jobz, const char* range, const int* n, double* d, double* e,
                        const double* vl, const double* vu, const int* il, const int* iu, int* m,
                        double* w, double* z, const int* ldz, const int* nzc, int* isuppz,
                        int* tryrac, double* work, const int* lwork, int* iwork, const int* liwork,
                        int* info, size_t jobz_length, size_t range_length);

struct Eigensystem {
  Eigen::VectorXd values;  // ascending
  Eigen::MatrixXd vectors;
};

// Eigen's Householder tridiagonalisation, then LAPACK's MRRR on the
// tridiagonal matrix and Eigen's blocked back-transformation: at 800 points
// about a quarter of SelfAdjointEigenSolver's time, whose implicit QR spends
// most of it rotating the eigenvector matrix. SelfAdjointEigenSolver
// remains the fallback should MRRR report a failure.
Eigensystem SymmetricEigen(const Eigen::MatrixXd& k) {
  const int n = static_cast<int>(k.rows());
  Eigensystem out;
  if (n >= 2) {
    Eigen::Tridiagonalization<Eigen::MatrixXd> tri(k);
    Eigen::VectorXd d = tri.diagonal();
    Eigen::VectorXd e(n);
    e.head(n - 1) = tri.subDiagonal();
    e[n - 1] = 0.0;
    out.values.resize(n);
    Eigen::MatrixXd z(n, n);
    std::vector<int> isuppz(2 * static_cast<size_t>(n));
    const int lwork = 18 * n, liwork = 10 * n;
    std::vector<double> work(static_cast<size_t>(lwork));
    std::vector<int> iwork(static_cast<size_t>(liwork));
    const double unused_bound = 0.0;
    const int unused_index = 0;
    int found = 0, tryrac = 1, info = 0;
    dstemr_("V", "A", &n, d.data(), e.data(), &unused_bound, &unused_bound, &unused_index,
            &unused_index, &found, out.values.data(), z.data(), &n, &n, isuppz.data(), &tryrac,
            work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
    if (info == 0 && found == n) {
      out.vectors = tri.matrixQ() * z;
      return out;
    }
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(k);
  out.values = eig.eigenvalues();
  out.vectors = eig.eigenvectors();
  return out;
}

}  // namespace

Eigen::MatrixXd ProjectToPsd(const Eigen::MatrixXd& k, double* removed) {
  Eigensystem eig = SymmetricEigen(k);
  Eigen::VectorXd clipped = eig.values.cwiseMax(0.0);
  if (removed != nullptr) {
    double all = eig.values.norm();
    *removed = all > 0 ? (eig.values - clipped).norm() / all : 0.0;
  }
  return eig.vectors * clipped.asDiagonal() * eig.vectors.transpose();
}

Spectrum Decompose(const Eigen::MatrixXd& k, const Eigen::VectorXd& centred_y) {
  Eigensystem eig = SymmetricEigen(k);
  Spectrum s;
  s.eigenvalues = eig.values.cwiseMax(0.0);
  s.projected = eig.vectors.transpose() * centred_y;
  return s;
}

double LogMarginalLikelihood(const Spectrum& spectrum, double scale, double noise) {
  const Eigen::Index n = spectrum.eigenvalues.size();
  double quad = 0, log_det = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    double v = scale * spectrum.eigenvalues[i] + noise;
    quad += spectrum.projected[i] * spectrum.projected[i] / v;
    log_det += std::log(v);
  }
  return -0.5 * quad - 0.5 * log_det -
         0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);
}

namespace {

struct ScaleNoiseProblem {
  const Spectrum* spectrum;
};

double NegativeLml(unsigned, const double* x, double*, void* data) {
  const auto* p = static_cast<const ScaleNoiseProblem*>(data);
  return -LogMarginalLikelihood(*p->spectrum, std::exp(x[0]), std::exp(x[1]));
}

}  // namespace

ScaleAndNoise FitScaleAndNoise(const Spectrum& spectrum, double scale_lo, double scale_hi,
                               double noise_lo, double noise_hi) {
  ScaleNoiseProblem problem{&spectrum};
  double lo[2] = {std::log(scale_lo), std::log(noise_lo)};
  double hi[2] = {std::log(scale_hi), std::log(noise_hi)};
  // Start from the best point of a coarse grid: the likelihood surface is
  // smooth in log space but may have several local optima.
  double x[2] = {lo[0], lo[1]};
  double best = std::numeric_limits<double>::infinity();
  constexpr int kGrid = 6;
  for (int i = 0; i <= kGrid; ++i) {
    for (int j = 0; j <= kGrid; ++j) {
      double p[2] = {lo[0] + (hi[0] - lo[0]) * i / kGrid, lo[1] + (hi[1] - lo[1]) * j / kGrid};
      double v = NegativeLml(2, p, nullptr, &problem);
      if (v < best) {
        best = v;
        x[0] = p[0];
        x[1] = p[1];
      }
    }
  }
  nlopt_opt opt = nlopt_create(NLOPT_LN_BOBYQA, 2);
  nlopt_set_lower_bounds(opt, lo);
  nlopt_set_upper_bounds(opt, hi);
  nlopt_set_min_objective(opt, NegativeLml, &problem);
  nlopt_set_xtol_rel(opt, 1e-4);
  nlopt_set_maxeval(opt, 200);
  double value = best;
  double start[2] = {x[0], x[1]};
  if (nlopt_optimize(opt, x, &value) < 0 || !(value <= best)) {
    x[0] = start[0];
    x[1] = start[1];
    value = best;
  }
  nlopt_destroy(opt);
  return {std::exp(x[0]), std::exp(x[1]), -value};
}

absl::StatusOr<GaussianProcess> GaussianProcess::Fit(Eigen::MatrixXd k, const Eigen::VectorXd& y,
                                                     double mean, double noise,
                                                     bool psd_by_construction) {
  absl::StatusOr<GaussianProcess> gp = Factor(std::move(k), mean, noise, psd_by_construction);
  if (!gp.ok()) return gp.status();
  if (absl::Status s = gp->Condition(y); !s.ok()) return s;
  return gp;
}

absl::StatusOr<GaussianProcess> GaussianProcess::Factor(Eigen::MatrixXd k, double mean,
                                                        double noise, bool psd_by_construction) {
  const Eigen::Index n = k.rows();
  if (k.cols() != n) {
    return absl::InvalidArgumentError(absl::StrCat("GP: kernel matrix ", k.rows(), "x", k.cols()));
  }
  if (!(noise > 0)) return absl::InvalidArgumentError(absl::StrCat("GP: noise ", noise));
  GaussianProcess gp;
  gp.mean_ = mean;
  if (!psd_by_construction && n > 0) {
    // Positive definite matrices are their own projection: only decompose
    // when the Cholesky factorisation of K itself fails.
    Eigen::LLT<Eigen::MatrixXd> check(k);
    if (check.info() != Eigen::Success) {
      k = ProjectToPsd(k, &gp.projection_removed_);
      gp.projected_ = true;
    }
  }
  k.diagonal().array() += noise;
  gp.llt_.compute(k);
  if (gp.llt_.info() != Eigen::Success) {
    return absl::InternalError("GP: the Cholesky factorisation failed after the PSD projection");
  }
  return gp;
}

absl::Status GaussianProcess::Condition(const Eigen::VectorXd& y) {
  if (y.size() != llt_.rows()) {
    return absl::InvalidArgumentError(
        absl::StrCat("GP: ", y.size(), " targets for ", llt_.rows(), " points"));
  }
  Eigen::VectorXd centred = y.array() - mean_;
  alpha_ = llt_.solve(centred);
  return absl::OkStatus();
}

std::pair<double, double> GaussianProcess::Posterior(const Eigen::VectorXd& k_x,
                                                     double k_xx) const {
  double mu = mean_ + k_x.dot(alpha_);
  Eigen::VectorXd v = llt_.matrixL().solve(k_x);
  double var = std::max(k_xx - v.squaredNorm(), 0.0);
  return {mu, var};
}

}  // namespace unas::search::bo
