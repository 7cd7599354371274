// CIFAR-10 "binary version" batches (data_batch_1.bin ... data_batch_5.bin,
// test_batch.bin): records of 1 label byte followed by 3072 pixel bytes, the
// red, green and blue 32x32 planes in row-major order. Loaded as NHWC uint8.
#ifndef UNAS_WORKER_DATA_CIFAR_H_
#define UNAS_WORKER_DATA_CIFAR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "worker/data/image_set.h"

namespace unas::worker {

inline constexpr int kCifarSide = 32;
inline constexpr int kCifarRecordBytes = 1 + 3 * kCifarSide * kCifarSide;

// One batch file; every error names the file (missing, empty, size not a
// multiple of the record size, label >= num_classes).
absl::StatusOr<ImageSet> ReadCifarBatch(const std::string& path, int num_classes = 10);

// Several batch files concatenated in the given order.
absl::StatusOr<ImageSet> ReadCifarBatches(const std::vector<std::string>& paths,
                                          int num_classes = 10);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_CIFAR_H_
