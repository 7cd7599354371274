#include "worker/data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace unas::worker {
namespace {

uint32_t BigEndian32(const std::string& data, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

absl::Status Truncated(const std::string& path, size_t expected, size_t actual) {
  return absl::DataLossError(
      absl::StrCat(path, ": truncated IDX file: expected ", expected, " bytes, found ", actual));
}

absl::StatusOr<std::string> Inflate(const std::string& path, const std::string& compressed) {
  z_stream stream{};
  // 16 + MAX_WBITS: gzip wrapper only.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    return absl::InternalError(absl::StrCat(path, ": zlib initialisation failed"));
  }
  std::string out;
  out.resize(std::max<size_t>(compressed.size() * 4, 1 << 16));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  int rc = Z_OK;
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - produced, 1u << 30));
    const uInt before = stream.avail_out;
    rc = inflate(&stream, Z_NO_FLUSH);
    produced += before - stream.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are legal; continue with the next one.
      if (stream.avail_in > 0) {
        inflateReset(&stream);
        continue;
      }
      break;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && stream.avail_out == 0) continue;
    const std::string why = rc == Z_BUF_ERROR ? "unexpected end of compressed data"
                                              : (stream.msg ? stream.msg : "corrupt data");
    inflateEnd(&stream);
    return absl::DataLossError(absl::StrCat(path, ": gzip: ", why));
  }
  inflateEnd(&stream);
  out.resize(produced);
  return out;
}

}  // namespace

absl::StatusOr<std::string> ReadPossiblyGzippedFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  std::string data = std::move(buffer).str();
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    return Inflate(path, data);
  }
  return data;
}

absl::StatusOr<ImageSet> ReadIdxImages(const std::string& path) {
  UNAS_ASSIGN_OR_RETURN(std::string data, ReadPossiblyGzippedFile(path));
  if (data.size() < 16) return Truncated(path, 16, data.size());
  const uint32_t magic = BigEndian32(data, 0);
  if (magic != kIdxImagesMagic) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": wrong magic number 0x",
                                                   absl::Hex(magic, absl::kZeroPad8),
                                                   " (IDX images need 0x00000803)"));
  }
  const uint64_t count = BigEndian32(data, 4);
  const uint64_t rows = BigEndian32(data, 8);
  const uint64_t cols = BigEndian32(data, 12);
  if (rows == 0 || cols == 0 || rows > 65536 || cols > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": implausible image size ", rows, "x", cols));
  }
  const uint64_t expected = 16 + count * rows * cols;
  if (data.size() < expected) return Truncated(path, expected, data.size());
  if (data.size() > expected) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", data.size() - expected,
                                                   " unexpected bytes after ", count, " images"));
  }
  ImageSet set;
  set.height = static_cast<int>(rows);
  set.width = static_cast<int>(cols);
  set.channels = 1;
  set.pixels.assign(data.begin() + 16, data.end());
  return set;
}

absl::StatusOr<std::vector<int32_t>> ReadIdxLabels(const std::string& path) {
  UNAS_ASSIGN_OR_RETURN(std::string data, ReadPossiblyGzippedFile(path));
  if (data.size() < 8) return Truncated(path, 8, data.size());
  const uint32_t magic = BigEndian32(data, 0);
  if (magic != kIdxLabelsMagic) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": wrong magic number 0x",
                                                   absl::Hex(magic, absl::kZeroPad8),
                                                   " (IDX labels need 0x00000801)"));
  }
  const uint64_t count = BigEndian32(data, 4);
  const uint64_t expected = 8 + count;
  if (data.size() < expected) return Truncated(path, expected, data.size());
  if (data.size() > expected) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", data.size() - expected,
                                                   " unexpected bytes after ", count, " labels"));
  }
  std::vector<int32_t> labels(count);
  for (uint64_t i = 0; i < count; ++i) labels[i] = static_cast<unsigned char>(data[8 + i]);
  return labels;
}

absl::StatusOr<ImageSet> ReadIdxPair(const std::string& images_path, const std::string& labels_path,
                                     int num_classes) {
  UNAS_ASSIGN_OR_RETURN(ImageSet set, ReadIdxImages(images_path));
  UNAS_ASSIGN_OR_RETURN(std::vector<int32_t> labels, ReadIdxLabels(labels_path));
  const int64_t images = static_cast<int64_t>(set.pixels.size()) / set.image_bytes();
  if (images != static_cast<int64_t>(labels.size())) {
    return absl::InvalidArgumentError(absl::StrCat(images_path, " holds ", images, " images but ",
                                                   labels_path, " holds ", labels.size(),
                                                   " labels"));
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(
          labels_path, ": label ", labels[i], " of example ", i, " is not below ", num_classes));
    }
  }
  set.labels = std::move(labels);
  return set;
}

}  // namespace unas::worker
