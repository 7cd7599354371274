#include "worker/progress.h"

#include "absl/strings/str_format.h"

namespace unas::worker {

std::string FormatEpochRecord(const v1::EpochRecord& r, int epochs) {
  std::string line = absl::StrFormat(
      "epoch %d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  lr %.3g  %.0f img/s",
      r.epoch(), epochs, r.train_loss(), r.train_accuracy(), r.validation_loss(),
      r.validation_accuracy(), r.learning_rate(), r.images_per_second());
  if (r.sparsity() > 0) absl::StrAppendFormat(&line, "  sparsity %.3f", r.sparsity());
  return line;
}

}  // namespace unas::worker
