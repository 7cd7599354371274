// A table of invalid specs: each breaks one rule and must get its own error,
// naming the field and the rule.
#include "common/job_spec/validation.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "common/job_spec/defaults.h"
#include "common/job_spec/loader.h"
#include "common/job_spec/spec_merge.h"
#include "common/proto_io/proto_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace unas {
namespace {

using ::testing::HasSubstr;

constexpr char kValidSpec[] = R"pb(
  name: "valid"
  dataset { name: DATASET_NAME_FASHION_MNIST }
  search_space { kind: SEARCH_SPACE_KIND_CNN }
  algorithm {
    aging_evolution { population_size: 10 sample_size: 5 }
    rounds: 20
  }
  training {
    optimizer { kind: OPTIMIZER_KIND_SGDW learning_rate: 0.01 momentum: 0.9 }
    epochs: 3
  }
  bounds { error: 0.2 peak_memory_bytes: 1000 }
)pb";

v1::JobSpec Parse(const std::string& text) {
  v1::JobSpec spec;
  absl::Status status = ParseProto(text, ProtoFormat::kTextproto, "test", &spec);
  EXPECT_TRUE(status.ok()) << status;
  return spec;
}

struct InvalidCase {
  std::string description;
  std::string override_text;        // applied on top of kValidSpec
  std::vector<std::string> clears;  // field paths removed from kValidSpec first
  std::string field;                // the FieldError.field expected
  std::string fragment;             // a piece of its message
};

std::vector<InvalidCase> Cases() {
  return {
      {"no name", "", {"name"}, "name", "name is required"},
      {"name with a space", R"pb(name: "my job")pb", {}, "name", "only letters, digits"},
      {"missing dataset", "", {"dataset"}, "dataset.name", "is required"},
      {"dataset without a standard location",
       R"pb(dataset { name: DATASET_NAME_CIFAR10 })pb",
       {},
       "dataset.data_dir",
       "CIFAR10 has no standard location"},
      {"validation fraction of 1",
       R"pb(dataset { validation_fraction: 1 })pb",
       {},
       "dataset.validation_fraction",
       "(1) must be in [0, 1)"},
      {"binary variant that does not exist",
       R"pb(dataset { binary: true })pb",
       {},
       "dataset.binary",
       "FASHION_MNIST has no binary variant"},
      {"negative image size",
       R"pb(dataset {
              name: DATASET_NAME_CHARS74K
              data_dir: "/d"
              image_size { height: -4 width: 48 }
            })pb",
       {},
       "dataset.image_size.height",
       "(-4) must be > 0"},
      {"negative training subset",
       R"pb(dataset { max_train_examples: -100 })pb",
       {},
       "dataset.max_train_examples",
       "(-100) must be >= 0"},
      {"input shape that contradicts the dataset",
       R"pb(input_shape { height: 32 width: 32 channels: 3 })pb",
       {},
       "input_shape",
       "does not match the dataset's 28x28x1"},
      {"no search space", "", {"search_space"}, "search_space.kind", "is required"},
      {"empty CNN space",
       R"pb(search_space { cnn { max_conv_blocks: 0 } })pb",
       {},
       "search_space.cnn.max_conv_blocks",
       "(0) must be >= 1"},
      {"even kernel size",
       R"pb(search_space { cnn { kernel_sizes: [ 3, 4 ] } })pb",
       {},
       "search_space.cnn.kernel_sizes[1]",
       "(4) must be odd"},
      {"inverted unit range",
       R"pb(search_space { cnn { min_dense_units: 300 max_dense_units: 256 } })pb",
       {},
       "search_space.cnn.max_dense_units",
       "must be >= search_space.cnn.min_dense_units (300)"},
      {"empty MLP space",
       R"pb(search_space {
              kind: SEARCH_SPACE_KIND_MLP
              mlp { max_layers: 0 }
            })pb",
       {},
       "search_space.mlp.max_layers",
       "(0) must be >= 1"},
      {"a space too big to search",
       R"pb(search_space { cnn { max_conv_blocks: 1000 } })pb",
       {},
       "search_space.cnn.max_conv_blocks",
       "1000 is outside [1, "},
      {"dropout of 1",
       R"pb(search_space { dropout: 1 })pb",
       {},
       "search_space.dropout",
       "(1) must be in [0, 1)"},
      {"tournament larger than the population",
       R"pb(algorithm { aging_evolution { sample_size: 11 } })pb",
       {},
       "algorithm.aging_evolution.sample_size",
       "(11) must be <= algorithm.aging_evolution.population_size (10)"},
      {"negative population",
       R"pb(algorithm { aging_evolution { population_size: -5 } })pb",
       {},
       "algorithm.aging_evolution.population_size",
       "(-5) must be > 0"},
      {"rounds below the initial population",
       R"pb(algorithm { rounds: 5 })pb",
       {},
       "algorithm.rounds",
       "must be >= algorithm.aging_evolution.initial_population_size (10)"},
      {"rounds beyond the limit",
       R"pb(algorithm { rounds: 2000000 })pb",
       {},
       "algorithm.rounds",
       "(2000000) must be <= 1000000"},
      {"BO rounds beyond the limit",
       R"pb(algorithm {
              bayesian_optimization { starting_points: 10 }
              rounds: 6000
            })pb",
       {},
       "algorithm.rounds",
       "(6000) must be <= 5000"},
      {"population beyond the limit",
       R"pb(algorithm { aging_evolution { population_size: 200000 } })pb",
       {},
       "algorithm.aging_evolution.population_size",
       "(200000) must be <= 100000"},
      {"tournament beyond the limit",
       R"pb(algorithm { aging_evolution { population_size: 100000 sample_size: 200000 } })pb",
       {},
       "algorithm.aging_evolution.sample_size",
       "(200000) must be <= "},
      {"no progress timeout",
       R"pb(progress_timeout_seconds: -1)pb",
       {},
       "progress_timeout_seconds",
       "(-1) must be > 0"},
      {"no BO starting points",
       R"pb(algorithm { bayesian_optimization { starting_points: 0 } })pb",
       {},
       "algorithm.bayesian_optimization.starting_points",
       "(0) must be >= 1"},
      {"skip factor below 1",
       R"pb(algorithm { skip_infeasible_factor: 0.5 })pb",
       {},
       "algorithm.skip_infeasible_factor",
       "must be 0 (never skip) or >= 1"},
      {"no feasible draws",
       R"pb(algorithm { feasible_proposals { draws: 0 } })pb",
       {},
       "algorithm.feasible_proposals.draws",
       "(0) must be in [1, 10000]"},
      {"bound excess below 1",
       R"pb(algorithm { feasible_proposals { max_bound_excess: 0.5 } })pb",
       {},
       "algorithm.feasible_proposals.max_bound_excess",
       "(0.5) must be >= 1"},
      {"negative morphism redraws",
       R"pb(algorithm { feasible_proposals { morphism_redraws: -1 } })pb",
       {},
       "algorithm.feasible_proposals.morphism_redraws",
       "(-1) must be in [0, 1000]"},
      {"no optimizer kind",
       "",
       {"training.optimizer.kind"},
       "training.optimizer.kind",
       "is required"},
      {"negative learning rate",
       R"pb(training { optimizer { learning_rate: -0.1 } })pb",
       {},
       "training.optimizer.learning_rate",
       "(-0.1) must be > 0"},
      {"momentum on Adam",
       R"pb(training { optimizer { kind: OPTIMIZER_KIND_ADAM } })pb",
       {},
       "training.optimizer.momentum",
       "applies to SGD and SGDW only"},
      {"negative weight decay",
       R"pb(training { optimizer { weight_decay: -1e-4 } })pb",
       {},
       "training.optimizer.weight_decay",
       "must be >= 0"},
      {"schedule with too few values",
       R"pb(training {
              lr_schedule {
                piecewise_constant {
                  boundaries: [ 5, 10 ]
                  values: [ 0.1, 0.01 ]
                }
              }
            })pb",
       {},
       "training.lr_schedule.piecewise_constant.values",
       "one more than boundaries (2)"},
      {"boundaries out of order",
       R"pb(training {
              lr_schedule {
                piecewise_constant {
                  boundaries: [ 10, 5 ]
                  values: [ 0.1, 0.01, 0.001 ]
                }
              }
            })pb",
       {},
       "training.lr_schedule.piecewise_constant.boundaries[1]",
       "(5) must be > 10"},
      {"plateau factor of 1",
       R"pb(training { lr_schedule { reduce_on_plateau { factor: 1 } } })pb",
       {},
       "training.lr_schedule.reduce_on_plateau.factor",
       "(1) must be in (0, 1)"},
      {"zero epochs", R"pb(training { epochs: 0 })pb", {}, "training.epochs", "(0) must be > 0"},
      {"epochs missing", "", {"training.epochs"}, "training.epochs", "is required"},
      {"negative batch size",
       R"pb(training { batch_size: -32 })pb",
       {},
       "training.batch_size",
       "(-32) must be > 0"},
      {"early stopping without patience",
       R"pb(training { early_stopping { min_delta: 0.01 } })pb",
       {},
       "training.early_stopping.patience",
       "is required"},
      {"pruning that finishes before it starts",
       R"pb(training {
              epochs: 30
              pruning { start_epoch: 18 finish_epoch: 3 }
            })pb",
       {},
       "training.pruning.finish_epoch",
       "training.pruning.finish_epoch (3) must be >= training.pruning.start_epoch (18)"},
      {"pruning beyond the last epoch",
       R"pb(training { pruning { start_epoch: 1 finish_epoch: 5 } })pb",
       {},
       "training.pruning.finish_epoch",
       "(5) must be <= training.epochs (3)"},
      {"pruning without a start",
       R"pb(training { pruning { finish_epoch: 2 } })pb",
       {},
       "training.pruning.start_epoch",
       "is required"},
      {"sparsity of 1",
       R"pb(training { pruning { start_epoch: 1 finish_epoch: 2 max_sparsity: 1 } })pb",
       {},
       "training.pruning.max_sparsity",
       "(1) must be in [0, 1)"},
      {"negative sparsity",
       R"pb(training { pruning { start_epoch: 1 finish_epoch: 2 min_sparsity: -0.1 } })pb",
       {},
       "training.pruning.min_sparsity",
       "(-0.1) must be in [0, 1)"},
      {"distillation without a teacher",
       R"pb(training { distillation { alpha: 0.5 } })pb",
       {},
       "training.distillation.teacher_path",
       "is required"},
      {"distillation at temperature 0",
       R"pb(training { distillation { teacher_path: "t.pt" temperature: 0 } })pb",
       {},
       "training.distillation.temperature",
       "(0) must be > 0"},
      {"rotation probability above 1",
       R"pb(training { augmentation { rotation_probability: 1.5 } })pb",
       {},
       "training.augmentation.rotation_probability",
       "(1.5) must be in [0, 1]"},
      {"no bounds at all", "", {"bounds"}, "bounds", "must set at least one of"},
      {"error bound of 0",
       R"pb(bounds { error: 0 })pb",
       {},
       "bounds.error",
       "(0) must be in (0, 1]"},
      {"memory bound of 0",
       R"pb(bounds { peak_memory_bytes: 0 })pb",
       {},
       "bounds.peak_memory_bytes",
       "(0) must be > 0"},
      {"negative size bound",
       R"pb(bounds { model_size_bytes: -4500 })pb",
       {},
       "bounds.model_size_bytes",
       "(-4500) must be > 0"},
      {"negative MAC bound", R"pb(bounds { macs: -1 })pb", {}, "bounds.macs", "(-1) must be > 0"},
      {"zero lease TTL", R"pb(lease_ttl_seconds: 0)pb", {}, "lease_ttl_seconds", "(0) must be > 0"},
      {"zero attempts", R"pb(max_attempts: 0)pb", {}, "max_attempts", "(0) must be > 0"},
      {"negative parallelism",
       R"pb(max_parallel_evaluations: -2)pb",
       {},
       "max_parallel_evaluations",
       "(-2) must be >= 0"},
      {"unresolved base", R"pb(base: "other.textproto")pb", {}, "base", "must be resolved"},
      {"no curve points",
       R"pb(training { learning_curve { points_per_epoch: 0 } })pb",
       {},
       "training.learning_curve.points_per_epoch",
       "(0) must be in [1, 64]"},
      {"too many curve points",
       R"pb(training { learning_curve { points_per_epoch: 65 } })pb",
       {},
       "training.learning_curve.points_per_epoch",
       "(65) must be in [1, 64]"},
      {"empty curve subset",
       R"pb(training { learning_curve { validation_images: 0 } })pb",
       {},
       "training.learning_curve.validation_images",
       "(0) must be >= 1"},
      {"stopping compared with nothing",
       R"pb(automated_stopping { min_completed: 0 })pb",
       {},
       "automated_stopping.min_completed",
       "(0) must be in [1, 1000]"},
      {"stopping that never starts",
       R"pb(automated_stopping { min_completed: 1001 })pb",
       {},
       "automated_stopping.min_completed",
       "(1001) must be in [1, 1000]"},
      {"grace beyond the training",
       R"pb(automated_stopping { grace_epochs: 3.5 })pb",
       {},
       "automated_stopping.grace_epochs",
       "(3.5) must be in [0, 3]"},
      {"negative grace",
       R"pb(automated_stopping { grace_epochs: -1 })pb",
       {},
       "automated_stopping.grace_epochs",
       "(-1) must be in [0, 3]"},
  };
}

// Names the case in test output (and CTest names) instead of dumping bytes.
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.description; }

class InvalidSpecTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidSpecTest, ReportsTheFieldAndTheRule) {
  const InvalidCase& c = GetParam();
  v1::JobSpec spec = Parse(kValidSpec);
  for (const std::string& path : c.clears) ASSERT_TRUE(ClearFieldPath(path, &spec).ok()) << path;
  ApplyOverride(Parse(c.override_text), &spec);
  FillDefaults(&spec);

  std::vector<FieldError> errors = FindJobSpecErrors(spec);
  std::vector<std::string> messages;
  for (const FieldError& e : errors) messages.push_back(e.message);
  bool found = false;
  for (const FieldError& e : errors) {
    if (e.field == c.field) {
      found = true;
      EXPECT_THAT(e.message, HasSubstr(c.fragment));
      EXPECT_EQ(e.message.rfind(c.field, 0), 0u) << "messages start with the field path";
    }
  }
  EXPECT_TRUE(found) << "no error for " << c.field << "; got:\n" << absl::StrJoin(messages, "\n");

  absl::Status status = ValidateJobSpec(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr(c.fragment));
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidSpecTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           std::string name;
                           for (char ch : info.param.description) {
                             name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
                           }
                           return name;
                         });

TEST(ValidationTest, TheValidSpecIsValid) {
  v1::JobSpec spec = Parse(kValidSpec);
  FillDefaults(&spec);
  EXPECT_TRUE(ValidateJobSpec(spec).ok()) << ValidateJobSpec(spec);
}

TEST(ValidationTest, ReportsEveryErrorAtOnce) {
  v1::JobSpec spec = Parse(kValidSpec);
  ApplyOverride(Parse(R"pb(training { epochs: 0 batch_size: -1 }
                           bounds { error: 2 })pb"),
                &spec);
  FillDefaults(&spec);
  std::vector<FieldError> errors = FindJobSpecErrors(spec);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].field, "training.epochs");
  EXPECT_EQ(errors[1].field, "training.batch_size");
  EXPECT_EQ(errors[2].field, "bounds.error");
  absl::Status status = ValidateJobSpec(spec);
  EXPECT_THAT(std::string(status.message()), HasSubstr("training.epochs (0) must be > 0"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("training.batch_size (-1) must be > 0"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("bounds.error (2) must be in (0, 1]"));
}

}  // namespace
}  // namespace unas
