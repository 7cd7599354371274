// Progress reporting of a training run (no LibTorch): what the worker daemon
// turns into heartbeats and unas-train into terminal lines.
#ifndef UNAS_WORKER_PROGRESS_H_
#define UNAS_WORKER_PROGRESS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "unas/v1/evaluation.pb.h"

namespace unas::worker {

// Called after every epoch. A non-OK status stops training (e.g. the job was
// cancelled or the lease lost) and becomes the result of the run.
using ProgressCallback = std::function<absl::Status(const v1::EpochRecord&)>;

// Within an epoch, at most once per interval: 0-based epoch, batches done and
// batches in the epoch. A non-OK status stops training as above.
using BatchCallback = std::function<absl::Status(int epoch, int64_t batch, int64_t batches)>;

// Called for each learning-curve point as it is measured
// (TrainingSpec.learning_curve). A non-OK status stops training as above.
using CurveCallback = std::function<absl::Status(const v1::CurvePoint&)>;

// "epoch 3/10  loss 0.4123  acc 0.8512  val_loss 0.4410  val_acc 0.8433  lr 0.001  12345 img/s"
std::string FormatEpochRecord(const v1::EpochRecord& record, int epochs);

}  // namespace unas::worker

#endif  // UNAS_WORKER_PROGRESS_H_
