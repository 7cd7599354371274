// Every shipped config loads and validates; three are checked field by field
// against the experiment table of docs/unas_original.md §10.
#include <filesystem>
#include <string>
#include <vector>

#include "common/job_spec/loader.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

std::string ConfigPath(const std::string& name) {
  return std::string(UNAS_SOURCE_DIR) + "/configs/" + name;
}

std::vector<std::string> ConfigFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(ConfigPath(""))) {
    if (entry.is_regular_file() && entry.path().extension() == ".textproto") {
      files.push_back(entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ConfigFilesTest, EveryExperimentOfTheReferenceHasAConfig) {
  // The 29 experiments of docs/unas_original.md §10, the quick demo search and
  // the demo at tight bounds (bench/search/cpu_comparison).
  std::vector<std::string> files = ConfigFiles();
  EXPECT_EQ(files.size(), 31u);
  for (const char* name : {"cnn_mnist_aging",
                           "cnn_mnist_aging_no_ms",
                           "cnn_mnist_aging_no_pmu",
                           "cnn_mnist_struct_pru",
                           "cnn_mnist_sparse",
                           "cnn_mnist_bo",
                           "cnn_mnist_bo_struct_pru",
                           "cnn_mnist_binary",
                           "cnn_fashion_aging",
                           "cnn_fashion_aging_struct_pru",
                           "cnn_fashion_bo",
                           "mlp_fashion",
                           "cnn_cifar10_aging",
                           "cnn_cifar10_struct_pru",
                           "cnn_cifar10_distill",
                           "cnn_cifar10_binary",
                           "cnn_cifar10_binary_sparse",
                           "cnn_cifar10_binary_struct_pru",
                           "cnn_chars74k_aging",
                           "cnn_chars74k_struct_pru",
                           "cnn_chars74k_sparse",
                           "cnn_chars74k_distill",
                           "cnn_chars74k_bo",
                           "cnn_chars74k_bo_struct_pru",
                           "cnn_chars74k_binary",
                           "cnn_chars74k_binary_struct_pru",
                           "cnn_speech_commands_aging",
                           "cnn_speech_commands_struct_pru",
                           "cnn_vww",
                           "fashion_mnist_quick",
                           "fashion_mnist_tight"}) {
    EXPECT_TRUE(std::find(files.begin(), files.end(), std::string(name) + ".textproto") !=
                files.end())
        << name;
  }
}

TEST(ConfigFilesTest, EveryConfigLoadsAndValidates) {
  for (const std::string& file : ConfigFiles()) {
    absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(ConfigPath(file));
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->name() + ".textproto", file) << "name should match the file name";
    EXPECT_TRUE(spec->base().empty()) << file;
    EXPECT_TRUE(spec->clear_from_base().empty()) << file;
  }
}

// The demo and its tight-bounds variant; every other config is the paper's.
bool IsDemo(const std::string& file) {
  return file == "fashion_mnist_quick.textproto" || file == "fashion_mnist_tight.textproto";
}

TEST(ConfigFilesTest, PaperConfigsKeepPlainDrawsAndTheDemoDrawsWithinTheBounds) {
  for (const std::string& file : ConfigFiles()) {
    absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(ConfigPath(file));
    ASSERT_TRUE(spec.ok()) << spec.status();
    EXPECT_EQ(spec->algorithm().feasible_proposals().enabled(), IsDemo(file)) << file;
  }
}

// μNAS trains every candidate for its full budget: automated stopping (and
// the learning curve it reads) is on only in the demo.
TEST(ConfigFilesTest, OnlyTheDemoStopsHopelessCandidatesEarly) {
  for (const std::string& file : ConfigFiles()) {
    absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(ConfigPath(file));
    ASSERT_TRUE(spec.ok()) << spec.status();
    const bool demo = IsDemo(file);
    EXPECT_EQ(spec->has_automated_stopping(), demo) << file;
    EXPECT_EQ(spec->training().has_learning_curve(), demo) << file;
  }
}

TEST(ConfigFilesTest, CnnMnistStructPruMatchesReference) {
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(ConfigPath("cnn_mnist_struct_pru.textproto"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->dataset().name(), v1::DATASET_NAME_MNIST);
  EXPECT_FALSE(spec->dataset().binary());
  EXPECT_DOUBLE_EQ(spec->dataset().validation_fraction(), 0.1);
  EXPECT_EQ(spec->input_shape().height(), 28);
  EXPECT_EQ(spec->input_shape().channels(), 1);
  EXPECT_EQ(spec->num_classes(), 10);
  EXPECT_EQ(spec->search_space().kind(), v1::SEARCH_SPACE_KIND_CNN);
  EXPECT_DOUBLE_EQ(spec->search_space().dropout(), 0);
  ASSERT_TRUE(spec->algorithm().has_aging_evolution());
  EXPECT_EQ(spec->algorithm().rounds(), 2000);
  EXPECT_EQ(spec->algorithm().aging_evolution().population_size(), 100);
  EXPECT_EQ(spec->algorithm().aging_evolution().sample_size(), 25);
  EXPECT_EQ(spec->algorithm().aging_evolution().initial_population_size(), 100);
  // Bounds 0.035 / 2500 / 4500 / 3e7.
  EXPECT_DOUBLE_EQ(spec->bounds().error(), 0.035);
  EXPECT_EQ(spec->bounds().peak_memory_bytes(), 2500);
  EXPECT_EQ(spec->bounds().model_size_bytes(), 4500);
  EXPECT_EQ(spec->bounds().macs(), 30000000);
  // SGDW lr 0.005, momentum 0.9, wd 4e-5, constant LR; 30 epochs; batch 128.
  const v1::TrainingSpec& t = spec->training();
  EXPECT_EQ(t.optimizer().kind(), v1::OPTIMIZER_KIND_SGDW);
  EXPECT_DOUBLE_EQ(t.optimizer().learning_rate(), 0.005);
  EXPECT_DOUBLE_EQ(t.optimizer().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(t.optimizer().weight_decay(), 4e-5);
  EXPECT_FALSE(t.has_lr_schedule());
  EXPECT_EQ(t.epochs(), 30);
  EXPECT_EQ(t.batch_size(), 128);
  // Structured pruning 3 -> 18, sparsity [0.05, 0.8].
  ASSERT_TRUE(t.has_pruning());
  EXPECT_TRUE(t.pruning().structured());
  EXPECT_EQ(t.pruning().start_epoch(), 3);
  EXPECT_EQ(t.pruning().finish_epoch(), 18);
  EXPECT_DOUBLE_EQ(t.pruning().min_sparsity(), 0.05);
  EXPECT_DOUBLE_EQ(t.pruning().max_sparsity(), 0.8);
  EXPECT_EQ(t.pruning().mask_update_period(), 16);
  EXPECT_FALSE(t.has_distillation());
  // MNIST augmentation (§9): rotation p 0.3 up to 0.2 rad, shift 2, no flip.
  EXPECT_TRUE(t.augmentation().enabled());
  EXPECT_FALSE(t.augmentation().horizontal_flip());
  EXPECT_DOUBLE_EQ(t.augmentation().rotation_probability(), 0.3);
  EXPECT_DOUBLE_EQ(t.augmentation().max_rotation_radians(), 0.2);
  EXPECT_EQ(t.augmentation().max_shift_pixels(), 2);
}

TEST(ConfigFilesTest, CnnCifar10BinarySparseMatchesReference) {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(ConfigPath("cnn_cifar10_binary_sparse.textproto"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->dataset().name(), v1::DATASET_NAME_CIFAR10);
  EXPECT_TRUE(spec->dataset().binary());
  EXPECT_EQ(spec->num_classes(), 2);
  EXPECT_EQ(spec->input_shape().height(), 32);
  EXPECT_EQ(spec->input_shape().channels(), 3);
  EXPECT_DOUBLE_EQ(spec->search_space().dropout(), 0);
  ASSERT_TRUE(spec->algorithm().has_aging_evolution());
  EXPECT_EQ(spec->algorithm().rounds(), 2000);
  // Bounds 0.25 / - / 2000 / -.
  EXPECT_DOUBLE_EQ(spec->bounds().error(), 0.25);
  EXPECT_FALSE(spec->bounds().has_peak_memory_bytes());
  EXPECT_EQ(spec->bounds().model_size_bytes(), 2000);
  EXPECT_FALSE(spec->bounds().has_macs());
  // SGDW lr 0.01 momentum 0.9 wd 1e-5, constant LR (no schedule); 80 epochs.
  const v1::TrainingSpec& t = spec->training();
  EXPECT_EQ(t.optimizer().kind(), v1::OPTIMIZER_KIND_SGDW);
  EXPECT_DOUBLE_EQ(t.optimizer().learning_rate(), 0.01);
  EXPECT_DOUBLE_EQ(t.optimizer().momentum(), 0.9);
  EXPECT_DOUBLE_EQ(t.optimizer().weight_decay(), 1e-5);
  EXPECT_FALSE(t.has_lr_schedule());
  EXPECT_EQ(t.epochs(), 80);
  EXPECT_EQ(t.batch_size(), 128);
  // Unstructured 30 -> 60, [0.1, 0.98].
  ASSERT_TRUE(t.has_pruning());
  EXPECT_FALSE(t.pruning().structured());
  EXPECT_EQ(t.pruning().start_epoch(), 30);
  EXPECT_EQ(t.pruning().finish_epoch(), 60);
  EXPECT_DOUBLE_EQ(t.pruning().min_sparsity(), 0.1);
  EXPECT_DOUBLE_EQ(t.pruning().max_sparsity(), 0.98);
  // CIFAR-10 augmentation: flip and 4 px shift, no rotation.
  EXPECT_TRUE(t.augmentation().horizontal_flip());
  EXPECT_EQ(t.augmentation().max_shift_pixels(), 4);
  EXPECT_DOUBLE_EQ(t.augmentation().rotation_probability(), 0);
}

TEST(ConfigFilesTest, CnnChars74kBinaryStructPruMatchesReference) {
  absl::StatusOr<v1::JobSpec> spec =
      LoadJobSpecFile(ConfigPath("cnn_chars74k_binary_struct_pru.textproto"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->dataset().name(), v1::DATASET_NAME_CHARS74K);
  EXPECT_TRUE(spec->dataset().binary());
  EXPECT_EQ(spec->dataset().image_size().height(), 32);
  EXPECT_EQ(spec->input_shape().height(), 32);
  EXPECT_EQ(spec->input_shape().width(), 32);
  EXPECT_EQ(spec->input_shape().channels(), 3);
  EXPECT_EQ(spec->num_classes(), 2);
  EXPECT_DOUBLE_EQ(spec->search_space().dropout(), 0.15);
  EXPECT_EQ(spec->algorithm().rounds(), 2000);
  // Bounds 0.26 / 1500 / 1000 / 1e6.
  EXPECT_DOUBLE_EQ(spec->bounds().error(), 0.26);
  EXPECT_EQ(spec->bounds().peak_memory_bytes(), 1500);
  EXPECT_EQ(spec->bounds().model_size_bytes(), 1000);
  EXPECT_EQ(spec->bounds().macs(), 1000000);
  // SGDW lr 0.01 momentum 0.9 wd 4e-5; LR 0.01 (< 42) then 0.005; 60 epochs; batch 128.
  const v1::TrainingSpec& t = spec->training();
  EXPECT_EQ(t.optimizer().kind(), v1::OPTIMIZER_KIND_SGDW);
  EXPECT_DOUBLE_EQ(t.optimizer().weight_decay(), 4e-5);
  ASSERT_TRUE(t.lr_schedule().has_piecewise_constant());
  ASSERT_EQ(t.lr_schedule().piecewise_constant().boundaries_size(), 1);
  EXPECT_EQ(t.lr_schedule().piecewise_constant().boundaries(0), 42);
  ASSERT_EQ(t.lr_schedule().piecewise_constant().values_size(), 2);
  EXPECT_DOUBLE_EQ(t.lr_schedule().piecewise_constant().values(0), 0.01);
  EXPECT_DOUBLE_EQ(t.lr_schedule().piecewise_constant().values(1), 0.005);
  EXPECT_EQ(t.epochs(), 60);
  EXPECT_EQ(t.batch_size(), 128);
  // Structured 20 -> 53, [0.1, 0.85].
  EXPECT_TRUE(t.pruning().structured());
  EXPECT_EQ(t.pruning().start_epoch(), 20);
  EXPECT_EQ(t.pruning().finish_epoch(), 53);
  EXPECT_DOUBLE_EQ(t.pruning().min_sparsity(), 0.1);
  EXPECT_DOUBLE_EQ(t.pruning().max_sparsity(), 0.85);
  // 10 % shift at 32 px.
  EXPECT_EQ(t.augmentation().max_shift_pixels(), 3);
}

TEST(ConfigFilesTest, MlpFashionUsesBayesianOptimisationAndThePlateauSchedule) {
  absl::StatusOr<v1::JobSpec> spec = LoadJobSpecFile(ConfigPath("mlp_fashion.textproto"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->search_space().kind(), v1::SEARCH_SPACE_KIND_MLP);
  EXPECT_EQ(spec->search_space().mlp().max_layers(), 7);
  ASSERT_TRUE(spec->algorithm().has_bayesian_optimization());
  EXPECT_EQ(spec->algorithm().bayesian_optimization().starting_points(), 10);
  EXPECT_EQ(spec->algorithm().rounds(), 800);
  const v1::ReduceOnPlateauSchedule& r = spec->training().lr_schedule().reduce_on_plateau();
  EXPECT_DOUBLE_EQ(r.factor(), 0.5);
  EXPECT_EQ(r.patience(), 4);
  EXPECT_EQ(r.monitor(), v1::MONITORED_QUANTITY_VALIDATION_LOSS);
  EXPECT_DOUBLE_EQ(spec->training().kernel_l2(), 0.001);
  EXPECT_EQ(spec->bounds().peak_memory_bytes(), 200);
  EXPECT_EQ(spec->bounds().macs(), 30000);
}

}  // namespace
}  // namespace unas
