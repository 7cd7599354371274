// The GP on precomputed kernels: PSD projection, the posterior against its
// closed form, marginal-likelihood fits, and the WL kernel's matrix.
#include "coordinator/search/bo/gp.h"

#include <cmath>
#include <vector>

#include "common/search_space/random_architecture.h"
#include "common/search_space/rng.h"
#include "coordinator/search/bo/arch_graph.h"
#include "coordinator/search/bo/wl_kernel.h"
#include "gtest/gtest.h"

namespace unas::search::bo {
namespace {

Eigen::MatrixXd Rbf(const std::vector<double>& x, double length) {
  const int n = static_cast<int>(x.size());
  Eigen::MatrixXd k(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      double d = (x[i] - x[j]) / length;
      k(i, j) = std::exp(-0.5 * d * d);
    }
  }
  return k;
}

TEST(PsdTest, ProjectionClipsNegativeEigenvaluesOnly) {
  Eigen::MatrixXd k(2, 2);
  k << 1.0, 2.0, 2.0, 1.0;  // eigenvalues 3 and -1
  Eigen::MatrixXd p = ProjectToPsd(k);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(p);
  EXPECT_NEAR(eig.eigenvalues()[0], 0.0, 1e-12);
  EXPECT_NEAR(eig.eigenvalues()[1], 3.0, 1e-12);
  EXPECT_NEAR(p(0, 0), 1.5, 1e-12);
  EXPECT_NEAR(p(0, 1), 1.5, 1e-12);
  Eigen::MatrixXd psd = Rbf({0.0, 0.3, 1.0}, 0.5);
  EXPECT_LT((ProjectToPsd(psd) - psd).norm(), 1e-12);
}

// The projection and the spectrum of a Gram-sized indefinite matrix with a
// cluster of eigenvalues at 0 (an RBF Gram of many close points, which MRRR
// must keep orthogonal) agree with Eigen's own solver.
TEST(PsdTest, LargeIndefiniteMatrixAgreesWithSelfAdjointEigenSolver) {
  Rng rng(5);
  std::vector<double> x;
  for (int i = 0; i < 300; ++i) x.push_back(rng.UniformDouble());
  Eigen::MatrixXd k = Rbf(x, 0.3);
  for (int i = 0; i < 300; ++i) {
    for (int j = 0; j < i; ++j) k(i, j) = k(j, i) = k(i, j) + 0.01 * (rng.UniformDouble() - 0.5);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(k);
  ASSERT_LT(eig.eigenvalues()[0], -1e-3);  // really indefinite
  Eigen::MatrixXd want = eig.eigenvectors() * eig.eigenvalues().cwiseMax(0.0).asDiagonal() *
                         eig.eigenvectors().transpose();
  double removed = 0;
  EXPECT_LT((ProjectToPsd(k, &removed) - want).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_GT(removed, 0.0);
  Eigen::VectorXd y(300);
  for (int i = 0; i < 300; ++i) y[i] = std::sin(6 * x[i]);
  Spectrum s = Decompose(k, y);
  Spectrum reference{eig.eigenvalues().cwiseMax(0.0), eig.eigenvectors().transpose() * y};
  EXPECT_LT((s.eigenvalues - reference.eigenvalues).cwiseAbs().maxCoeff(), 1e-10);
  EXPECT_NEAR(LogMarginalLikelihood(s, 1.0, 1e-2), LogMarginalLikelihood(reference, 1.0, 1e-2),
              1e-8);
}

TEST(GpTest, PosteriorMatchesTheClosedFormForOnePoint) {
  // One observation y = 1 at kernel value 1 (prior mean 0, noise 0.25): at a
  // point with covariance 0.5 to it, mean = 0.5/1.25, var = 1 - 0.25/1.25.
  Eigen::MatrixXd k(1, 1);
  k << 1.0;
  Eigen::VectorXd y(1);
  y << 1.0;
  absl::StatusOr<GaussianProcess> gp = GaussianProcess::Fit(k, y, 0.0, 0.25);
  ASSERT_TRUE(gp.ok());
  Eigen::VectorXd kx(1);
  kx << 0.5;
  auto [mu, var] = gp->Posterior(kx, 1.0);
  EXPECT_NEAR(mu, 0.4, 1e-12);
  EXPECT_NEAR(var, 0.8, 1e-12);
}

TEST(GpTest, InterpolatesToyDataAndProjectsAnIndefiniteGram) {
  std::vector<double> x = {0.0, 0.5, 1.0, 1.5, 2.0};
  Eigen::VectorXd y(5);
  for (int i = 0; i < 5; ++i) y[i] = std::sin(x[i]);
  absl::StatusOr<GaussianProcess> gp = GaussianProcess::Fit(Rbf(x, 0.7), y, 0.0, 1e-6);
  ASSERT_TRUE(gp.ok());
  EXPECT_FALSE(gp->projected());
  Eigen::MatrixXd k = Rbf(x, 0.7);
  for (int i = 0; i < 5; ++i) {
    auto [mu, var] = gp->Posterior(k.col(i), 1.0);
    EXPECT_NEAR(mu, y[i], 1e-3);
    EXPECT_LT(var, 1e-3);
  }
  Eigen::MatrixXd bad(2, 2);
  bad << 1.0, 2.0, 2.0, 1.0;
  absl::StatusOr<GaussianProcess> projected =
      GaussianProcess::Fit(bad, Eigen::Vector2d(0.1, 0.2), 0.0, 0.01);
  ASSERT_TRUE(projected.ok());
  EXPECT_TRUE(projected->projected());
}

TEST(GpTest, MarginalLikelihoodRecoversLengthScaleAndSignalScale) {
  // 120 points from a GP with length 0.4, scale 2, noise 0.01.
  Rng rng(3);
  std::vector<double> x;
  for (int i = 0; i < 120; ++i) x.push_back(rng.Uniform(0.0, 6.0));
  Eigen::MatrixXd k = 2.0 * Rbf(x, 0.4);
  k.diagonal().array() += 0.01;
  Eigen::LLT<Eigen::MatrixXd> llt(k);
  Eigen::VectorXd z(120);
  for (int i = 0; i < 120; ++i) z[i] = rng.Normal(0, 1);
  Eigen::VectorXd y = llt.matrixL() * z;
  double best_length = 0, best_lml = -1e300;
  ScaleAndNoise best_sn;
  for (double length : {0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2, 2.0}) {
    Spectrum s = Decompose(Rbf(x, length), y);
    ScaleAndNoise sn = FitScaleAndNoise(s, 0.01, 100.0, 1e-4, 1.0);
    EXPECT_GE(sn.log_likelihood, LogMarginalLikelihood(s, 1.0, 0.1) - 1e-9);
    if (sn.log_likelihood > best_lml) {
      best_lml = sn.log_likelihood;
      best_length = length;
      best_sn = sn;
    }
  }
  EXPECT_GE(best_length, 0.3);
  EXPECT_LE(best_length, 0.6);
  EXPECT_GT(best_sn.scale, 0.8);
  EXPECT_LT(best_sn.scale, 5.0);
  EXPECT_LT(best_sn.noise, 0.05);
}

TEST(WlKernelTest, NormalisedPsdAndOneOnTheDiagonal) {
  Rng rng(11);
  SearchSpace space = DefaultSearchSpace(SpaceKind::kCnn);
  DataShape data{32, 32, 3, 10};
  std::vector<WlFeatures> f;
  while (f.size() < 30) {
    absl::StatusOr<v1::Architecture> arch = RandomArchitecture(space, data, rng);
    ASSERT_TRUE(arch.ok());
    absl::StatusOr<ArchAnalysis> a = AnalyseArchitecture(*arch, data);
    ASSERT_TRUE(a.ok());
    f.push_back(ComputeWlFeatures(a->graph));
  }
  for (int depth = 1; depth <= kMaxWlDepth; ++depth) {
    Eigen::MatrixXd k(30, 30);
    for (int i = 0; i < 30; ++i) {
      for (int j = 0; j < 30; ++j) k(i, j) = WlKernel(f[i], f[j], depth);
    }
    EXPECT_LT((k - k.transpose()).norm(), 1e-12);
    for (int i = 0; i < 30; ++i) EXPECT_NEAR(k(i, i), 1.0, 1e-12);
    EXPECT_GE(k.minCoeff(), 0.0);
    EXPECT_LE(k.maxCoeff(), 1.0 + 1e-12);
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(k);
    EXPECT_GT(eig.eigenvalues()[0], -1e-9) << "depth " << depth;
  }
  // Deeper iterations separate graphs more: the mean similarity falls.
  double shallow = 0, deep = 0;
  for (int i = 0; i < 30; ++i) {
    for (int j = 0; j < i; ++j) {
      shallow += WlKernel(f[i], f[j], 1);
      deep += WlKernel(f[i], f[j], 3);
    }
  }
  EXPECT_LT(deep, shallow);
}

}  // namespace
}  // namespace unas::search::bo
