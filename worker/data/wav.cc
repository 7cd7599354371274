#include "worker/data/wav.h"

#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace unas::worker {
namespace {

uint32_t Le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// For RIFF/WAVE files: walks the chunk headers to the data chunk and checks
// that the file holds all the bytes it declares. Other containers are left
// to libsndfile.
absl::Status CheckRiffLength(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char header[12];
  if (!in.read(reinterpret_cast<char*>(header), 12)) return absl::OkStatus();
  if (std::memcmp(header, "RIFF", 4) != 0 || std::memcmp(header + 8, "WAVE", 4) != 0) {
    return absl::OkStatus();
  }
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) return absl::OkStatus();
  uint64_t offset = 12;
  unsigned char chunk[8];
  while (offset + 8 <= file_size) {
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(chunk), 8)) break;
    const uint64_t size = Le32(chunk + 4);
    if (std::memcmp(chunk, "data", 4) == 0) {
      if (offset + 8 + size > file_size) {
        return absl::DataLossError(absl::StrCat(path, ": truncated WAV file: the data chunk holds ",
                                                size, " bytes but the file ends after ",
                                                file_size - offset - 8));
      }
      return absl::OkStatus();
    }
    offset += 8 + size + (size & 1);  // chunks are padded to an even size
  }
  return absl::OkStatus();  // no data chunk: libsndfile reports it
}

// Closes the SNDFILE on every path.
struct SndFile {
  SNDFILE* file = nullptr;
  ~SndFile() {
    if (file != nullptr) sf_close(file);
  }
};

absl::StatusOr<WavInfo> Open(const std::string& path, SndFile& handle) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  SF_INFO info{};
  handle.file = sf_open(path.c_str(), SFM_READ, &info);
  if (handle.file == nullptr) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a readable WAV file (", sf_strerror(nullptr), ")"));
  }
  UNAS_RETURN_IF_ERROR(CheckRiffLength(path));
  if (info.samplerate != kSpeechSampleRate) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": sample rate ", info.samplerate,
                                                   " Hz, expected ", kSpeechSampleRate, " Hz"));
  }
  if (info.channels != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", info.channels, " channels, expected mono"));
  }
  return WavInfo{info.samplerate, info.channels, static_cast<int64_t>(info.frames)};
}

}  // namespace

absl::StatusOr<WavInfo> ProbeWav(const std::string& path) {
  SndFile handle;
  return Open(path, handle);
}

absl::StatusOr<std::vector<float>> ReadWav(const std::string& path) {
  SndFile handle;
  UNAS_ASSIGN_OR_RETURN(WavInfo info, Open(path, handle));
  std::vector<float> samples(info.frames);
  const sf_count_t got = sf_readf_float(handle.file, samples.data(), info.frames);
  if (got != info.frames) {
    return absl::DataLossError(absl::StrCat(path, ": read ", got, " of ", info.frames, " samples"));
  }
  return samples;
}

absl::Status ReadWavFixedLength(const std::string& path, int64_t samples, float* out) {
  SndFile handle;
  UNAS_ASSIGN_OR_RETURN(WavInfo info, Open(path, handle));
  const int64_t want = std::min(info.frames, samples);
  const sf_count_t got = sf_readf_float(handle.file, out, want);
  if (got != want) {
    return absl::DataLossError(absl::StrCat(path, ": read ", got, " of ", want, " samples"));
  }
  std::fill(out + want, out + samples, 0.0f);
  return absl::OkStatus();
}

}  // namespace unas::worker
