// WAV files read with libsndfile, as the Speech Commands loader needs them:
// 16 kHz mono, samples as floats in [-1, 1) (int16 / 32768, as TensorFlow's
// decode_wav). Every error names the file.
#ifndef UNAS_WORKER_DATA_WAV_H_
#define UNAS_WORKER_DATA_WAV_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace unas::worker {

inline constexpr int kSpeechSampleRate = 16000;

struct WavInfo {
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = 0;
};

// Opens the file and checks it without reading the samples: readable by
// libsndfile, not cut short (a RIFF WAV whose data chunk claims more bytes
// than the file holds is DATA_LOSS -- libsndfile alone would read what is
// there), 16 kHz and mono (INVALID_ARGUMENT naming the rate / channels).
absl::StatusOr<WavInfo> ProbeWav(const std::string& path);

// ProbeWav's checks, then all samples.
absl::StatusOr<std::vector<float>> ReadWav(const std::string& path);

// ReadWav, then zero-padded or cut to exactly `samples` samples (the
// original's decode_wav with desired_samples), into `out`.
absl::Status ReadWavFixedLength(const std::string& path, int64_t samples, float* out);

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_WAV_H_
