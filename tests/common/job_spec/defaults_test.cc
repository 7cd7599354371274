// The documented defaults (docs/job_spec.md) and the dataset facts.
#include "common/job_spec/defaults.h"

#include "common/job_spec/dataset_info.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

TEST(DefaultsTest, AgingEvolutionFollowsTheReference) {
  v1::JobSpec spec;
  spec.mutable_dataset()->set_name(v1::DATASET_NAME_FASHION_MNIST);
  spec.mutable_search_space()->set_kind(v1::SEARCH_SPACE_KIND_CNN);
  FillDefaults(&spec);
  ASSERT_TRUE(spec.algorithm().has_aging_evolution());
  EXPECT_EQ(spec.algorithm().aging_evolution().population_size(), 100);
  EXPECT_EQ(spec.algorithm().aging_evolution().sample_size(), 25);
  EXPECT_EQ(spec.algorithm().aging_evolution().initial_population_size(), 100);
  EXPECT_EQ(spec.algorithm().rounds(), 2000);
  EXPECT_EQ(spec.dataset().data_dir(), "/usr/share/datasets/fashion-mnist");
  EXPECT_DOUBLE_EQ(spec.dataset().validation_fraction(), 0.1);
  EXPECT_EQ(spec.training().batch_size(), 128);
  EXPECT_EQ(spec.training().device(), v1::DEVICE_AUTO);
  EXPECT_EQ(spec.seed(), 0u);
  EXPECT_EQ(spec.lease_ttl_seconds(), 120);
  EXPECT_EQ(spec.max_attempts(), 3);
  EXPECT_EQ(spec.max_parallel_evaluations(), 0);
  // CNN bounds of §1.2, upper bounds included.
  const v1::CnnSpaceBounds& b = spec.search_space().cnn();
  EXPECT_EQ(b.max_conv_blocks(), 10);
  EXPECT_EQ(b.max_layers_per_block(), 3);
  EXPECT_EQ(b.max_filters(), 128);
  EXPECT_EQ(b.kernel_sizes_size(), 3);
  EXPECT_EQ(b.kernel_sizes(2), 7);
  EXPECT_EQ(b.pool_sizes(2), 6);
  EXPECT_EQ(b.max_dense_blocks(), 3);
  EXPECT_EQ(b.min_dense_units(), 10);
  EXPECT_EQ(b.max_dense_units(), 256);
  EXPECT_FALSE(spec.search_space().has_mlp());
  // Fashion-MNIST augmentation of §9.
  EXPECT_TRUE(spec.training().augmentation().horizontal_flip());
  EXPECT_EQ(spec.training().augmentation().max_shift_pixels(), 2);
}

TEST(DefaultsTest, AutomatedStoppingIsOffUnlessAskedAndThenAsksForACurve) {
  v1::JobSpec spec;
  spec.mutable_dataset()->set_name(v1::DATASET_NAME_FASHION_MNIST);
  spec.mutable_search_space()->set_kind(v1::SEARCH_SPACE_KIND_CNN);
  v1::JobSpec off = spec;
  FillDefaults(&off);
  EXPECT_FALSE(off.has_automated_stopping());
  EXPECT_FALSE(off.training().has_learning_curve());

  spec.mutable_automated_stopping();
  FillDefaults(&spec);
  EXPECT_EQ(spec.automated_stopping().rule(), v1::STOPPING_RULE_MEDIAN);
  EXPECT_EQ(spec.automated_stopping().min_completed(), 5);
  EXPECT_DOUBLE_EQ(spec.automated_stopping().grace_epochs(), 0.5);
  ASSERT_TRUE(spec.training().has_learning_curve());
  EXPECT_EQ(spec.training().learning_curve().points_per_epoch(), 4);
  EXPECT_EQ(spec.training().learning_curve().validation_images(), 1024);

  // A curve alone (no stopping) is measured and kept, with its defaults.
  v1::JobSpec curve_only;
  curve_only.mutable_training()->mutable_learning_curve()->set_points_per_epoch(2);
  FillDefaults(&curve_only);
  EXPECT_FALSE(curve_only.has_automated_stopping());
  EXPECT_EQ(curve_only.training().learning_curve().points_per_epoch(), 2);
  EXPECT_EQ(curve_only.training().learning_curve().validation_images(), 1024);
}

TEST(DefaultsTest, BayesianOptimisationDefaults) {
  v1::JobSpec spec;
  spec.mutable_algorithm()->mutable_bayesian_optimization();
  spec.mutable_search_space()->set_kind(v1::SEARCH_SPACE_KIND_MLP);
  FillDefaults(&spec);
  EXPECT_EQ(spec.algorithm().rounds(), 800);
  EXPECT_EQ(spec.algorithm().bayesian_optimization().starting_points(), 15);
  EXPECT_EQ(spec.algorithm().bayesian_optimization().acquisition_optimizer(),
            v1::ACQUISITION_OPTIMIZER_AGING);
  EXPECT_EQ(spec.search_space().mlp().max_layers(), 7);
  EXPECT_FALSE(spec.search_space().has_cnn());
}

TEST(DefaultsTest, PruningDistillationAndSchedulesGetTheirDefaults) {
  v1::JobSpec spec;
  spec.mutable_training()->mutable_pruning()->set_start_epoch(1);
  spec.mutable_training()->mutable_distillation()->set_teacher_path("t.pt");
  spec.mutable_training()->mutable_lr_schedule()->mutable_reduce_on_plateau();
  spec.mutable_training()->mutable_early_stopping()->set_patience(3);
  FillDefaults(&spec);
  const v1::TrainingSpec& t = spec.training();
  EXPECT_FALSE(t.pruning().structured());
  EXPECT_DOUBLE_EQ(t.pruning().min_sparsity(), 0);
  EXPECT_DOUBLE_EQ(t.pruning().max_sparsity(), 0.995);
  EXPECT_EQ(t.pruning().mask_update_period(), 16);
  EXPECT_DOUBLE_EQ(t.distillation().alpha(), 0.3);
  EXPECT_DOUBLE_EQ(t.distillation().temperature(), 1.0);
  EXPECT_DOUBLE_EQ(t.lr_schedule().reduce_on_plateau().factor(), 0.1);
  EXPECT_EQ(t.lr_schedule().reduce_on_plateau().monitor(), v1::MONITORED_QUANTITY_VALIDATION_LOSS);
  EXPECT_EQ(t.early_stopping().monitor(), v1::MONITORED_QUANTITY_VALIDATION_LOSS);
}

TEST(DefaultsTest, FeasibleProposalsAreOnExceptInPruningJobs) {
  v1::JobSpec spec;
  FillDefaults(&spec);
  const v1::FeasibleProposalsSpec& f = spec.algorithm().feasible_proposals();
  EXPECT_TRUE(f.enabled());
  EXPECT_EQ(f.draws(), 200);
  EXPECT_DOUBLE_EQ(f.max_bound_excess(), 1.0);
  EXPECT_EQ(f.morphism_redraws(), 20);
  v1::JobSpec pruning;
  pruning.mutable_training()->mutable_pruning()->set_start_epoch(1);
  FillDefaults(&pruning);
  EXPECT_FALSE(pruning.algorithm().feasible_proposals().enabled())
      << "dense resources only bound a pruned network's";
  EXPECT_EQ(pruning.algorithm().feasible_proposals().draws(), 200);
  v1::JobSpec chosen;
  chosen.mutable_training()->mutable_pruning()->set_start_epoch(1);
  chosen.mutable_algorithm()->mutable_feasible_proposals()->set_enabled(true);
  FillDefaults(&chosen);
  EXPECT_TRUE(chosen.algorithm().feasible_proposals().enabled());
}

TEST(DefaultsTest, DisabledAugmentationStaysEmpty) {
  v1::JobSpec spec;
  spec.mutable_dataset()->set_name(v1::DATASET_NAME_CIFAR10);
  spec.mutable_training()->mutable_augmentation()->set_enabled(false);
  FillDefaults(&spec);
  EXPECT_FALSE(spec.training().augmentation().has_horizontal_flip());
  EXPECT_FALSE(spec.training().augmentation().has_max_shift_pixels());
}

TEST(DefaultsTest, FillingTwiceChangesNothing) {
  v1::JobSpec once;
  once.mutable_dataset()->set_name(v1::DATASET_NAME_CHARS74K);
  once.mutable_search_space()->set_kind(v1::SEARCH_SPACE_KIND_CNN);
  FillDefaults(&once);
  v1::JobSpec twice = once;
  FillDefaults(&twice);
  EXPECT_EQ(once.SerializeAsString(), twice.SerializeAsString());
}

TEST(DatasetInfoTest, ShapesAndClasses) {
  struct Case {
    v1::DatasetName name;
    bool binary;
    int h, w, c, classes;
  };
  for (const Case& k :
       std::initializer_list<Case>{{v1::DATASET_NAME_MNIST, false, 28, 28, 1, 10},
                                   {v1::DATASET_NAME_MNIST, true, 28, 28, 1, 2},
                                   {v1::DATASET_NAME_FASHION_MNIST, false, 28, 28, 1, 10},
                                   {v1::DATASET_NAME_CIFAR10, true, 32, 32, 3, 2},
                                   {v1::DATASET_NAME_CHARS74K, false, 48, 48, 3, 62},
                                   {v1::DATASET_NAME_SPEECH_COMMANDS, false, 98, 40, 1, 12},
                                   {v1::DATASET_NAME_VISUAL_WAKE_WORDS, false, 96, 96, 3, 2}}) {
    v1::DatasetSpec spec;
    spec.set_name(k.name);
    spec.set_binary(k.binary);
    absl::StatusOr<DatasetInfo> info = DescribeDataset(spec);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->input_shape.height(), k.h) << v1::DatasetName_Name(k.name);
    EXPECT_EQ(info->input_shape.width(), k.w);
    EXPECT_EQ(info->input_shape.channels(), k.c);
    EXPECT_EQ(info->num_classes, k.classes);
  }
  v1::DatasetSpec unknown;
  EXPECT_FALSE(DescribeDataset(unknown).ok());
}

}  // namespace
}  // namespace unas
