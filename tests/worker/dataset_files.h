// Small datasets in the real on-disk layouts, written by the tests
// themselves: PNG files (libpng), WAV files (libsndfile) with words spoken by
// espeak-ng, Chars74K / Speech Commands / Visual Wake Words trees.
#ifndef UNAS_TESTS_WORKER_DATASET_FILES_H_
#define UNAS_TESTS_WORKER_DATASET_FILES_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace unas::worker::testing {

// A fresh folder under the system temp folder, removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string& tag);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes a PNG. `rows` is the packed sample data as libpng expects it for
// the colour type and bit depth (16-bit samples big-endian); `palette` (RGB
// triples) is required for PNG_COLOR_TYPE_PALETTE. Aborts the test on error.
void WritePng(const std::string& path, int width, int height, int color_type, int bit_depth,
              const std::vector<uint8_t>& rows, const std::vector<uint8_t>& palette = {});

// An 8-bit RGB PNG of `pixels` (height * width * 3 bytes).
void WriteRgbPng(const std::string& path, int width, int height,
                 const std::vector<uint8_t>& pixels);

// A JPEG (quality 95) of 8-bit RGB pixels; needs libjpeg (JpegSupported()).
void WriteRgbJpeg(const std::string& path, int width, int height,
                  const std::vector<uint8_t>& pixels);

// 16-bit PCM mono WAV at `rate` Hz.
void WriteWav(const std::string& path, const std::vector<float>& samples, int rate);

// `word` spoken by espeak-ng (22,050 Hz), resampled linearly to 16 kHz.
std::vector<float> SpokenWord(const std::string& word);

// Chars74K GoodImg tree: English/Img/GoodImg/Bmp/SampleNNN/imgNNN-MMMMM.png,
// `per_class` images per class, each image a small RGB PNG whose colour
// encodes its class (so labels can be checked after loading).
void MakeChars74kTree(const std::filesystem::path& root, int per_class);

// Speech Commands tree: the ten words and the unknown words "bed" and "cat",
// each with clips of speakers chosen so that (hash rule) three are
// training, one validation and one test speakers; two background files.
struct SpeechTree {
  int train_speakers = 3;
  int validation_speakers = 1;
  int test_speakers = 1;
  std::vector<std::string> unknown_words = {"bed", "cat"};
};
void MakeSpeechCommandsTree(const std::filesystem::path& root, const SpeechTree& tree = {});

// Speaker ids ("%08x") whose clips the hash rule puts in the split:
// 0 train, 1 validation, 2 test.
std::vector<std::string> SpeakersFor(int split, int count);

// Visual Wake Words: root/<split>/{person,no_person}/*.png for each split
// name given (or root/{person,no_person} for an empty name), `per_class`
// images each. Person images are bright, others dark.
void MakeVwwTree(const std::filesystem::path& root, const std::vector<std::string>& splits,
                 int per_class, int side = 40);

}  // namespace unas::worker::testing

#endif  // UNAS_TESTS_WORKER_DATASET_FILES_H_
