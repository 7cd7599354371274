#include "tests/report/synthetic_job.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace unas::report::testing {
namespace {

// splitmix64: portable, so the data are the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(Next() >> 11) * 0x1.0p-53;
  }
  int Int(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

v1::Architecture RandomArchitecture(Rng& rng) {
  v1::Architecture arch;
  v1::CnnArchitecture* cnn = arch.mutable_cnn();
  const int blocks = rng.Int(1, 3);
  for (int b = 0; b < blocks; ++b) {
    v1::ConvBlock* block = cnn->add_conv_blocks();
    const int layers = rng.Int(1, 2);
    for (int l = 0; l < layers; ++l) {
      v1::ConvLayer* layer = block->add_layers();
      layer->set_type(static_cast<v1::ConvLayerType>(rng.Int(1, 3)));
      layer->set_kernel_size(std::array{3, 5, 7}[rng.Int(0, 2)]);
      layer->set_filters(rng.Int(2, 32));
      layer->set_stride2(rng.Int(0, 1) == 1);
      layer->set_has_bn(rng.Int(0, 1) == 1);
      layer->set_has_relu(true);
    }
  }
  if (rng.Int(0, 1) == 1) {
    cnn->mutable_pooling()->set_type(v1::POOL_TYPE_MAX);
    cnn->mutable_pooling()->set_pool_size(2);
  }
  cnn->add_dense_blocks()->set_units(rng.Int(10, 64));
  return arch;
}

double ErrorOf(const v1::Candidate& c, ErrorMetric metric) {
  return metric == ErrorMetric::kTest ? c.evaluation().test_error()
                                      : c.evaluation().validation_error();
}

bool Dominates(const v1::Candidate& a, const v1::Candidate& b, ErrorMetric metric) {
  const std::array<double, 4> x = {
      ErrorOf(a, metric), static_cast<double>(a.metrics().peak_memory_bytes()),
      static_cast<double>(a.metrics().model_size_bytes()), static_cast<double>(a.metrics().macs())};
  const std::array<double, 4> y = {
      ErrorOf(b, metric), static_cast<double>(b.metrics().peak_memory_bytes()),
      static_cast<double>(b.metrics().model_size_bytes()), static_cast<double>(b.metrics().macs())};
  bool strictly = false;
  for (int i = 0; i < 4; ++i) {
    if (x[i] > y[i]) return false;
    strictly |= x[i] < y[i];
  }
  return strictly;
}

}  // namespace

void RecomputeFeasibilityAndPareto(ReportData& data) {
  const v1::Bounds& b = data.job.spec().bounds();
  for (v1::Candidate& c : data.history) {
    c.set_feasible(
        (!b.has_error() || c.evaluation().validation_error() <= b.error()) &&
        (!b.has_peak_memory_bytes() || c.metrics().peak_memory_bytes() <= b.peak_memory_bytes()) &&
        (!b.has_model_size_bytes() || c.metrics().model_size_bytes() <= b.model_size_bytes()) &&
        (!b.has_macs() || c.metrics().macs() <= b.macs()));
  }
  data.pareto.clear();
  for (const v1::Candidate& c : data.history) {
    if (!c.feasible()) continue;
    bool dominated = false;
    for (const v1::Candidate& other : data.history) {
      if (other.feasible() && Dominates(other, c, data.error_metric)) {
        dominated = true;
        break;
      }
    }
    if (!dominated) data.pareto.push_back(c);
  }
  std::stable_sort(data.pareto.begin(), data.pareto.end(),
                   [&data](const v1::Candidate& x, const v1::Candidate& y) {
                     return ErrorOf(x, data.error_metric) < ErrorOf(y, data.error_metric);
                   });
}

ReportData MakeSyntheticJob(const SyntheticOptions& options) {
  Rng rng(options.seed);
  ReportData data;
  v1::Job& job = data.job;
  job.set_job_id(7);
  job.set_state(v1::JOB_STATE_RUNNING);
  v1::JobSpec& spec = *job.mutable_spec();
  spec.set_name("fashion_mnist_quick");
  spec.mutable_dataset()->set_name(v1::DATASET_NAME_FASHION_MNIST);
  spec.mutable_search_space()->set_kind(v1::SEARCH_SPACE_KIND_CNN);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_population_size(10);
  spec.mutable_algorithm()->mutable_aging_evolution()->set_sample_size(5);
  spec.mutable_algorithm()->set_rounds(options.candidates + 20);
  spec.set_seed(options.seed);
  if (options.bounded) {
    spec.mutable_bounds()->set_error(0.2);
    spec.mutable_bounds()->set_peak_memory_bytes(16000);
    spec.mutable_bounds()->set_model_size_bytes(16000);
    spec.mutable_bounds()->set_macs(2000000);
  }
  job.mutable_create_time()->set_seconds(1700000000);
  job.mutable_update_time()->set_seconds(1700000000 + 60 * options.candidates);

  for (int i = 0; i < options.candidates; ++i) {
    v1::Candidate c;
    c.set_job_id(job.job_id());
    c.set_candidate_id(i + 1);
    *c.mutable_architecture() = RandomArchitecture(rng);
    if (i >= 10) c.set_parent_id(rng.Int(1, i));
    c.set_state(v1::CANDIDATE_STATE_DONE);
    c.set_attempts(1);
    c.set_worker_id(i % 2 == 0 ? "w1" : "w2");
    // Model size 10^[2.3, 5.2] bytes; PMU, MACs and error follow it.
    const double log_size = rng.Uniform(2.3, 5.2);
    const double size = std::pow(10.0, log_size);
    v1::ResourceMetrics& m = *c.mutable_metrics();
    m.set_model_size_bytes(static_cast<int64_t>(size));
    m.set_model_size_deployed_bytes(static_cast<int64_t>(size * rng.Uniform(1.2, 1.6)));
    m.set_peak_memory_bytes(static_cast<int64_t>(size * rng.Uniform(0.4, 3.0)));
    m.set_peak_memory_with_input_bytes(m.peak_memory_bytes() + 784);
    m.set_macs(static_cast<int64_t>(size * rng.Uniform(15, 150)));
    m.set_conv_dense_macs(m.macs() * 9 / 10);
    m.set_parameter_count(m.model_size_bytes());
    m.set_latency_proxy(static_cast<double>(m.macs()) * 1.5);
    v1::EvaluationResult& e = *c.mutable_evaluation();
    const double val = std::clamp(
        0.08 + 0.45 * std::exp(-1.1 * (log_size - 2.3)) + rng.Uniform(-0.02, 0.04), 0.05, 0.9);
    e.set_validation_error(val);
    e.set_test_error(std::clamp(val + rng.Uniform(-0.01, 0.02), 0.0, 1.0));
    if (i % 3 == 0) e.set_int8_test_error(e.test_error() + rng.Uniform(0.0, 0.01));
    e.set_training_seconds(rng.Uniform(5, 40));
    e.set_device("cpu");
    e.add_epochs()->set_epoch(1);
    c.mutable_finish_time()->set_seconds(1700000000 + 60 * (i + 1));
    data.history.push_back(std::move(c));
  }
  RecomputeFeasibilityAndPareto(data);
  v1::JobProgress& p = *job.mutable_progress();
  p.set_rounds(spec.algorithm().rounds());
  p.set_evaluations_done(options.candidates);
  p.set_evaluations_in_flight(2);
  p.set_evaluations_queued(1);
  int feasible_last_25 = 0;
  const int first = std::max(0, options.candidates - 25);
  for (int i = first; i < options.candidates; ++i)
    feasible_last_25 += data.history[i].feasible() ? 1 : 0;
  p.set_feasible_in_last_25(feasible_last_25);
  return data;
}

}  // namespace unas::report::testing
