// The IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw
// (detected from the content, not the name). Big-endian header:
//   images: magic 0x00000803, count, rows, cols, then count*rows*cols bytes;
//   labels: magic 0x00000801, count, then count bytes.
// Every error names the file.
#ifndef UNAS_WORKER_DATA_IDX_H_
#define UNAS_WORKER_DATA_IDX_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "worker/data/image_set.h"

namespace unas::worker {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;

// The whole file, decompressed when it is gzip (a raw file is returned as
// is). NotFound when it is missing, DataLoss when a gzip stream is corrupt or
// truncated.
absl::StatusOr<std::string> ReadPossiblyGzippedFile(const std::string& path);

// Images as a 1-channel ImageSet with no labels yet.
absl::StatusOr<ImageSet> ReadIdxImages(const std::string& path);
absl::StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path);

// Images and labels of one split; the counts must agree and every label must
// be below num_classes.
absl::StatusOr<ImageSet> ReadIdxPair(const std::string& images_path, const std::string& labels_path,
                                     int num_classes);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_IDX_H_
