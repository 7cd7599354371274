#include "worker/data/mfcc.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>

namespace unas::worker {
namespace {

// FFTW's planner is not thread-safe; executing distinct plans is.
std::mutex& PlannerMutex() {
  static std::mutex mu;
  return mu;
}

}  // namespace

double HzToMel(double hz) { return 1127.0 * std::log1p(hz / 700.0); }

MfccExtractor::MfccExtractor()
    : window_(kWindowSamples),
      centres_(kMelChannels + 1),
      band_(kSpectrumBins),
      weights_(kSpectrumBins),
      dct_(kMfccCoefficients * kMelChannels),
      power_(kSpectrumBins),
      mel_(kMelChannels) {
  for (int i = 0; i < kWindowSamples; ++i) {
    window_[i] = static_cast<float>(
        0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * i / static_cast<double>(kWindowSamples)));
  }
  // TensorFlow's MfccMelFilterbank: kMelChannels + 1 equally spaced centres
  // above the low edge (the last one is the high edge); each bin between two
  // centres gives a linear share of its magnitude to both channels.
  const double mel_low = HzToMel(kMelLowHz);
  const double mel_high = HzToMel(kMelHighHz);
  const double spacing = (mel_high - mel_low) / (kMelChannels + 1);
  for (int c = 0; c <= kMelChannels; ++c) centres_[c] = mel_low + spacing * (c + 1);
  const double hz_per_bin = 0.5 * 16000.0 / (kSpectrumBins - 1);
  start_bin_ = static_cast<int>(1.5 + kMelLowHz / hz_per_bin);
  end_bin_ = static_cast<int>(kMelHighHz / hz_per_bin);
  int channel = 0;
  for (int i = 0; i < kSpectrumBins; ++i) {
    const double mel = HzToMel(i * hz_per_bin);
    if (i < start_bin_ || i > end_bin_) {
      band_[i] = -2;
      weights_[i] = 0;
      continue;
    }
    while (channel < kMelChannels && centres_[channel] < mel) ++channel;
    band_[i] = channel - 1;
    weights_[i] = band_[i] >= 0
                      ? (centres_[channel] - mel) / (centres_[channel] - centres_[channel - 1])
                      : (centres_[0] - mel) / (centres_[0] - mel_low);
  }
  const double norm = std::sqrt(2.0 / kMelChannels);
  for (int k = 0; k < kMfccCoefficients; ++k) {
    for (int j = 0; j < kMelChannels; ++j) {
      dct_[k * kMelChannels + j] =
          static_cast<float>(norm * std::cos(std::numbers::pi / kMelChannels * k * (j + 0.5)));
    }
  }
  fft_in_ = fftwf_alloc_real(kFftLength);
  fft_out_ = fftwf_alloc_complex(kSpectrumBins);
  std::lock_guard<std::mutex> lock(PlannerMutex());
  plan_ = fftwf_plan_dft_r2c_1d(kFftLength, fft_in_, static_cast<fftwf_complex*>(fft_out_),
                                FFTW_ESTIMATE);
}

MfccExtractor::~MfccExtractor() {
  {
    std::lock_guard<std::mutex> lock(PlannerMutex());
    fftwf_destroy_plan(static_cast<fftwf_plan>(plan_));
  }
  fftwf_free(fft_in_);
  fftwf_free(fft_out_);
}

void MfccExtractor::PowerSpectrum(const float* window, float* power) {
  for (int i = 0; i < kWindowSamples; ++i) fft_in_[i] = window[i] * window_[i];
  std::fill(fft_in_ + kWindowSamples, fft_in_ + kFftLength, 0.0f);
  fftwf_execute(static_cast<fftwf_plan>(plan_));
  const auto* out = static_cast<const fftwf_complex*>(fft_out_);
  for (int k = 0; k < kSpectrumBins; ++k) power[k] = out[k][0] * out[k][0] + out[k][1] * out[k][1];
}

void MfccExtractor::MelEnergies(const float* power, double* mel) const {
  std::fill(mel, mel + kMelChannels, 0.0);
  for (int i = start_bin_; i <= end_bin_; ++i) {
    const double magnitude = std::sqrt(static_cast<double>(power[i]));
    const double lower_share = magnitude * weights_[i];
    const int channel = band_[i];
    if (channel >= 0) mel[channel] += lower_share;
    if (channel + 1 < kMelChannels) mel[channel + 1] += magnitude - lower_share;
  }
}

void MfccExtractor::Cepstrum(const double* mel, float* coefficients) const {
  // Single precision from here on (TensorFlow uses double): the difference
  // is far below what the int8 input of a deployed model resolves.
  float log_mel[kMelChannels];
  for (int j = 0; j < kMelChannels; ++j) {
    log_mel[j] = std::log(static_cast<float>(std::max(mel[j], kLogFloor)));
  }
  for (int k = 0; k < kMfccCoefficients; ++k) {
    const float* row = dct_.data() + k * kMelChannels;
    float sum = 0;
    for (int j = 0; j < kMelChannels; ++j) sum += row[j] * log_mel[j];
    coefficients[k] = sum;
  }
}

void MfccExtractor::Compute(const float* audio, float* out) {
  for (int t = 0; t < kMfccFrames; ++t) {
    PowerSpectrum(audio + t * kStrideSamples, power_.data());
    MelEnergies(power_.data(), mel_.data());
    Cepstrum(mel_.data(), out + t * kMfccCoefficients);
  }
}

}  // namespace unas::worker
