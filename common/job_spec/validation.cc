#include "common/job_spec/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_spec/dataset_info.h"
#include "common/job_spec/defaults.h"
#include "common/search_space/space.h"

namespace unas {
namespace {

constexpr int kMaxFeasibleDraws = 10000;
constexpr int kMaxMorphismRedraws = 1000;

// Collects errors; the checks below read like the rules in docs/job_spec.md.
class Checker {
 public:
  void Fail(const std::string& field, const std::string& rule) {
    errors_.push_back({field, absl::StrCat(field, " ", rule)});
  }
  void Required(const std::string& field, bool present, const std::string& hint = "") {
    if (!present)
      Fail(field,
           absl::StrCat("is required", hint.empty() ? "" : " (", hint, hint.empty() ? "" : ")"));
  }
  template <typename T>
  void Positive(const std::string& field, T value) {
    if (!(value > 0)) Fail(field, absl::StrCat("(", value, ") must be > 0"));
  }
  template <typename T>
  void AtLeast(const std::string& field, T value, T minimum) {
    if (value < minimum) Fail(field, absl::StrCat("(", value, ") must be >= ", minimum));
  }
  template <typename T>
  void AtMost(const std::string& field, T value, T maximum) {
    if (value > maximum) Fail(field, absl::StrCat("(", value, ") must be <= ", maximum));
  }
  // lo <= value < hi
  void HalfOpen(const std::string& field, double value, double lo, double hi) {
    if (!(value >= lo && value < hi)) {
      Fail(field, absl::StrCat("(", value, ") must be in [", lo, ", ", hi, ")"));
    }
  }
  void Closed(const std::string& field, double value, double lo, double hi) {
    if (!(value >= lo && value <= hi)) {
      Fail(field, absl::StrCat("(", value, ") must be in [", lo, ", ", hi, "]"));
    }
  }
  // An error whose message is already a whole sentence "field: rule".
  void AddMessage(const std::string& message) {
    std::string field = message.substr(0, message.find(':'));
    errors_.push_back({field, message});
  }
  size_t count() const { return errors_.size(); }
  std::vector<FieldError> Take() { return std::move(errors_); }

 private:
  std::vector<FieldError> errors_;
};

void CheckName(const v1::JobSpec& spec, Checker& c) {
  if (spec.name().empty()) {
    c.Required("name", false);
    return;
  }
  for (char ch : spec.name()) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' &&
        ch != '.') {
      c.Fail("name", absl::StrCat("(\"", spec.name(),
                                  "\") may contain only letters, digits, '-', '_' and '.'"));
      return;
    }
  }
}

void CheckDataset(const v1::JobSpec& spec, Checker& c) {
  const v1::DatasetSpec& d = spec.dataset();
  if (d.name() == v1::DATASET_NAME_UNSPECIFIED) {
    c.Required("dataset.name", false, "e.g. DATASET_NAME_FASHION_MNIST");
    return;
  }
  absl::StatusOr<DatasetInfo> info = DescribeDataset(d);
  if (!info.ok()) {
    c.Fail("dataset.name", "is not a known dataset");
    return;
  }
  if (d.data_dir().empty()) {
    c.Required("dataset.data_dir", false,
               absl::StrCat(DatasetDisplayName(d.name()), " has no standard location"));
  }
  c.HalfOpen("dataset.validation_fraction", d.validation_fraction(), 0, 1);
  if (d.binary() && !info->has_binary_variant) {
    c.Fail("dataset.binary", absl::StrCat("is not available: ", DatasetDisplayName(d.name()),
                                          " has no binary variant"));
  }
  if (d.has_image_size()) {
    c.Positive("dataset.image_size.height", d.image_size().height());
    c.Positive("dataset.image_size.width", d.image_size().width());
  }
  c.AtLeast("dataset.max_train_examples", d.max_train_examples(), 0);
  c.AtLeast("dataset.max_test_examples", d.max_test_examples(), 0);

  // The shape is derived; a user-written one must agree with the dataset.
  const v1::TensorShape& s = spec.input_shape();
  const v1::TensorShape& want = info->input_shape;
  if (spec.has_input_shape() && (s.height() != want.height() || s.width() != want.width() ||
                                 s.channels() != want.channels())) {
    c.Fail("input_shape",
           absl::StrCat("(", s.height(), "x", s.width(), "x", s.channels(),
                        ") does not match the dataset's ", want.height(), "x", want.width(), "x",
                        want.channels(), "; it is derived from the dataset, leave it out"));
  }
  if (spec.has_num_classes() && spec.num_classes() != info->num_classes) {
    c.Fail("num_classes", absl::StrCat("(", spec.num_classes(), ") does not match the dataset's ",
                                       info->num_classes, "; it is derived, leave it out"));
  }
}

void CheckCnnSpace(const v1::CnnSpaceBounds& b, Checker& c) {
  const std::string p = "search_space.cnn.";
  c.AtLeast(p + "max_conv_blocks", b.max_conv_blocks(), 1);
  c.AtLeast(p + "max_layers_per_block", b.max_layers_per_block(), 1);
  c.AtLeast(p + "max_filters", b.max_filters(), 1);
  c.AtLeast(p + "max_dense_blocks", b.max_dense_blocks(), 1);
  c.AtLeast(p + "min_dense_units", b.min_dense_units(), 1);
  if (b.max_dense_units() < b.min_dense_units()) {
    c.Fail(p + "max_dense_units", absl::StrCat("(", b.max_dense_units(), ") must be >= ", p,
                                               "min_dense_units (", b.min_dense_units(), ")"));
  }
  if (b.kernel_sizes().empty()) c.Fail(p + "kernel_sizes", "must not be empty");
  for (int i = 0; i < b.kernel_sizes_size(); ++i) {
    int k = b.kernel_sizes(i);
    if (k < 1 || k % 2 == 0) {
      c.Fail(absl::StrCat(p, "kernel_sizes[", i, "]"),
             absl::StrCat("(", k, ") must be odd and >= 1"));
    }
  }
  if (b.pool_sizes().empty()) c.Fail(p + "pool_sizes", "must not be empty");
  for (int i = 0; i < b.pool_sizes_size(); ++i) {
    c.AtLeast(absl::StrCat(p, "pool_sizes[", i, "]"), b.pool_sizes(i), 2);
  }
}

void CheckMlpSpace(const v1::MlpSpaceBounds& b, Checker& c) {
  const std::string p = "search_space.mlp.";
  c.AtLeast(p + "max_layers", b.max_layers(), 1);
  c.AtLeast(p + "min_units", b.min_units(), 1);
  if (b.max_units() < b.min_units()) {
    c.Fail(p + "max_units",
           absl::StrCat("(", b.max_units(), ") must be >= ", p, "min_units (", b.min_units(), ")"));
  }
}

void CheckSearchSpace(const v1::SearchSpaceSpec& s, Checker& c) {
  size_t before = c.count();
  switch (s.kind()) {
    case v1::SEARCH_SPACE_KIND_CNN:
      CheckCnnSpace(s.cnn(), c);
      if (s.has_mlp()) c.Fail("search_space.mlp", "is set but search_space.kind is CNN");
      break;
    case v1::SEARCH_SPACE_KIND_MLP:
      CheckMlpSpace(s.mlp(), c);
      if (s.has_cnn()) c.Fail("search_space.cnn", "is set but search_space.kind is MLP");
      if (s.dropout() != 0) c.Fail("search_space.dropout", "applies to the CNN space only");
      break;
    default:
      c.Required("search_space.kind", false, "SEARCH_SPACE_KIND_CNN or SEARCH_SPACE_KIND_MLP");
      break;
  }
  c.HalfOpen("search_space.dropout", s.dropout(), 0, 1);
  // The search space itself has further limits (sizes that keep tensors and
  // the peak-memory search reasonable); it reports them with field paths.
  if (c.count() == before) {
    if (absl::StatusOr<SearchSpace> space = ResolveSearchSpace(s); !space.ok()) {
      c.AddMessage(std::string(space.status().message()));
    }
  }
}

void CheckAlgorithm(const v1::AlgorithmSpec& a, Checker& c) {
  c.Positive("algorithm.rounds", a.rounds());
  c.AtMost("algorithm.rounds", a.rounds(),
           a.has_bayesian_optimization() ? defaults::kMaxBayesianOptimizationRounds
                                         : defaults::kMaxRounds);
  if (a.has_aging_evolution()) {
    const v1::AgingEvolutionSpec& ae = a.aging_evolution();
    const std::string p = "algorithm.aging_evolution.";
    c.Positive(p + "population_size", ae.population_size());
    c.AtMost(p + "population_size", ae.population_size(), defaults::kMaxPopulationSize);
    c.Positive(p + "sample_size", ae.sample_size());
    c.AtMost(p + "sample_size", ae.sample_size(), defaults::kMaxPopulationSize);
    c.Positive(p + "initial_population_size", ae.initial_population_size());
    c.AtMost(p + "initial_population_size", ae.initial_population_size(),
             defaults::kMaxPopulationSize);
    if (ae.population_size() > 0 && ae.sample_size() > ae.population_size()) {
      c.Fail(p + "sample_size", absl::StrCat("(", ae.sample_size(), ") must be <= ", p,
                                             "population_size (", ae.population_size(), ")"));
    }
    if (ae.initial_population_size() > 0 && a.rounds() > 0 &&
        a.rounds() < ae.initial_population_size()) {
      c.Fail("algorithm.rounds",
             absl::StrCat("(", a.rounds(), ") must be >= ", p, "initial_population_size (",
                          ae.initial_population_size(), "), or evolution never starts"));
    }
  } else if (a.has_bayesian_optimization()) {
    const v1::BayesianOptimizationSpec& bo = a.bayesian_optimization();
    c.AtLeast("algorithm.bayesian_optimization.starting_points", bo.starting_points(), 1);
    if (bo.kernel() != v1::BO_KERNEL_OTMANN && bo.kernel() != v1::BO_KERNEL_WL) {
      c.Fail("algorithm.bayesian_optimization.kernel", "must be BO_KERNEL_OTMANN or BO_KERNEL_WL");
    }
    if (bo.starting_points() > a.rounds() && a.rounds() > 0) {
      c.Fail("algorithm.rounds",
             absl::StrCat("(", a.rounds(), ") must be >= algorithm.bayesian_optimization.",
                          "starting_points (", bo.starting_points(), ")"));
    }
  }
  double f = a.skip_infeasible_factor();
  if (f != 0 && !(f >= 1)) {
    c.Fail("algorithm.skip_infeasible_factor",
           absl::StrCat("(", f, ") must be 0 (never skip) or >= 1"));
  }
  // Bounded so that one proposal stays cheap: each draw costs an exact
  // peak-memory search (milliseconds, up to about a second in the widest space).
  const v1::FeasibleProposalsSpec& fp = a.feasible_proposals();
  const std::string q = "algorithm.feasible_proposals.";
  c.Closed(q + "draws", fp.draws(), 1, kMaxFeasibleDraws);
  if (!(fp.max_bound_excess() >= 1)) {
    c.Fail(q + "max_bound_excess", absl::StrCat("(", fp.max_bound_excess(), ") must be >= 1"));
  }
  c.Closed(q + "morphism_redraws", fp.morphism_redraws(), 0, kMaxMorphismRedraws);
}

void CheckMonitor(const std::string& field, v1::MonitoredQuantity m, Checker& c) {
  if (m != v1::MONITORED_QUANTITY_VALIDATION_LOSS &&
      m != v1::MONITORED_QUANTITY_VALIDATION_ACCURACY) {
    c.Fail(field, "must be MONITORED_QUANTITY_VALIDATION_LOSS or _VALIDATION_ACCURACY");
  }
}

void CheckSchedule(const v1::TrainingSpec& t, Checker& c) {
  const v1::LearningRateSchedule& s = t.lr_schedule();
  if (s.has_piecewise_constant()) {
    const std::string p = "training.lr_schedule.piecewise_constant.";
    const v1::PiecewiseConstantSchedule& pc = s.piecewise_constant();
    if (pc.values_size() != pc.boundaries_size() + 1) {
      c.Fail(p + "values", absl::StrCat("has ", pc.values_size(),
                                        " elements; it needs one more than boundaries (",
                                        pc.boundaries_size(), ")"));
    }
    for (int i = 0; i < pc.boundaries_size(); ++i) {
      int prev = i == 0 ? 0 : pc.boundaries(i - 1);
      if (pc.boundaries(i) <= prev) {
        c.Fail(absl::StrCat(p, "boundaries[", i, "]"),
               absl::StrCat("(", pc.boundaries(i), ") must be > ", prev,
                            i == 0 ? "" : " (boundaries increase strictly)"));
      }
    }
    for (int i = 0; i < pc.values_size(); ++i) {
      c.Positive(absl::StrCat(p, "values[", i, "]"), pc.values(i));
    }
  } else if (s.has_reduce_on_plateau()) {
    const std::string p = "training.lr_schedule.reduce_on_plateau.";
    const v1::ReduceOnPlateauSchedule& r = s.reduce_on_plateau();
    if (!(r.factor() > 0 && r.factor() < 1)) {
      c.Fail(p + "factor", absl::StrCat("(", r.factor(), ") must be in (0, 1)"));
    }
    c.AtLeast(p + "patience", r.patience(), 1);
    c.AtLeast(p + "min_delta", r.min_delta(), 0.0);
    c.AtLeast(p + "min_learning_rate", r.min_learning_rate(), 0.0);
    CheckMonitor(p + "monitor", r.monitor(), c);
  }
}

void CheckPruning(const v1::TrainingSpec& t, Checker& c) {
  if (!t.has_pruning()) return;
  const v1::PruningSpec& pr = t.pruning();
  const std::string p = "training.pruning.";
  c.Required(p + "start_epoch", pr.has_start_epoch());
  c.Required(p + "finish_epoch", pr.has_finish_epoch());
  if (pr.has_start_epoch()) c.AtLeast(p + "start_epoch", pr.start_epoch(), 1);
  if (pr.has_start_epoch() && pr.has_finish_epoch() && pr.finish_epoch() < pr.start_epoch()) {
    c.Fail(p + "finish_epoch", absl::StrCat("(", pr.finish_epoch(), ") must be >= ", p,
                                            "start_epoch (", pr.start_epoch(), ")"));
  }
  if (pr.has_finish_epoch() && t.epochs() > 0 && pr.finish_epoch() > t.epochs()) {
    c.Fail(p + "finish_epoch",
           absl::StrCat("(", pr.finish_epoch(), ") must be <= training.epochs (", t.epochs(), ")"));
  }
  c.HalfOpen(p + "min_sparsity", pr.min_sparsity(), 0, 1);
  c.HalfOpen(p + "max_sparsity", pr.max_sparsity(), 0, 1);
  if (pr.min_sparsity() > pr.max_sparsity()) {
    c.Fail(p + "min_sparsity", absl::StrCat("(", pr.min_sparsity(), ") must be <= ", p,
                                            "max_sparsity (", pr.max_sparsity(), ")"));
  }
  c.AtLeast(p + "mask_update_period", pr.mask_update_period(), 1);
}

void CheckTraining(const v1::TrainingSpec& t, Checker& c) {
  const v1::OptimizerSpec& o = t.optimizer();
  if (o.kind() == v1::OPTIMIZER_KIND_UNSPECIFIED) {
    c.Required("training.optimizer.kind", false, "OPTIMIZER_KIND_SGD, _SGDW, _ADAM or _ADAMW");
  }
  if (o.has_learning_rate()) {
    c.Positive("training.optimizer.learning_rate", o.learning_rate());
  } else if (!t.lr_schedule().has_piecewise_constant()) {
    c.Required("training.optimizer.learning_rate", false, "or a piecewise_constant schedule");
  }
  c.HalfOpen("training.optimizer.momentum", o.momentum(), 0, 1);
  if (o.momentum() != 0 &&
      (o.kind() == v1::OPTIMIZER_KIND_ADAM || o.kind() == v1::OPTIMIZER_KIND_ADAMW)) {
    c.Fail("training.optimizer.momentum", "applies to SGD and SGDW only");
  }
  c.AtLeast("training.optimizer.weight_decay", o.weight_decay(), 0.0);
  CheckSchedule(t, c);
  if (!t.has_epochs()) {
    c.Required("training.epochs", false);
  } else {
    c.Positive("training.epochs", t.epochs());
  }
  c.Positive("training.batch_size", t.batch_size());
  if (t.has_early_stopping()) {
    const v1::EarlyStoppingSpec& e = t.early_stopping();
    c.Required("training.early_stopping.patience", e.has_patience());
    if (e.has_patience()) c.AtLeast("training.early_stopping.patience", e.patience(), 1);
    c.AtLeast("training.early_stopping.min_delta", e.min_delta(), 0.0);
    CheckMonitor("training.early_stopping.monitor", e.monitor(), c);
  }
  const v1::AugmentationSpec& a = t.augmentation();
  c.Closed("training.augmentation.rotation_probability", a.rotation_probability(), 0, 1);
  c.AtLeast("training.augmentation.max_rotation_radians", a.max_rotation_radians(), 0.0);
  c.AtLeast("training.augmentation.max_shift_pixels", a.max_shift_pixels(), 0);
  c.AtLeast("training.kernel_l2", t.kernel_l2(), 0.0);
  c.AtLeast("training.batch_norm_recalibration_images", t.batch_norm_recalibration_images(), 0);
  CheckPruning(t, c);
  if (t.has_distillation()) {
    const v1::DistillationSpec& d = t.distillation();
    c.Required("training.distillation.teacher_path", !d.teacher_path().empty());
    c.Closed("training.distillation.alpha", d.alpha(), 0, 1);
    c.Positive("training.distillation.temperature", d.temperature());
  }
}

void CheckLearningCurve(const v1::TrainingSpec& t, Checker& c) {
  if (!t.has_learning_curve()) return;
  const v1::LearningCurveSpec& l = t.learning_curve();
  c.Closed("training.learning_curve.points_per_epoch", l.points_per_epoch(), 1,
           defaults::kMaxCurvePointsPerEpoch);
  c.AtLeast("training.learning_curve.validation_images", l.validation_images(), 1);
}

void CheckAutomatedStopping(const v1::JobSpec& spec, Checker& c) {
  if (!spec.has_automated_stopping()) return;
  const v1::AutomatedStoppingSpec& s = spec.automated_stopping();
  if (s.rule() != v1::STOPPING_RULE_MEDIAN) {
    c.Fail("automated_stopping.rule", "must be STOPPING_RULE_MEDIAN");
  }
  c.Closed("automated_stopping.min_completed", s.min_completed(), 1,
           defaults::kMaxStoppingMinCompleted);
  c.Closed("automated_stopping.grace_epochs", s.grace_epochs(), 0, spec.training().epochs());
  c.Required("training.learning_curve", spec.training().has_learning_curve(),
             "automated_stopping reads the learning curve");
}

void CheckBounds(const v1::Bounds& b, Checker& c) {
  if (!b.has_error() && !b.has_peak_memory_bytes() && !b.has_model_size_bytes() && !b.has_macs()) {
    c.Fail("bounds",
           "must set at least one of error, peak_memory_bytes, model_size_bytes, macs "
           "(the search's fitness is measured against the bounds)");
  }
  if (b.has_error() && !(b.error() > 0 && b.error() <= 1)) {
    c.Fail("bounds.error", absl::StrCat("(", b.error(), ") must be in (0, 1]"));
  }
  if (b.has_peak_memory_bytes()) c.Positive("bounds.peak_memory_bytes", b.peak_memory_bytes());
  if (b.has_model_size_bytes()) c.Positive("bounds.model_size_bytes", b.model_size_bytes());
  if (b.has_macs()) c.Positive("bounds.macs", b.macs());
}

}  // namespace

std::vector<FieldError> FindJobSpecErrors(const v1::JobSpec& spec) {
  Checker c;
  CheckName(spec, c);
  if (!spec.base().empty()) {
    c.Fail("base", "must be resolved before validation (load the spec with LoadJobSpecFile)");
  }
  if (!spec.clear_from_base().empty()) {
    c.Fail("clear_from_base", "must be resolved with base before validation");
  }
  CheckDataset(spec, c);
  CheckSearchSpace(spec.search_space(), c);
  CheckAlgorithm(spec.algorithm(), c);
  CheckTraining(spec.training(), c);
  CheckLearningCurve(spec.training(), c);
  CheckAutomatedStopping(spec, c);
  CheckBounds(spec.bounds(), c);
  c.AtLeast("max_parallel_evaluations", spec.max_parallel_evaluations(), 0);
  c.Positive("lease_ttl_seconds", spec.lease_ttl_seconds());
  c.Positive("max_attempts", spec.max_attempts());
  c.Positive("max_consecutive_failures", spec.max_consecutive_failures());
  c.Positive("progress_timeout_seconds", spec.progress_timeout_seconds());
  return c.Take();
}

absl::Status ValidateJobSpec(const v1::JobSpec& spec) {
  std::vector<FieldError> errors = FindJobSpecErrors(spec);
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  for (const FieldError& e : errors) lines.push_back(e.message);
  return absl::InvalidArgumentError(
      absl::StrCat("invalid job spec '", spec.name(), "':\n  ", absl::StrJoin(lines, "\n  ")));
}

}  // namespace unas
