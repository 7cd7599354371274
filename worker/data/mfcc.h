// MFCC features of one second of 16 kHz audio, as the original computes
// them with TensorFlow's audio ops (docs/unas_original.md §9):
//   audio_spectrogram: 480-sample (30 ms) periodic Hann windows every 160
//     samples (10 ms), zero-padded to a 512-point FFT, |X|^2, 257 bins;
//     only whole windows: 1 + (16000 - 480) / 160 = 98 frames;
//   mfcc: 40 triangular mel channels between 20 and 4000 Hz applied to the
//     magnitude sqrt(|X|^2) (TensorFlow's filterbank takes the square root of
//     its input), log(max(energy, 1e-12)), and a DCT-II scaled by sqrt(2/40)
//     keeping all 40 coefficients.
// The result is 98 x 40 (time x coefficient), the network's 98x40x1 input.
#ifndef UNAS_WORKER_DATA_MFCC_H_
#define UNAS_WORKER_DATA_MFCC_H_

#include <vector>

namespace unas::worker {

inline constexpr int kClipSamples = 16000;
inline constexpr int kWindowSamples = 480;
inline constexpr int kStrideSamples = 160;
inline constexpr int kFftLength = 512;
inline constexpr int kSpectrumBins = kFftLength / 2 + 1;
inline constexpr int kMfccFrames = 1 + (kClipSamples - kWindowSamples) / kStrideSamples;
inline constexpr int kMelChannels = 40;
inline constexpr int kMfccCoefficients = 40;
inline constexpr double kMelLowHz = 20.0;
inline constexpr double kMelHighHz = 4000.0;
inline constexpr double kLogFloor = 1e-12;

// Hz -> mel as TensorFlow's filterbank: 1127 ln(1 + f / 700).
double HzToMel(double hz);

// Not thread-safe: one per thread (construction is cheap; FFTW planning is
// serialised internally).
class MfccExtractor {
 public:
  MfccExtractor();
  ~MfccExtractor();
  MfccExtractor(const MfccExtractor&) = delete;
  MfccExtractor& operator=(const MfccExtractor&) = delete;

  // kClipSamples samples in, kMfccFrames * kMfccCoefficients values out
  // (frame-major).
  void Compute(const float* audio, float* out);

  // The stages, for tests. PowerSpectrum: one window of kWindowSamples
  // samples -> kSpectrumBins values |X[k]|^2.
  void PowerSpectrum(const float* window, float* power);
  // kSpectrumBins power values -> kMelChannels filterbank energies.
  void MelEnergies(const float* power, double* mel) const;
  // kMelChannels energies -> kMfccCoefficients coefficients (log, then DCT).
  void Cepstrum(const double* mel, float* coefficients) const;

  // Centre of mel channel c in mel (channel c peaks there).
  double ChannelCentreMel(int c) const { return centres_[c]; }

 private:
  std::vector<float> window_;        // periodic Hann
  std::vector<double> centres_;      // kMelChannels + 1 centre frequencies (mel)
  std::vector<int> band_;            // per bin: lower channel, -1 below the first, -2 unused
  std::vector<double> weights_;      // per bin: weight of the lower channel
  int start_bin_ = 0, end_bin_ = 0;  // bins used, both included
  std::vector<float> dct_;           // kMfccCoefficients x kMelChannels
  float* fft_in_ = nullptr;          // fftwf_malloc'd, kFftLength
  void* fft_out_ = nullptr;          // fftwf_complex[kSpectrumBins]
  void* plan_ = nullptr;             // fftwf_plan
  std::vector<float> power_;
  std::vector<double> mel_;
};

}  // namespace unas::worker

#endif  // UNAS_WORKER_DATA_MFCC_H_
