#include "common/job_spec/defaults.h"

#include <algorithm>

#include "common/job_spec/dataset_info.h"

namespace unas {
namespace {

void FillCnnBounds(v1::CnnSpaceBounds* b) {
  if (!b->has_max_conv_blocks()) b->set_max_conv_blocks(defaults::kMaxConvBlocks);
  if (!b->has_max_layers_per_block()) b->set_max_layers_per_block(defaults::kMaxLayersPerBlock);
  if (!b->has_max_filters()) b->set_max_filters(defaults::kMaxFilters);
  if (b->kernel_sizes().empty()) {
    for (int k : {3, 5, 7}) b->add_kernel_sizes(k);
  }
  if (b->pool_sizes().empty()) {
    for (int p : {2, 4, 6}) b->add_pool_sizes(p);
  }
  if (!b->has_max_dense_blocks()) b->set_max_dense_blocks(defaults::kMaxDenseBlocks);
  if (!b->has_min_dense_units()) b->set_min_dense_units(defaults::kMinDenseUnits);
  if (!b->has_max_dense_units()) b->set_max_dense_units(defaults::kMaxDenseUnits);
}

void FillMlpBounds(v1::MlpSpaceBounds* b) {
  if (!b->has_max_layers()) b->set_max_layers(defaults::kMaxMlpLayers);
  if (!b->has_min_units()) b->set_min_units(defaults::kMinDenseUnits);
  if (!b->has_max_units()) b->set_max_units(defaults::kMaxDenseUnits);
}

void FillDataset(v1::DatasetSpec* d) {
  absl::StatusOr<DatasetInfo> info = DescribeDataset(*d);
  if (d->data_dir().empty() && info.ok()) d->set_data_dir(info->default_data_dir);
  if (!d->has_validation_fraction()) d->set_validation_fraction(defaults::kValidationFraction);
  if (!d->has_binary()) d->set_binary(false);
  if (!d->has_max_train_examples()) d->set_max_train_examples(0);
  if (!d->has_max_test_examples()) d->set_max_test_examples(0);
  bool sized =
      d->name() == v1::DATASET_NAME_CHARS74K || d->name() == v1::DATASET_NAME_VISUAL_WAKE_WORDS;
  if (sized && !d->has_image_size() && info.ok()) {
    d->mutable_image_size()->set_height(info->input_shape.height());
    d->mutable_image_size()->set_width(info->input_shape.width());
  }
}

void FillAlgorithm(v1::AlgorithmSpec* a) {
  if (a->kind_case() == v1::AlgorithmSpec::KIND_NOT_SET) a->mutable_aging_evolution();
  switch (a->kind_case()) {
    case v1::AlgorithmSpec::kAgingEvolution: {
      v1::AgingEvolutionSpec* ae = a->mutable_aging_evolution();
      if (!ae->has_population_size()) ae->set_population_size(defaults::kPopulationSize);
      if (!ae->has_sample_size()) ae->set_sample_size(defaults::kSampleSize);
      if (!ae->has_initial_population_size()) {
        ae->set_initial_population_size(ae->population_size());
      }
      if (!a->has_rounds()) a->set_rounds(defaults::kAgingEvolutionRounds);
      break;
    }
    case v1::AlgorithmSpec::kBayesianOptimization: {
      v1::BayesianOptimizationSpec* bo = a->mutable_bayesian_optimization();
      if (!bo->has_starting_points()) bo->set_starting_points(defaults::kBayesOptStartingPoints);
      if (!bo->has_multi_fidelity()) bo->set_multi_fidelity(false);
      if (bo->acquisition_optimizer() == v1::ACQUISITION_OPTIMIZER_UNSPECIFIED) {
        bo->set_acquisition_optimizer(v1::ACQUISITION_OPTIMIZER_AGING);
      }
      if (bo->kernel() == v1::BO_KERNEL_UNSPECIFIED) bo->set_kernel(v1::BO_KERNEL_OTMANN);
      if (!a->has_rounds()) a->set_rounds(defaults::kBayesOptRounds);
      break;
    }
    default:
      if (!a->has_rounds()) a->set_rounds(defaults::kAgingEvolutionRounds);
      break;
  }
  if (!a->has_skip_infeasible_factor()) a->set_skip_infeasible_factor(0);
}

// On by default, except in pruning jobs: there the dense network's resources
// only bound the pruned network's, and holding the dense network to the
// bounds would leave pruning nothing to do.
void FillFeasibleProposals(const v1::TrainingSpec& t, v1::FeasibleProposalsSpec* f) {
  if (!f->has_enabled()) f->set_enabled(!t.has_pruning());
  if (!f->has_draws()) f->set_draws(defaults::kFeasibleDraws);
  if (!f->has_max_bound_excess()) f->set_max_bound_excess(defaults::kMaxBoundExcess);
  if (!f->has_morphism_redraws()) f->set_morphism_redraws(defaults::kMorphismRedraws);
}

void FillMonitor(v1::MonitoredQuantity* monitor) {
  if (*monitor == v1::MONITORED_QUANTITY_UNSPECIFIED) {
    *monitor = v1::MONITORED_QUANTITY_VALIDATION_LOSS;
  }
}

void FillTraining(const v1::DatasetSpec& dataset, v1::TrainingSpec* t) {
  v1::OptimizerSpec* opt = t->mutable_optimizer();
  if (!opt->has_momentum()) opt->set_momentum(0);
  if (!opt->has_weight_decay()) opt->set_weight_decay(0);
  if (t->lr_schedule().has_reduce_on_plateau()) {
    // Keras's ReduceLROnPlateau defaults.
    v1::ReduceOnPlateauSchedule* r = t->mutable_lr_schedule()->mutable_reduce_on_plateau();
    if (!r->has_factor()) r->set_factor(0.1);
    if (!r->has_patience()) r->set_patience(10);
    if (!r->has_min_delta()) r->set_min_delta(1e-4);
    if (!r->has_min_learning_rate()) r->set_min_learning_rate(0);
    v1::MonitoredQuantity monitor = r->monitor();
    FillMonitor(&monitor);
    r->set_monitor(monitor);
  }
  if (!t->has_batch_size()) t->set_batch_size(defaults::kBatchSize);
  if (t->has_early_stopping()) {
    v1::EarlyStoppingSpec* e = t->mutable_early_stopping();
    if (!e->has_min_delta()) e->set_min_delta(0);
    v1::MonitoredQuantity monitor = e->monitor();
    FillMonitor(&monitor);
    e->set_monitor(monitor);
  }
  if (!t->has_use_class_weights()) t->set_use_class_weights(false);
  if (!t->has_kernel_l2()) t->set_kernel_l2(0);
  if (!t->has_batch_norm_recalibration_images()) {
    t->set_batch_norm_recalibration_images(defaults::kBatchNormRecalibrationImages);
  }
  FillAugmentationDefaults(dataset, t->mutable_augmentation());
  if (t->has_pruning()) {
    v1::PruningSpec* p = t->mutable_pruning();
    if (!p->has_structured()) p->set_structured(false);
    if (!p->has_min_sparsity()) p->set_min_sparsity(0);
    if (!p->has_max_sparsity()) p->set_max_sparsity(defaults::kMaxSparsity);
    if (!p->has_mask_update_period()) p->set_mask_update_period(defaults::kMaskUpdatePeriod);
  }
  if (t->has_distillation()) {
    v1::DistillationSpec* d = t->mutable_distillation();
    if (!d->has_alpha()) d->set_alpha(defaults::kDistillationAlpha);
    if (!d->has_temperature()) d->set_temperature(defaults::kDistillationTemperature);
  }
  if (t->device() == v1::DEVICE_UNSPECIFIED) t->set_device(v1::DEVICE_AUTO);
  if (t->has_learning_curve()) {
    v1::LearningCurveSpec* curve = t->mutable_learning_curve();
    if (!curve->has_points_per_epoch()) curve->set_points_per_epoch(defaults::kCurvePointsPerEpoch);
    if (!curve->has_validation_images()) {
      curve->set_validation_images(defaults::kCurveValidationImages);
    }
  }
}

// Automated stopping reads the learning curve: turning it on asks for one.
void FillAutomatedStopping(v1::JobSpec* spec) {
  if (!spec->has_automated_stopping()) return;
  v1::AutomatedStoppingSpec* s = spec->mutable_automated_stopping();
  if (s->rule() == v1::STOPPING_RULE_UNSPECIFIED) s->set_rule(v1::STOPPING_RULE_MEDIAN);
  if (!s->has_min_completed()) s->set_min_completed(defaults::kStoppingMinCompleted);
  if (!s->has_grace_epochs()) s->set_grace_epochs(defaults::kStoppingGraceEpochs);
  spec->mutable_training()->mutable_learning_curve();
}

}  // namespace

void FillSearchSpaceDefaults(v1::SearchSpaceSpec* spec) {
  if (!spec->has_dropout()) spec->set_dropout(0);
  if (spec->kind() == v1::SEARCH_SPACE_KIND_CNN) FillCnnBounds(spec->mutable_cnn());
  if (spec->kind() == v1::SEARCH_SPACE_KIND_MLP) FillMlpBounds(spec->mutable_mlp());
}

void FillAugmentationDefaults(const v1::DatasetSpec& dataset, v1::AugmentationSpec* a) {
  if (!a->has_enabled()) a->set_enabled(true);
  if (!a->enabled()) return;
  // Chars74K and VWW shift by up to 10 % of the image side.
  int tenth_of_side = 0;
  if (absl::StatusOr<DatasetInfo> info = DescribeDataset(dataset); info.ok()) {
    tenth_of_side = std::min(info->input_shape.height(), info->input_shape.width()) / 10;
  }
  // The original's training-time augmentation per dataset (§9).
  bool flip = false;
  double rotation_probability = 0;
  double max_rotation = 0;
  int shift = 0;
  switch (dataset.name()) {
    case v1::DATASET_NAME_MNIST:
      rotation_probability = 0.3, max_rotation = 0.2, shift = 2;
      break;
    case v1::DATASET_NAME_FASHION_MNIST:
      flip = true, rotation_probability = 0.3, max_rotation = 0.2, shift = 2;
      break;
    case v1::DATASET_NAME_CIFAR10:
      flip = true, shift = 4;
      break;
    case v1::DATASET_NAME_CHARS74K:
      shift = tenth_of_side;
      break;
    case v1::DATASET_NAME_VISUAL_WAKE_WORDS:
      flip = true, shift = tenth_of_side;
      break;
    default:  // Speech Commands augments the audio, not the features.
      break;
  }
  if (!a->has_horizontal_flip()) a->set_horizontal_flip(flip);
  if (!a->has_rotation_probability()) a->set_rotation_probability(rotation_probability);
  if (!a->has_max_rotation_radians()) a->set_max_rotation_radians(max_rotation);
  if (!a->has_max_shift_pixels()) a->set_max_shift_pixels(shift);
}

void FillDefaults(v1::JobSpec* spec) {
  FillAutomatedStopping(spec);
  FillDataset(spec->mutable_dataset());
  FillSearchSpaceDefaults(spec->mutable_search_space());
  FillAlgorithm(spec->mutable_algorithm());
  FillFeasibleProposals(spec->training(), spec->mutable_algorithm()->mutable_feasible_proposals());
  FillTraining(spec->dataset(), spec->mutable_training());
  if (!spec->has_seed()) spec->set_seed(0);
  if (!spec->has_max_parallel_evaluations()) spec->set_max_parallel_evaluations(0);
  if (!spec->has_lease_ttl_seconds()) spec->set_lease_ttl_seconds(defaults::kLeaseTtlSeconds);
  if (!spec->has_max_attempts()) spec->set_max_attempts(defaults::kMaxAttempts);
  if (!spec->has_max_consecutive_failures()) {
    spec->set_max_consecutive_failures(defaults::kMaxConsecutiveFailures);
  }
  if (!spec->has_progress_timeout_seconds()) {
    spec->set_progress_timeout_seconds(defaults::kProgressTimeoutSeconds);
  }
  absl::StatusOr<DatasetInfo> info = DescribeDataset(spec->dataset());
  if (info.ok()) {
    if (!spec->has_input_shape()) *spec->mutable_input_shape() = info->input_shape;
    if (!spec->has_num_classes()) spec->set_num_classes(info->num_classes);
  }
}

}  // namespace unas
