#include "worker/data/cifar.h"

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "worker/data/idx.h"

namespace unas::worker {

absl::StatusOr<ImageSet> ReadCifarBatch(const std::string& path, int num_classes) {
  // Raw files are the standard; gzip-compressed copies are accepted too.
  UNAS_ASSIGN_OR_RETURN(std::string data, ReadPossiblyGzippedFile(path));
  if (data.empty()) return absl::DataLossError(absl::StrCat(path, ": empty CIFAR-10 batch"));
  if (data.size() % kCifarRecordBytes != 0) {
    return absl::DataLossError(absl::StrCat(
        path, ": truncated CIFAR-10 batch: ", data.size(), " bytes is not a multiple of the ",
        kCifarRecordBytes, "-byte record (", data.size() / kCifarRecordBytes, " whole records and ",
        data.size() % kCifarRecordBytes, " bytes)"));
  }
  const int64_t count = static_cast<int64_t>(data.size() / kCifarRecordBytes);
  constexpr int kPlane = kCifarSide * kCifarSide;
  ImageSet set;
  set.height = set.width = kCifarSide;
  set.channels = 3;
  set.pixels.resize(count * 3 * kPlane);
  set.labels.resize(count);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  for (int64_t i = 0; i < count; ++i) {
    const unsigned char* record = bytes + i * kCifarRecordBytes;
    const int label = record[0];
    if (label >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": label ", label, " of record ", i, " is not below ", num_classes));
    }
    set.labels[i] = label;
    uint8_t* out = set.mutable_image(i);
    for (int p = 0; p < kPlane; ++p) {
      out[3 * p + 0] = record[1 + p];
      out[3 * p + 1] = record[1 + kPlane + p];
      out[3 * p + 2] = record[1 + 2 * kPlane + p];
    }
  }
  return set;
}

absl::StatusOr<ImageSet> ReadCifarBatches(const std::vector<std::string>& paths, int num_classes) {
  ImageSet all;
  for (const std::string& path : paths) {
    UNAS_ASSIGN_OR_RETURN(ImageSet batch, ReadCifarBatch(path, num_classes));
    UNAS_RETURN_IF_ERROR(all.Append(batch));
  }
  return all;
}

}  // namespace unas::worker
