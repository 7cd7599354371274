// The documented defaults of a job spec (docs/job_spec.md), filled in one
// place so that the coordinator, the workers and the docs agree. Defaults
// follow the original μNAS (docs/unas_original.md §5.1, §6.1, §8, §10) unless
// docs/conventions.md says otherwise.
#ifndef UNAS_COMMON_JOB_SPEC_DEFAULTS_H_
#define UNAS_COMMON_JOB_SPEC_DEFAULTS_H_

#include "unas/v1/job_spec.pb.h"

namespace unas {

namespace defaults {
inline constexpr double kValidationFraction = 0.1;
inline constexpr int kPopulationSize = 100;
inline constexpr int kSampleSize = 25;
inline constexpr int kAgingEvolutionRounds = 2000;
inline constexpr int kBayesOptRounds = 800;
inline constexpr int kBayesOptStartingPoints = 15;
// Proposals within the resource bounds (AlgorithmSpec.feasible_proposals).
inline constexpr int kFeasibleDraws = 200;
inline constexpr double kMaxBoundExcess = 1.0;
inline constexpr int kMorphismRedraws = 20;
inline constexpr int kBatchSize = 128;
// Training images the batch-norm statistics are recomputed on before each
// evaluation (TrainingSpec.batch_norm_recalibration_images).
inline constexpr int kBatchNormRecalibrationImages = 4096;
inline constexpr double kMaxSparsity = 0.995;
inline constexpr int kMaskUpdatePeriod = 16;
inline constexpr double kDistillationAlpha = 0.3;
inline constexpr double kDistillationTemperature = 1.0;
inline constexpr int kLeaseTtlSeconds = 120;
inline constexpr int kMaxAttempts = 3;
inline constexpr int kMaxConsecutiveFailures = 5;
inline constexpr int kProgressTimeoutSeconds = 1800;
// The learning curve (TrainingSpec.learning_curve) and the automated
// stopping rule that reads it (JobSpec.automated_stopping).
inline constexpr int kCurvePointsPerEpoch = 4;
inline constexpr int kCurveValidationImages = 1024;
inline constexpr int kStoppingMinCompleted = 5;
inline constexpr double kStoppingGraceEpochs = 0.5;
inline constexpr int kMaxCurvePointsPerEpoch = 64;
inline constexpr int kMaxStoppingMinCompleted = 1000;
// Upper bounds that keep one job from exhausting the coordinator: its
// memory grows with the rounds and the population, and a Bayesian
// optimisation step is cubic in its observations.
inline constexpr int kMaxRounds = 1'000'000;
inline constexpr int kMaxBayesianOptimizationRounds = 5000;
inline constexpr int kMaxPopulationSize = 100'000;
// CNN space bounds (docs/unas_original.md §1.2).
inline constexpr int kMaxConvBlocks = 10;
inline constexpr int kMaxLayersPerBlock = 3;
inline constexpr int kMaxFilters = 128;
inline constexpr int kMaxDenseBlocks = 3;
inline constexpr int kMinDenseUnits = 10;
inline constexpr int kMaxDenseUnits = 256;
// MLP space bounds (§1.5).
inline constexpr int kMaxMlpLayers = 7;
}  // namespace defaults

// Fills every absent bound of the space selected by spec->kind().
void FillSearchSpaceDefaults(v1::SearchSpaceSpec* spec);

// Fills the dataset's standard training augmentation (§9) into the fields the
// user left absent; with `enabled: false` nothing is filled.
void FillAugmentationDefaults(const v1::DatasetSpec& dataset, v1::AugmentationSpec* augmentation);

// Fills every absent field that has a default, including the input shape and
// class count derived from the dataset. Fields without a default (epochs,
// learning rate, ...) are left for validation to report. Idempotent.
void FillDefaults(v1::JobSpec* spec);

}  // namespace unas

#endif  // UNAS_COMMON_JOB_SPEC_DEFAULTS_H_
