// The Chars74K, Speech Commands and Visual Wake Words loaders on small
// datasets in the real layouts that the tests write themselves (PNG with
// libpng, WAV with libsndfile, words spoken by espeak-ng): labels, class
// counts, the split rules, resizing, PNG colour types, MFCC features against
// hand-computable signals, audio augmentation, and every bad-file case.
#include <png.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numbers>
#include <numeric>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/dataset_files.h"
#include "worker/data/chars74k.h"
#include "worker/data/dataset.h"
#include "worker/data/decoded_image.h"
#include "worker/data/mfcc.h"
#include "worker/data/sha1.h"
#include "worker/data/speech_commands.h"
#include "worker/data/visual_wake_words.h"
#include "worker/data/wav.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::TempDir;

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// --- PNG decoding and resizing ----------------------------------------------------------

TEST(Png, EveryColourTypeDecodesToRgb) {
  TempDir dir("png");
  using testing::WritePng;
  WritePng(dir.file("rgb.png"), 2, 1, PNG_COLOR_TYPE_RGB, 8, {10, 20, 30, 40, 50, 60});
  WritePng(dir.file("grey.png"), 2, 1, PNG_COLOR_TYPE_GRAY, 8, {7, 250});
  WritePng(dir.file("grey_alpha.png"), 2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {7, 0, 250, 255});
  WritePng(dir.file("rgba.png"), 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, {1, 2, 3, 0, 4, 5, 6, 128});
  WritePng(dir.file("palette.png"), 2, 1, PNG_COLOR_TYPE_PALETTE, 8, {1, 0}, {9, 8, 7, 90, 80, 70});
  WritePng(dir.file("grey1.png"), 2, 1, PNG_COLOR_TYPE_GRAY, 1, {0x40});  // 0, 1 -> 0, 255
  WritePng(dir.file("rgb16.png"), 1, 1, PNG_COLOR_TYPE_RGB, 16,
           {0x12, 0x34, 0xab, 0xcd, 0xff, 0xff});
  const std::map<std::string, std::vector<uint8_t>> expected = {
      {"rgb.png", {10, 20, 30, 40, 50, 60}},        {"grey.png", {7, 7, 7, 250, 250, 250}},
      {"grey_alpha.png", {7, 7, 7, 250, 250, 250}}, {"rgba.png", {1, 2, 3, 4, 5, 6}},
      {"palette.png", {90, 80, 70, 9, 8, 7}},       {"grey1.png", {0, 0, 0, 255, 255, 255}},
  };
  for (const auto& [name, pixels] : expected) {
    absl::StatusOr<RgbImage> image = ReadPngRgb(dir.file(name));
    ASSERT_TRUE(image.ok()) << name << ": " << image.status();
    EXPECT_EQ(image->height, 1) << name;
    EXPECT_EQ(image->width, 2) << name;
    EXPECT_EQ(image->pixels, pixels) << name;
  }
  absl::StatusOr<RgbImage> deep = ReadPngRgb(dir.file("rgb16.png"));
  ASSERT_TRUE(deep.ok()) << deep.status();
  // 16 -> 8 bits keeps the high byte (libpng's strip_16).
  EXPECT_EQ(deep->pixels, (std::vector<uint8_t>{0x12, 0xab, 0xff}));
}

TEST(Png, BadFilesAreErrorsNamingTheFile) {
  TempDir dir("badpng");
  std::vector<uint8_t> pixels(16 * 16 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  const std::string good = dir.file("good.png");
  testing::WriteRgbPng(good, 16, 16, pixels);
  const std::string bytes = ReadBytes(good);

  std::string corrupt = bytes;
  const size_t idat = corrupt.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  for (size_t i = idat + 6; i < idat + 16; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  WriteBytes(dir.file("corrupt.png"), corrupt);
  WriteBytes(dir.file("truncated.png"), bytes.substr(0, bytes.size() / 2));
  WriteBytes(dir.file("text.png"), "this is not an image");

  for (const char* name : {"corrupt.png", "truncated.png", "text.png", "missing.png"}) {
    absl::StatusOr<RgbImage> image = ReadPngRgb(dir.file(name));
    ASSERT_FALSE(image.ok()) << name;
    EXPECT_THAT(image.status().message(), HasSubstr(dir.file(name)));
  }
  EXPECT_EQ(ReadPngRgb(dir.file("corrupt.png")).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(ReadPngRgb(dir.file("text.png")).status().message(), HasSubstr("not a PNG"));
  EXPECT_EQ(ReadPngRgb(dir.file("missing.png")).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(ReadPngRgb(good).ok());  // the error path left nothing behind
}

TEST(Resize, BilinearWithHalfPixelCentresByHand) {
  // 2x2 -> 4x4: source coordinates -0.25, 0.25, 0.75, 1.25 (clamped), so
  // each row is (a, 3a/4 + b/4, a/4 + 3b/4, b).
  const std::vector<uint8_t> in = {0, 200, 100, 40};
  std::vector<uint8_t> out = ResizeBilinear(in.data(), 2, 2, 1, 4, 4);
  // Rows blend the same way: row 1 = 3/4 row 0 + 1/4 row 3.
  for (int y = 0; y < 4; ++y) {
    const double fy = std::clamp((y + 0.5) * 0.5 - 0.5, 0.0, 1.0);
    for (int x = 0; x < 4; ++x) {
      const double fx = std::clamp((x + 0.5) * 0.5 - 0.5, 0.0, 1.0);
      const double top = in[0] + (in[1] - in[0]) * fx;
      const double bottom = in[2] + (in[3] - in[2]) * fx;
      EXPECT_EQ(out[y * 4 + x], std::lround(top + (bottom - top) * fy)) << y << "," << x;
    }
  }
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 50);
  EXPECT_EQ(out[2], 150);
  EXPECT_EQ(out[3], 200);
  EXPECT_EQ(out[12], 100);
  EXPECT_EQ(out[15], 40);
  // 4x1 -> 2x1 averages neighbours (source 0.5 and 2.5).
  const std::vector<uint8_t> row = {10, 20, 30, 41};
  EXPECT_EQ(ResizeBilinear(row.data(), 1, 4, 1, 1, 2), (std::vector<uint8_t>{15, 36}));
  // A uniform RGB image stays uniform at any size.
  std::vector<uint8_t> flat(5 * 7 * 3);
  for (size_t i = 0; i < flat.size(); ++i) flat[i] = static_cast<uint8_t>(60 + i % 3);
  for (uint8_t v : ResizeBilinear(flat.data(), 5, 7, 3, 48, 48)) EXPECT_TRUE(v >= 60 && v <= 62);
}

TEST(Resize, CentralCropKeepsSevenEighths) {
  RgbImage image{32, 48, std::vector<uint8_t>(32 * 48 * 3)};
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 48; ++x) image.pixels[(y * 48 + x) * 3] = static_cast<uint8_t>(y * 4 + x);
  }
  RgbImage crop = CentralCrop875(image);
  EXPECT_EQ(crop.height, 28);  // 32 - 2 * (32 / 16)
  EXPECT_EQ(crop.width, 42);   // 48 - 2 * 3
  EXPECT_EQ(crop.pixels[0], 2 * 4 + 3);
}

// --- Chars74K ------------------------------------------------------------------------------

TEST(Chars74k, SplitCountsAreTheOriginals) {
  SplitCounts full = Chars74kSplitCounts(kChars74kImages, true);
  EXPECT_EQ(full.train, 5000);
  EXPECT_EQ(full.validation, 705);
  EXPECT_EQ(full.test, 2000);
  SplitCounts small = Chars74kSplitCounts(248, true);  // scaled and rounded
  EXPECT_EQ(small.test, 64);
  EXPECT_EQ(small.validation, 23);
  EXPECT_EQ(small.train, 161);
  EXPECT_EQ(Chars74kSplitCounts(248, false).validation, 0);
}

TEST(Chars74k, LoadsLabelsSplitsAndResizes) {
  TempDir dir("chars74k");
  testing::MakeChars74kTree(dir.path(), 4);
  absl::StatusOr<std::vector<LabelledFile>> files = ListChars74k(dir.path().string());
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 248u);
  EXPECT_EQ((*files)[0].label, 0);
  EXPECT_EQ(files->back().label, 61);

  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_CHARS74K);
  spec.set_data_dir(dir.path().string());
  spec.mutable_image_size()->set_height(12);
  spec.mutable_image_size()->set_width(10);
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 3);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->num_classes, 62);
  EXPECT_EQ(ds->train.size(), 161);
  EXPECT_EQ(ds->validation.size(), 23);
  EXPECT_EQ(ds->test.size(), 64);
  EXPECT_EQ(ds->shape().height, 12);
  EXPECT_EQ(ds->shape().width, 10);
  EXPECT_EQ(ds->shape().channels, 3);
  // Stratified: every class keeps at least its floor share in test.
  for (int64_t n : ClassCounts(ds->test, 62)) EXPECT_GE(n, 1);
  std::vector<int64_t> all(62, 0);
  for (const ImageSet* set : {&ds->train, &ds->validation, &ds->test}) {
    for (int c = 0; c < 62; ++c) all[c] += ClassCounts(*set, 62)[c];
    // Each image's colour encodes its class (red = 4 * class, any format).
    for (int64_t i = 0; i < set->size(); ++i) {
      EXPECT_EQ(set->image(i)[0], 4 * set->labels[i]);
      EXPECT_EQ(set->image(i)[set->image_bytes() - 3], 4 * set->labels[i]);
    }
  }
  for (int64_t n : all) EXPECT_EQ(n, 4);

  // Same seed, same split; another seed, another one.
  absl::StatusOr<Dataset> again = LoadDataset(spec, 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->test.labels, ds->test.labels);
  EXPECT_EQ(again->train.pixels, ds->train.pixels);
  absl::StatusOr<Dataset> other = LoadDataset(spec, 4);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->train.labels, ds->train.labels);

  // Binary variant and no validation.
  spec.set_binary(true);
  spec.set_validation_fraction(0);
  absl::StatusOr<Dataset> binary = LoadDataset(spec, 3);
  ASSERT_TRUE(binary.ok()) << binary.status();
  EXPECT_EQ(binary->num_classes, 2);
  EXPECT_EQ(binary->validation.size(), 0);
  EXPECT_EQ(binary->test.size(), 64);
  for (int64_t i = 0; i < binary->train.size(); ++i) {
    EXPECT_EQ(binary->train.labels[i], binary->train.image(i)[0] / 4 < 31 ? 1 : 0);
  }
}

TEST(Chars74k, BadTreesAreErrorsNamingTheFile) {
  TempDir dir("chars74k_bad");
  testing::MakeChars74kTree(dir.path(), 1);
  const fs::path sample = dir.path() / "English/Img/GoodImg/Bmp/Sample005";
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_CHARS74K);
  spec.set_data_dir(dir.path().string());

  WriteBytes((sample / "img005-00099.png").string(), "garbage");
  absl::Status s = LoadDataset(spec, 0).status();
  EXPECT_THAT(s.message(), HasSubstr("img005-00099.png"));
  fs::remove(sample / "img005-00099.png");

  std::string bytes = ReadBytes((sample / "img005-00001.png").string());
  WriteBytes((sample / "img005-00002.png").string(), bytes.substr(0, bytes.size() - 20));
  s = LoadDataset(spec, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("img005-00002.png"), HasSubstr("corrupt PNG")));
  fs::remove(sample / "img005-00002.png");

  fs::copy_file(sample / "img005-00001.png", sample / "img006-00001.png");
  s = LoadDataset(spec, 0).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("img006-00001.png"), HasSubstr("Sample005")));
  fs::remove(sample / "img006-00001.png");
  ASSERT_TRUE(LoadDataset(spec, 0).ok());

  TempDir empty("chars74k_empty");
  spec.set_data_dir(empty.path().string());
  s = LoadDataset(spec, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(empty.path().string()));
}

// --- Visual Wake Words ----------------------------------------------------------------------

TEST(VisualWakeWords, SplitFoldersAndLabels) {
  TempDir dir("vww");
  testing::MakeVwwTree(dir.path(), {"train", "val", "test"}, 6);
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_VISUAL_WAKE_WORDS);
  spec.set_data_dir(dir.path().string());
  spec.mutable_image_size()->set_height(24);
  spec.mutable_image_size()->set_width(24);
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 1);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->num_classes, 2);
  EXPECT_EQ(ds->train.size(), 12);
  EXPECT_EQ(ds->validation.size(), 12);
  EXPECT_EQ(ds->test.size(), 12);
  EXPECT_EQ(ClassCounts(ds->train, 2), (std::vector<int64_t>{6, 6}));
  for (const ImageSet* set : {&ds->train, &ds->validation, &ds->test}) {
    for (int64_t i = 0; i < set->size(); ++i) {
      EXPECT_EQ(set->labels[i], set->image(i)[0] >= 200 ? 1 : 0);  // person = bright
    }
  }
  // max_train_examples keeps a seeded sample of both classes.
  spec.set_max_train_examples(4);
  absl::StatusOr<Dataset> few = LoadDataset(spec, 1);
  ASSERT_TRUE(few.ok());
  EXPECT_EQ(few->train.size(), 4);
  EXPECT_EQ(ClassCounts(few->train, 2)[0] + ClassCounts(few->train, 2)[1], 4);
}

TEST(VisualWakeWords, FlatFolderIsSplitStratified) {
  TempDir dir("vww_flat");
  testing::MakeVwwTree(dir.path(), {""}, 20);
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_VISUAL_WAKE_WORDS);
  spec.set_data_dir(dir.path().string());
  spec.set_validation_fraction(0.25);
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 5);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->shape().height, 96);  // the default size
  EXPECT_EQ(ds->test.size(), 4);      // 10 % of 40
  EXPECT_EQ(ClassCounts(ds->test, 2), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(ds->validation.size(), 9);  // 25 % of 36
  EXPECT_EQ(ds->train.size(), 27);

  fs::remove_all(dir.path() / "no_person");
  absl::Status s = LoadDataset(spec, 5).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr((dir.path() / "no_person").string()));
}

TEST(VisualWakeWords, TooSmallImageIsAnErrorNamingIt) {
  TempDir dir("vww_small");
  testing::MakeVwwTree(dir.path(), {""}, 10);
  const std::string tiny = (dir.path() / "person" / "tiny.png").string();
  testing::WriteRgbPng(tiny, 8, 8, std::vector<uint8_t>(8 * 8 * 3, 250));
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_VISUAL_WAKE_WORDS);
  spec.set_data_dir(dir.path().string());
  absl::Status s = LoadDataset(spec, 5).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("tiny.png"));
  EXPECT_THAT(s.message(), HasSubstr("under 16x16"));
}

TEST(VisualWakeWords, JpegFilesWhenBuiltWithLibjpeg) {
  TempDir dir("vww_jpeg");
  std::vector<uint8_t> pixels(32 * 32 * 3);
  for (size_t i = 0; i < pixels.size(); i += 3)
    pixels[i] = 180, pixels[i + 1] = 90, pixels[i + 2] = 30;
  const std::string jpg = dir.file("photo.jpg");
  if (!JpegSupported()) {
    WriteBytes(jpg, "\xff\xd8\xff");
    EXPECT_EQ(ReadImageRgb(jpg).status().code(), absl::StatusCode::kUnimplemented);
    GTEST_SKIP() << "built without libjpeg: PNG only";
  }
  testing::WriteRgbJpeg(jpg, 32, 32, pixels);
  absl::StatusOr<RgbImage> image = ReadImageRgb(jpg);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->height, 32);
  EXPECT_NEAR(image->pixels[0], 180, 3);
  EXPECT_NEAR(image->pixels[1], 90, 3);
  EXPECT_NEAR(image->pixels[2], 30, 3);
  const std::string bytes = ReadBytes(jpg);
  WriteBytes(dir.file("cut.jpg"), bytes.substr(0, bytes.size() / 2));
  absl::Status s = ReadImageRgb(dir.file("cut.jpg")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("cut.jpg"));
}

// --- Speech Commands: hashing and the split rule --------------------------------------------

TEST(Sha1, KnownVectors) {
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex(std::string(1000, 'a')), "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

TEST(SpeechCommands, HashSplitMatchesTheOriginalRule) {
  // Percentages computed with Python's hashlib as TensorFlow's which_set does.
  struct Case {
    const char* name;
    double percentage;
    SpeechSplit split;
  };
  const Case cases[] = {
      {"00000000_nohash_0.wav", 9.555729549793373, SpeechSplit::kValidation},
      {"9e3779b1_nohash_0.wav", 1.7013542480867672, SpeechSplit::kValidation},
      {"bb05582b_nohash_3.wav", 18.13267855445056, SpeechSplit::kTest},
      {"03401e93_nohash_0.wav", 17.643682045069948, SpeechSplit::kTest},
      {"0a7c2a8d_nohash_0.wav", 56.836387193474074, SpeechSplit::kTrain},
      {"no_suffix.wav", 22.688980569608365, SpeechSplit::kTrain},
  };
  for (const Case& c : cases) {
    EXPECT_NEAR(SpeechHashPercentage(c.name), c.percentage, 1e-9) << c.name;
    EXPECT_EQ(SpeechHashSplit(c.name), c.split) << c.name;
  }
  // Only the speaker part counts.
  EXPECT_EQ(SpeechHashPercentage("bb05582b_nohash_0.wav"),
            SpeechHashPercentage("bb05582b_nohash_3.wav"));
}

// --- MFCC --------------------------------------------------------------------------------

TEST(Mfcc, ShapeAndSilenceByHand) {
  EXPECT_EQ(kMfccFrames, 98);
  MfccExtractor mfcc;
  std::vector<float> silence(kClipSamples, 0.0f);
  std::vector<float> out(kMfccFrames * kMfccCoefficients, 99.0f);
  mfcc.Compute(silence.data(), out.data());
  // Every channel at the floor: c0 = sqrt(2/40) * 40 * ln(1e-12), the rest 0.
  const double c0 = std::sqrt(2.0 / 40) * 40 * std::log(1e-12);
  for (int t = 0; t < kMfccFrames; ++t) {
    EXPECT_NEAR(out[t * 40], c0, 1e-3);
    for (int k = 1; k < 40; ++k) EXPECT_NEAR(out[t * 40 + k], 0.0, 1e-3);
  }
}

TEST(Mfcc, ToneEnergyLandsInTheRightBinAndMelChannel) {
  MfccExtractor mfcc;
  for (double hz : {500.0, 1000.0, 2500.0}) {
    const double amplitude = 0.5;
    std::vector<float> window(kWindowSamples);
    for (int n = 0; n < kWindowSamples; ++n) {
      window[n] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * hz * n / 16000));
    }
    std::vector<float> power(kSpectrumBins);
    mfcc.PowerSpectrum(window.data(), power.data());
    // The bin of hz (31.25 Hz per bin): |X|^2 = (A * sum(hann) / 2)^2 =
    // (A * 120)^2 up to the small leakage of the window's other half.
    const int bin = static_cast<int>(hz / 31.25);
    EXPECT_EQ(std::max_element(power.begin(), power.end()) - power.begin(), bin) << hz;
    EXPECT_NEAR(power[bin] / std::pow(amplitude * 120, 2), 1.0, 0.02) << hz;

    std::vector<double> mel(kMelChannels);
    mfcc.MelEnergies(power.data(), mel.data());
    // Channel c peaks at mel(20) + (c + 1) * (mel(4000) - mel(20)) / 41.
    const double spacing = (HzToMel(4000) - HzToMel(20)) / 41;
    const int channel = static_cast<int>(std::lround((HzToMel(hz) - HzToMel(20)) / spacing)) - 1;
    const int loudest = static_cast<int>(std::max_element(mel.begin(), mel.end()) - mel.begin());
    EXPECT_LE(std::abs(loudest - channel), 1) << hz << " Hz: channel " << loudest;
    // Far channels get nothing but leakage.
    EXPECT_LT(mel[(channel + 20) % 40], 1e-2 * mel[loudest]) << hz;
  }
  EXPECT_NEAR(HzToMel(1000), 1127 * std::log(1 + 1000.0 / 700), 1e-9);
}

// --- Speech Commands: the tree ------------------------------------------------------------

class SpeechCommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("speech");
    testing::MakeSpeechCommandsTree(dir_->path());
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string root() { return dir_->path().string(); }
  static inline TempDir* dir_ = nullptr;
};

TEST_F(SpeechCommandsTest, ClassesSplitsSilenceAndUnknown) {
  absl::StatusOr<SpeechClipLists> lists = ListSpeechCommands(root(), 11);
  ASSERT_TRUE(lists.ok()) << lists.status();
  EXPECT_FALSE(lists->used_list_files);
  EXPECT_EQ(lists->background_files.size(), 2u);
  // 30 / 10 / 10 word clips, plus ceil(10 %) silence and unknown each.
  auto counts = [](const std::vector<SpeechClip>& clips) {
    std::vector<int> n(kSpeechClasses, 0);
    for (const SpeechClip& c : clips) ++n[c.label];
    return n;
  };
  std::vector<int> train = counts(lists->train);
  EXPECT_EQ(lists->train.size(), 36u);
  EXPECT_EQ(train[kSilenceLabel], 3);
  EXPECT_EQ(train[kUnknownLabel], 3);
  for (int c = 2; c < kSpeechClasses; ++c) EXPECT_EQ(train[c], 3) << c;
  for (const auto* split : {&lists->validation, &lists->test}) {
    std::vector<int> n = counts(*split);
    EXPECT_EQ(split->size(), 12u);
    EXPECT_EQ(n[kSilenceLabel], 1);
    EXPECT_EQ(n[kUnknownLabel], 1);
  }
  for (const SpeechClip& c : lists->train) {
    if (c.label == kSilenceLabel) {
      EXPECT_TRUE(c.path.empty());
      continue;
    }
    const std::string word = fs::path(c.path).parent_path().filename().string();
    if (c.label == kUnknownLabel) {
      EXPECT_TRUE(word == "bed" || word == "cat") << c.path;
    } else {
      EXPECT_EQ(word, kSpeechWords[c.label - 2]);
    }
    EXPECT_EQ(SpeechHashSplit(fs::path(c.path).filename().string()), SpeechSplit::kTrain);
  }
  for (const SpeechClip& c : lists->validation) {
    if (!c.path.empty()) {
      EXPECT_EQ(SpeechHashSplit(fs::path(c.path).filename().string()), SpeechSplit::kValidation);
    }
  }
  // The seed picks the unknown clips and the order, never the split.
  absl::StatusOr<SpeechClipLists> same = ListSpeechCommands(root(), 11);
  absl::StatusOr<SpeechClipLists> other = ListSpeechCommands(root(), 12);
  ASSERT_TRUE(same.ok() && other.ok());
  auto paths = [](const std::vector<SpeechClip>& clips) {
    std::vector<std::string> p;
    for (const SpeechClip& c : clips) p.push_back(c.path);
    return p;
  };
  EXPECT_EQ(paths(same->train), paths(lists->train));
  EXPECT_NE(paths(other->train), paths(lists->train));
  std::vector<std::string> a = paths(other->test), b = paths(lists->test);
  std::erase_if(a, [](const std::string& p) {
    return p.find("/bed/") != std::string::npos || p.find("/cat/") != std::string::npos;
  });
  std::erase_if(b, [](const std::string& p) {
    return p.find("/bed/") != std::string::npos || p.find("/cat/") != std::string::npos;
  });
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b);
}

TEST_F(SpeechCommandsTest, ListFilesOverrideTheHash) {
  TempDir copy("speech_lists");
  fs::copy(root(), copy.path(), fs::copy_options::recursive);
  // Move one training speaker of "yes" to validation, one to test.
  std::vector<std::string> train = testing::SpeakersFor(0, 2);
  std::ofstream(copy.file("validation_list.txt")) << "yes/" << train[0] << "_nohash_0.wav\n";
  std::ofstream(copy.file("testing_list.txt")) << "yes/" << train[1] << "_nohash_0.wav\n";
  absl::StatusOr<SpeechClipLists> lists = ListSpeechCommands(copy.path().string(), 1);
  ASSERT_TRUE(lists.ok()) << lists.status();
  EXPECT_TRUE(lists->used_list_files);
  // 1 word clip each in validation and test (+1 silence, no unknown clip
  // listed there); the other 48 word clips in train.
  int words_val = 0;
  for (const SpeechClip& c : lists->validation) words_val += c.label >= 2;
  EXPECT_EQ(words_val, 1);
  EXPECT_EQ(lists->validation.size(), 2u);
  EXPECT_EQ(lists->test.size(), 2u);
  int words_train = 0;
  for (const SpeechClip& c : lists->train) words_train += c.label >= 2;
  EXPECT_EQ(words_train, 48);
}

TEST_F(SpeechCommandsTest, LoadsFeaturesAndLabels) {
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_SPEECH_COMMANDS);
  spec.set_data_dir(root());
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 2);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->num_classes, 12);
  EXPECT_EQ(ds->shape().height, 98);
  EXPECT_EQ(ds->shape().width, 40);
  EXPECT_EQ(ds->shape().channels, 1);
  ASSERT_NE(ds->train_audio, nullptr);
  EXPECT_EQ(ds->train.size(), 36);
  EXPECT_FALSE(ds->train.has_pixels() || ds->train.has_features());
  EXPECT_EQ(ds->train_audio->size(), 36);
  for (int64_t i = 0; i < 36; ++i) EXPECT_EQ(ds->train.labels[i], ds->train_audio->clip(i).label);
  ASSERT_TRUE(ds->validation.has_features());
  EXPECT_EQ(ds->validation.features.size(), 12u * 98 * 40);
  EXPECT_EQ(ds->test.size(), 12);
  // Features are stored standardised with statistics of training clips:
  // the identity preprocessing, and roughly zero mean and unit variance.
  EXPECT_TRUE(ds->preprocessing.mean.empty());
  const FeatureNormalisation norm = ds->feature_normalisation;
  EXPECT_TRUE(std::isfinite(norm.mean));
  EXPECT_GT(norm.stddev, 1.0f);
  double sum = 0, squares = 0;
  for (const ImageSet* set : {&ds->validation, &ds->test}) {
    for (float v : set->features) sum += v, squares += double{v} * v;
  }
  const double n = 24.0 * 98 * 40;
  EXPECT_NEAR(sum / n, 0.0, 0.3);
  EXPECT_NEAR(std::sqrt(squares / n - (sum / n) * (sum / n)), 1.0, 0.3);
  // In the middle of the clip a spoken word has far more energy than the
  // log floor (c0 = -247 for digital silence).
  for (int64_t i = 0; i < ds->test.size(); ++i) {
    const float c0 = ds->test.example_features(i)[40 * 40] * norm.stddev + norm.mean;
    if (ds->test.labels[i] >= 2) {
      EXPECT_GT(c0, -150.0f) << i;
    }
  }
  // Same seed: identical features (silence backgrounds are seeded).
  absl::StatusOr<Dataset> again = LoadDataset(spec, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->test.features, ds->test.features);
  EXPECT_EQ(again->feature_normalisation.mean, norm.mean);

  spec.set_max_train_examples(10);
  spec.set_max_test_examples(5);
  spec.set_validation_fraction(0);
  absl::StatusOr<Dataset> few = LoadDataset(spec, 2);
  ASSERT_TRUE(few.ok()) << few.status();
  EXPECT_EQ(few->train.size(), 10);
  EXPECT_EQ(few->train_audio->size(), 10);
  EXPECT_EQ(few->test.size(), 5);
  EXPECT_EQ(few->validation.size(), 0);
}

TEST_F(SpeechCommandsTest, AugmentationIsSeededAndDoesWhatItSays) {
  absl::StatusOr<SpeechClipLists> lists = ListSpeechCommands(root(), 0);
  ASSERT_TRUE(lists.ok());
  absl::StatusOr<std::shared_ptr<const BackgroundNoise>> noise =
      ReadBackgroundNoise(lists->background_files);
  ASSERT_TRUE(noise.ok()) << noise.status();
  SpeechAudio audio(lists->train, *noise);
  int64_t word = 0, silence = 0;
  while (audio.clip(word).label < 2) ++word;
  while (audio.clip(silence).label != kSilenceLabel) ++silence;

  Rng a(5), b(5), c(6);
  std::vector<ClipMix> ma, mb, mc;
  for (int k = 0; k < 200; ++k) {
    ma.push_back(audio.Draw(word, true, a));
    mb.push_back(audio.Draw(word, true, b));
    mc.push_back(audio.Draw(word, true, c));
  }
  int mixed = 0, differs = 0;
  for (int k = 0; k < 200; ++k) {
    EXPECT_EQ(ma[k].shift, mb[k].shift);
    EXPECT_EQ(ma[k].background_offset, mb[k].background_offset);
    EXPECT_EQ(ma[k].background_volume, mb[k].background_volume);
    differs += ma[k].shift != mc[k].shift;
    EXPECT_GE(ma[k].shift, -kTimeShiftSamples);
    EXPECT_LT(ma[k].shift, kTimeShiftSamples);
    EXPECT_GE(ma[k].background_volume, 0.0f);
    EXPECT_LT(ma[k].background_volume, 0.1f);
    mixed += ma[k].background_volume > 0;
  }
  EXPECT_GT(differs, 150);
  EXPECT_NEAR(mixed / 200.0, 0.8, 0.1);  // background with probability 0.8

  // Unaugmented: no shift, no background; silence always gets background.
  Rng r(1);
  ClipMix plain = audio.Draw(word, false, r);
  EXPECT_EQ(plain.shift, 0);
  EXPECT_EQ(plain.background, -1);
  ClipMix quiet = audio.Draw(silence, false, r);
  EXPECT_GE(quiet.background, 0);

  // The shift moves the clip: out[t] = clip[t - shift].
  std::vector<float> base(kClipSamples), moved(kClipSamples);
  ASSERT_TRUE(audio.Mix(word, ClipMix{}, base.data()).ok());
  ClipMix shift;
  shift.shift = 1000;
  ASSERT_TRUE(audio.Mix(word, shift, moved.data()).ok());
  for (int t = 0; t < kClipSamples; ++t) {
    EXPECT_EQ(moved[t], t >= 1000 ? base[t - 1000] : 0.0f) << t;
  }
  shift.shift = -700;
  ASSERT_TRUE(audio.Mix(word, shift, moved.data()).ok());
  EXPECT_EQ(moved[0], base[700]);
  EXPECT_EQ(moved[kClipSamples - 1], 0.0f);
  // Silence is the background slice times the volume.
  ClipMix bg;
  bg.background = 0;
  bg.background_offset = 123;
  bg.background_volume = 0.5f;
  ASSERT_TRUE(audio.Mix(silence, bg, moved.data()).ok());
  for (int t = 0; t < 100; ++t) {
    EXPECT_FLOAT_EQ(moved[t], 0.5f * (*noise)->samples[0][123 + t]);
  }
  // Same draws, same features.
  MfccExtractor mfcc;
  std::vector<float> fa(98 * 40), fb(98 * 40);
  ASSERT_TRUE(audio.Features(word, ma[3], mfcc, fa.data()).ok());
  ASSERT_TRUE(audio.Features(word, mb[3], mfcc, fb.data()).ok());
  EXPECT_EQ(fa, fb);
}

TEST_F(SpeechCommandsTest, BadFilesAndFoldersAreErrorsNamingThem) {
  TempDir copy("speech_bad");
  fs::copy(root(), copy.path(), fs::copy_options::recursive);
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_SPEECH_COMMANDS);
  spec.set_data_dir(copy.path().string());
  ASSERT_TRUE(LoadDataset(spec, 0).ok());

  const std::string train_clip =
      (copy.path() / "go" / (testing::SpeakersFor(0, 1)[0] + "_nohash_0.wav")).string();
  const std::string good = ReadBytes(train_clip);
  // Truncated: the data chunk claims more than the file holds.
  WriteBytes(train_clip, good.substr(0, good.size() / 2));
  absl::Status s = LoadDataset(spec, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(train_clip), HasSubstr("truncated")));
  // Cut inside the header.
  WriteBytes(train_clip, good.substr(0, 20));
  s = LoadDataset(spec, 0).status();
  EXPECT_THAT(s.message(), HasSubstr(train_clip));
  // The wrong sample rate.
  testing::WriteWav(train_clip, std::vector<float>(22050, 0.1f), 22050);
  s = LoadDataset(spec, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr(train_clip), HasSubstr("22050")));
  WriteBytes(train_clip, good);
  ASSERT_TRUE(LoadDataset(spec, 0).ok());

  // A background file shorter than a second.
  const std::string noise = copy.file("_background_noise_/white_noise.wav");
  const std::string noise_bytes = ReadBytes(noise);
  testing::WriteWav(noise, std::vector<float>(8000, 0.0f), 16000);
  s = LoadDataset(spec, 0).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr(noise), HasSubstr("longer than one second")));
  WriteBytes(noise, noise_bytes);

  // Missing folders.
  fs::rename(copy.path() / "stop", copy.path() / "stopped");
  s = LoadDataset(spec, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr((copy.path() / "stop").string()));
  fs::rename(copy.path() / "stopped", copy.path() / "stop");
  fs::remove_all(copy.path() / "_background_noise_");
  s = LoadDataset(spec, 0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("_background_noise_"));
}

TEST(Wav, RatesChannelsAndPadding) {
  TempDir dir("wav");
  // Samples read as int16 / 32768, as TensorFlow's decode_wav.
  std::vector<short> ramp_pcm(100);
  std::vector<float> ramp(100);
  for (int i = 0; i < 100; ++i) {
    ramp_pcm[i] = static_cast<short>((i - 50) * 655);
    ramp[i] = ramp_pcm[i] / 32768.0f;
  }
  {
    SF_INFO mono{};
    mono.samplerate = 16000;
    mono.channels = 1;
    mono.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* file = sf_open(dir.file("ramp.wav").c_str(), SFM_WRITE, &mono);
    ASSERT_NE(file, nullptr);
    sf_writef_short(file, ramp_pcm.data(), 100);
    sf_close(file);
  }
  std::vector<float> out(160, 7.0f);
  ASSERT_TRUE(ReadWavFixedLength(dir.file("ramp.wav"), 160, out.data()).ok());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(out[i], ramp[i]);
  for (int i = 100; i < 160; ++i) EXPECT_EQ(out[i], 0.0f);
  ASSERT_TRUE(ReadWavFixedLength(dir.file("ramp.wav"), 50, out.data()).ok());
  EXPECT_EQ(out[49], ramp[49]);

  SF_INFO info{};
  info.samplerate = 16000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* stereo = sf_open(dir.file("stereo.wav").c_str(), SFM_WRITE, &info);
  ASSERT_NE(stereo, nullptr);
  std::vector<float> frames(200, 0.25f);
  sf_writef_float(stereo, frames.data(), 100);
  sf_close(stereo);
  absl::Status s = ProbeWav(dir.file("stereo.wav")).status();
  EXPECT_THAT(s.message(), AllOf(HasSubstr("stereo.wav"), HasSubstr("2 channels")));
  EXPECT_EQ(ProbeWav(dir.file("none.wav")).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace unas::worker
