// Dataset loaders on small files in the real formats written by the tests
// (IDX gzip and raw, CIFAR-10 binary batches), every bad-file case, the
// stratified split, binary variants and the augmentation operations.
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/data/augment.h"
#include "worker/data/cifar.h"
#include "worker/data/dataset.h"
#include "worker/data/idx.h"

namespace unas::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("unas_data_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

void Put32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

void WriteFile(const std::string& path, const std::string& data, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(gzwrite(f, data.data(), static_cast<unsigned>(data.size())),
              static_cast<int>(data.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << data;
  }
}

// n images of rows x cols where pixel (i, y, x) = (i * 7 + y * cols + x) % 256.
std::string IdxImages(uint32_t n, uint32_t rows, uint32_t cols, uint32_t magic = kIdxImagesMagic) {
  std::string s;
  Put32(s, magic);
  Put32(s, n);
  Put32(s, rows);
  Put32(s, cols);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t p = 0; p < rows * cols; ++p) s.push_back(static_cast<char>((i * 7 + p) % 256));
  }
  return s;
}

std::string IdxLabels(const std::vector<int>& labels, uint32_t magic = kIdxLabelsMagic) {
  std::string s;
  Put32(s, magic);
  Put32(s, static_cast<uint32_t>(labels.size()));
  for (int l : labels) s.push_back(static_cast<char>(l));
  return s;
}

std::vector<int> CyclicLabels(int n, int classes = 10) {
  std::vector<int> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i % classes;
  return labels;
}

// A complete MNIST-style folder: 200 train and 50 test 28x28 images.
void WriteIdxDataset(const TempDir& dir, bool gzip) {
  const std::string ext = gzip ? ".gz" : "";
  WriteFile(dir.file("train-images-idx3-ubyte" + ext), IdxImages(200, 28, 28), gzip);
  WriteFile(dir.file("train-labels-idx1-ubyte" + ext), IdxLabels(CyclicLabels(200)), gzip);
  WriteFile(dir.file("t10k-images-idx3-ubyte" + ext), IdxImages(50, 28, 28), gzip);
  WriteFile(dir.file("t10k-labels-idx1-ubyte" + ext), IdxLabels(CyclicLabels(50)), gzip);
}

std::string CifarBatch(int n, int first_label = 0) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s.push_back(static_cast<char>((first_label + i) % 10));
    for (int c = 0; c < 3; ++c) {
      for (int p = 0; p < 1024; ++p) s.push_back(static_cast<char>((i + c * 50 + p) % 256));
    }
  }
  return s;
}

void WriteCifarDataset(const fs::path& dir) {
  fs::create_directories(dir);
  for (int b = 1; b <= 5; ++b) {
    WriteFile((dir / ("data_batch_" + std::to_string(b) + ".bin")).string(), CifarBatch(20, b),
              false);
  }
  WriteFile((dir / "test_batch.bin").string(), CifarBatch(30), false);
}

// --- IDX -----------------------------------------------------------------------------------

TEST(Idx, ReadsGzipAndRawFilesAlike) {
  TempDir dir;
  WriteFile(dir.file("a.gz"), IdxImages(3, 4, 5), true);
  WriteFile(dir.file("a.raw"), IdxImages(3, 4, 5), false);
  for (const char* name : {"a.gz", "a.raw"}) {
    absl::StatusOr<ImageSet> set = ReadIdxImages(dir.file(name));
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(set->height, 4);
    EXPECT_EQ(set->width, 5);
    EXPECT_EQ(set->channels, 1);
    ASSERT_EQ(set->pixels.size(), 60u);
    EXPECT_EQ(set->pixels[20 + 3 * 5 + 2], (1 * 7 + 17) % 256);  // image 1, y 3, x 2
  }
}

TEST(Idx, ReadsImagesWithLabels) {
  TempDir dir;
  WriteFile(dir.file("img.gz"), IdxImages(4, 28, 28), true);
  WriteFile(dir.file("lab.gz"), IdxLabels({3, 1, 4, 1}), true);
  absl::StatusOr<ImageSet> set = ReadIdxPair(dir.file("img.gz"), dir.file("lab.gz"), 10);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 4);
  EXPECT_EQ(set->labels, (std::vector<int32_t>{3, 1, 4, 1}));
  EXPECT_EQ(set->image(2)[0], 14);
}

TEST(Idx, MissingFileIsNotFoundNamingTheFile) {
  absl::StatusOr<ImageSet> set = ReadIdxImages("/nonexistent/train-images-idx3-ubyte.gz");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(), HasSubstr("/nonexistent/train-images-idx3-ubyte.gz"));
}

TEST(Idx, WrongMagicNumberIsAnError) {
  TempDir dir;
  WriteFile(dir.file("img"), IdxImages(2, 28, 28, 0x00000801), false);
  WriteFile(dir.file("lab"), IdxLabels({1, 2}, 0x00000803), false);
  absl::StatusOr<ImageSet> images = ReadIdxImages(dir.file("img"));
  ASSERT_FALSE(images.ok());
  EXPECT_THAT(images.status().message(), HasSubstr(dir.file("img")));
  EXPECT_THAT(images.status().message(), HasSubstr("magic"));
  absl::StatusOr<std::vector<int32_t>> labels = ReadIdxLabels(dir.file("lab"));
  ASSERT_FALSE(labels.ok());
  EXPECT_THAT(labels.status().message(), HasSubstr(dir.file("lab")));
  EXPECT_THAT(labels.status().message(), HasSubstr("magic"));
}

TEST(Idx, TruncatedFilesAreErrors) {
  TempDir dir;
  const std::string full = IdxImages(5, 28, 28);
  // Raw file cut in the pixel data, and in the header.
  WriteFile(dir.file("cut"), full.substr(0, full.size() - 100), false);
  WriteFile(dir.file("header"), full.substr(0, 10), false);
  for (const char* name : {"cut", "header"}) {
    absl::StatusOr<ImageSet> set = ReadIdxImages(dir.file(name));
    ASSERT_FALSE(set.ok()) << name;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss) << set.status();
    EXPECT_THAT(set.status().message(), HasSubstr(dir.file(name)));
    EXPECT_THAT(set.status().message(), HasSubstr("truncated"));
  }
  // A gzip stream cut in the middle.
  WriteFile(dir.file("whole.gz"), full, true);
  std::ifstream in(dir.file("whole.gz"), std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  WriteFile(dir.file("cut.gz"), gz.substr(0, gz.size() / 2), false);
  absl::StatusOr<ImageSet> set = ReadIdxImages(dir.file("cut.gz"));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kDataLoss) << set.status();
  EXPECT_THAT(set.status().message(), HasSubstr(dir.file("cut.gz")));
  // Truncated labels.
  const std::string labels = IdxLabels(CyclicLabels(30));
  WriteFile(dir.file("labels"), labels.substr(0, 20), false);
  absl::StatusOr<std::vector<int32_t>> l = ReadIdxLabels(dir.file("labels"));
  ASSERT_FALSE(l.ok());
  EXPECT_THAT(l.status().message(), HasSubstr("truncated"));
}

TEST(Idx, ImageCountMismatchNamesBothFiles) {
  TempDir dir;
  WriteFile(dir.file("img"), IdxImages(5, 28, 28), false);
  WriteFile(dir.file("lab"), IdxLabels(CyclicLabels(4)), false);
  absl::StatusOr<ImageSet> set = ReadIdxPair(dir.file("img"), dir.file("lab"), 10);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr(dir.file("img")));
  EXPECT_THAT(set.status().message(), HasSubstr(dir.file("lab")));
  EXPECT_THAT(set.status().message(), HasSubstr("5 images"));
}

TEST(Idx, LabelOutOfRangeIsAnError) {
  TempDir dir;
  WriteFile(dir.file("img"), IdxImages(3, 28, 28), false);
  WriteFile(dir.file("lab"), IdxLabels({1, 10, 2}), false);
  absl::StatusOr<ImageSet> set = ReadIdxPair(dir.file("img"), dir.file("lab"), 10);
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr(dir.file("lab")));
  EXPECT_THAT(set.status().message(), HasSubstr("label 10 of example 1"));
}

// --- CIFAR-10 ------------------------------------------------------------------------------

TEST(Cifar, ReadsRecordsAsNhwc) {
  TempDir dir;
  WriteFile(dir.file("b.bin"), CifarBatch(3, 4), false);
  absl::StatusOr<ImageSet> set = ReadCifarBatch(dir.file("b.bin"));
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 3);
  EXPECT_EQ(set->labels, (std::vector<int32_t>{4, 5, 6}));
  // Image 2, pixel p = 33 (y 1, x 1): planes hold (i + c * 50 + p) % 256.
  const uint8_t* px = set->image(2) + 33 * 3;
  EXPECT_EQ(px[0], 35);
  EXPECT_EQ(px[1], 85);
  EXPECT_EQ(px[2], 135);
}

TEST(Cifar, BadBatchesAreErrorsNamingTheFile) {
  TempDir dir;
  const std::string batch = CifarBatch(4);
  WriteFile(dir.file("cut.bin"), batch.substr(0, batch.size() - 7), false);
  WriteFile(dir.file("empty.bin"), "", false);
  std::string bad_label = CifarBatch(2);
  bad_label[kCifarRecordBytes] = 12;  // second record's label
  WriteFile(dir.file("label.bin"), bad_label, false);
  for (const char* name : {"cut.bin", "empty.bin", "label.bin", "missing.bin"}) {
    absl::StatusOr<ImageSet> set = ReadCifarBatch(dir.file(name));
    ASSERT_FALSE(set.ok()) << name;
    EXPECT_THAT(set.status().message(), HasSubstr(dir.file(name)));
  }
  EXPECT_THAT(ReadCifarBatch(dir.file("cut.bin")).status().message(), HasSubstr("truncated"));
  EXPECT_THAT(ReadCifarBatch(dir.file("label.bin")).status().message(),
              HasSubstr("label 12 of record 1"));
  EXPECT_EQ(ReadCifarBatch(dir.file("missing.bin")).status().code(), absl::StatusCode::kNotFound);
}

// --- LoadDataset ---------------------------------------------------------------------------

v1::DatasetSpec Spec(v1::DatasetName name, const std::string& dir) {
  v1::DatasetSpec spec;
  spec.set_name(name);
  spec.set_data_dir(dir);
  return spec;
}

TEST(LoadDataset, MnistFromGzipAndRawFolders) {
  for (bool gzip : {true, false}) {
    TempDir dir;
    WriteIdxDataset(dir, gzip);
    absl::StatusOr<Dataset> ds = LoadDataset(Spec(v1::DATASET_NAME_MNIST, dir.path()), 0);
    ASSERT_TRUE(ds.ok()) << ds.status();
    EXPECT_EQ(ds->num_classes, 10);
    EXPECT_EQ(ds->train.size(), 180);  // 10 % of 200 held out
    EXPECT_EQ(ds->validation.size(), 20);
    EXPECT_EQ(ds->test.size(), 50);
    EXPECT_EQ(ds->shape().height, 28);
    EXPECT_TRUE(ds->preprocessing.mean.empty());
    // Stratified: two validation images per class.
    for (int64_t c : ClassCounts(ds->validation, 10)) EXPECT_EQ(c, 2);
  }
}

TEST(LoadDataset, FashionMnistUsesItsDefaultFolderWhenNoneIsGiven) {
  v1::DatasetSpec spec;
  spec.set_name(v1::DATASET_NAME_FASHION_MNIST);
  spec.set_max_train_examples(100);
  spec.set_max_test_examples(10);
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 0);
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->data_dir, "/usr/share/datasets/fashion-mnist");
  EXPECT_EQ(ds->train.size(), 100);
  EXPECT_EQ(ds->validation.size(), 6000);
  EXPECT_EQ(ds->test.size(), 10);
}

TEST(LoadDataset, SubsetsAndBinaryVariant) {
  TempDir dir;
  WriteIdxDataset(dir, true);
  v1::DatasetSpec spec = Spec(v1::DATASET_NAME_MNIST, dir.path());
  spec.set_binary(true);
  spec.set_validation_fraction(0.25);
  spec.set_max_train_examples(60);
  spec.set_max_test_examples(7);
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 3);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->num_classes, 2);
  EXPECT_EQ(ds->validation.size(), 50);
  EXPECT_EQ(ds->train.size(), 60);
  EXPECT_EQ(ds->test.size(), 7);
  // Test labels were 0..6: digits below 5 map to 1.
  EXPECT_EQ(ds->test.labels, (std::vector<int32_t>{1, 1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(ClassCounts(ds->validation, 2), (std::vector<int64_t>{25, 25}));
}

TEST(LoadDataset, ErrorsNameTheMissingOrBadFile) {
  TempDir dir;
  WriteIdxDataset(dir, true);
  fs::remove(dir.file("t10k-labels-idx1-ubyte.gz"));
  absl::StatusOr<Dataset> ds = LoadDataset(Spec(v1::DATASET_NAME_MNIST, dir.path()), 0);
  ASSERT_FALSE(ds.ok());
  EXPECT_EQ(ds.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ds.status().message(), HasSubstr("t10k-labels-idx1-ubyte.gz"));
  // Wrong image size for the dataset.
  WriteFile(dir.file("t10k-labels-idx1-ubyte.gz"), IdxLabels(CyclicLabels(50)), true);
  WriteFile(dir.file("t10k-images-idx3-ubyte.gz"), IdxImages(50, 27, 28), true);
  ds = LoadDataset(Spec(v1::DATASET_NAME_MNIST, dir.path()), 0);
  ASSERT_FALSE(ds.ok());
  EXPECT_THAT(ds.status().message(), HasSubstr("t10k-images-idx3-ubyte.gz"));
  EXPECT_THAT(ds.status().message(), HasSubstr("27x28x1"));
  // Not a folder.
  ds = LoadDataset(Spec(v1::DATASET_NAME_MNIST, dir.file("nope")), 0);
  ASSERT_FALSE(ds.ok());
  EXPECT_THAT(ds.status().message(), HasSubstr(dir.file("nope")));
}

TEST(LoadDataset, Cifar10WithNormalisation) {
  TempDir dir;
  WriteCifarDataset(dir.path() / "cifar-10-batches-bin");
  v1::DatasetSpec spec = Spec(v1::DATASET_NAME_CIFAR10, dir.path());
  absl::StatusOr<Dataset> ds = LoadDataset(spec, 0);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->train.size() + ds->validation.size(), 100);
  EXPECT_EQ(ds->validation.size(), 10);
  EXPECT_EQ(ds->test.size(), 30);
  EXPECT_EQ(ds->shape().channels, 3);
  ASSERT_EQ(ds->preprocessing.mean.size(), 3u);
  EXPECT_FLOAT_EQ(ds->preprocessing.mean[0], 0.4914f);
  EXPECT_FLOAT_EQ(ds->preprocessing.stddev[2], 0.2010f);
  spec.set_binary(true);
  ds = LoadDataset(spec, 0);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(ds->num_classes, 2);
  EXPECT_EQ(ds->test.labels[4], 1);  // deer
  EXPECT_EQ(ds->test.labels[5], 0);  // dog
  // A truncated batch names its file.
  WriteFile((dir.path() / "cifar-10-batches-bin" / "data_batch_3.bin").string(),
            CifarBatch(20).substr(0, 5000), false);
  ds = LoadDataset(spec, 0);
  ASSERT_FALSE(ds.ok());
  EXPECT_THAT(ds.status().message(), HasSubstr("data_batch_3.bin"));
}

// Their loaders are tested in audio_image_data_test.cc; an empty folder is
// NOT_FOUND naming it.
TEST(LoadDataset, ImageAndAudioDatasetsNeedTheirFiles) {
  TempDir dir;
  for (v1::DatasetName name : {v1::DATASET_NAME_CHARS74K, v1::DATASET_NAME_SPEECH_COMMANDS,
                               v1::DATASET_NAME_VISUAL_WAKE_WORDS}) {
    absl::StatusOr<Dataset> ds = LoadDataset(Spec(name, dir.path()), 0);
    ASSERT_FALSE(ds.ok());
    EXPECT_EQ(ds.status().code(), absl::StatusCode::kNotFound) << ds.status();
    EXPECT_THAT(ds.status().message(), HasSubstr(dir.path().string()));
  }
}

// --- Split ---------------------------------------------------------------------------------

ImageSet Labelled(const std::vector<int>& labels) {
  ImageSet set;
  set.height = set.width = 2;
  set.channels = 1;
  for (size_t i = 0; i < labels.size(); ++i) {
    set.labels.push_back(labels[i]);
    // Pixels 0 and 1 encode the original index.
    set.pixels.push_back(static_cast<uint8_t>(i % 256));
    set.pixels.push_back(static_cast<uint8_t>(i / 256));
    set.pixels.push_back(0);
    set.pixels.push_back(0);
  }
  return set;
}

TEST(StratifiedSplit, KeepsClassSharesAndIsSeeded) {
  // 300 of class 0, 100 of class 1, 600 of class 2, interleaved.
  std::vector<int> labels;
  for (int i = 0; i < 1000; ++i) labels.push_back(i % 10 < 3 ? 0 : (i % 10 < 4 ? 1 : 2));
  const ImageSet all = Labelled(labels);
  auto split = StratifiedSplit(all, 0.1, 42);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->first.size(), 900);
  EXPECT_EQ(ClassCounts(split->second, 3), (std::vector<int64_t>{30, 10, 60}));
  // Images travel with their labels, and the order is preserved.
  auto original = [&](int64_t i) {
    return split->second.image(i)[0] + 256 * split->second.image(i)[1];
  };
  for (int64_t i = 0; i < split->second.size(); ++i) {
    EXPECT_EQ(split->second.labels[i], labels[original(i)]);
    if (i > 0) {
      EXPECT_GT(original(i), original(i - 1));
    }
  }
  auto same = StratifiedSplit(all, 0.1, 42);
  EXPECT_EQ(same->second.pixels, split->second.pixels);
  auto other = StratifiedSplit(all, 0.1, 43);
  EXPECT_NE(other->second.pixels, split->second.pixels);
  EXPECT_FALSE(StratifiedSplit(all, 1.0, 0).ok());
  auto none = StratifiedSplit(all, 0.0, 0);
  EXPECT_EQ(none->first.size(), 1000);
  EXPECT_EQ(none->second.size(), 0);
}

// --- Augmentation --------------------------------------------------------------------------

std::vector<uint8_t> Ramp(int h, int w, int c) {
  std::vector<uint8_t> v(h * w * c);
  std::iota(v.begin(), v.end(), 1);
  return v;
}

TEST(Augment, FlipMirrorsEachRow) {
  std::vector<uint8_t> img = Ramp(2, 3, 2);
  FlipHorizontally(2, 3, 2, img.data());
  EXPECT_EQ(img, (std::vector<uint8_t>{5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8}));
}

TEST(Augment, ShiftUsesSymmetricPadding) {
  // One row 1 2 3 4 5 shifted by dx = -2 reads columns -2..2: 2 1 1 2 3.
  std::vector<uint8_t> row = {1, 2, 3, 4, 5};
  std::vector<uint8_t> out(5);
  ShiftMirrored(1, 5, 1, 0, -2, row.data(), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{2, 1, 1, 2, 3}));
  ShiftMirrored(1, 5, 1, 0, 2, row.data(), out.data());
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 4, 5, 5, 4}));
  // Vertical shift of a 3x1 column.
  std::vector<uint8_t> col = {7, 8, 9};
  std::vector<uint8_t> out3(3);
  ShiftMirrored(3, 1, 1, 1, 0, col.data(), out3.data());
  EXPECT_EQ(out3, (std::vector<uint8_t>{8, 9, 9}));
}

TEST(Augment, RotationByAQuarterTurnAndByZero) {
  std::vector<uint8_t> img = Ramp(3, 3, 1);  // 1..9
  std::vector<uint8_t> out(9);
  RotateNearest(3, 3, 1, 0.0, img.data(), out.data());
  EXPECT_EQ(out, img);
  RotateNearest(3, 3, 1, std::numbers::pi / 2, img.data(), out.data());
  // Counter-clockwise quarter turn: the right column becomes the top row.
  EXPECT_EQ(out, (std::vector<uint8_t>{3, 6, 9, 2, 5, 8, 1, 4, 7}));
  // A small rotation of a 4x4 image moves corners out: zero fill.
  std::vector<uint8_t> big(16, 200), rotated(16);
  RotateNearest(4, 4, 1, 0.6, big.data(), rotated.data());
  EXPECT_EQ(rotated[0], 0);
  EXPECT_EQ(rotated[5], 200);
}

TEST(Augment, BatchAugmentationIsReproducibleFromTheSeed) {
  const Augmentation a{.horizontal_flip = true,
                       .rotation_probability = 0.3,
                       .max_rotation_radians = 0.2,
                       .max_shift_pixels = 2};
  std::vector<uint8_t> batch;
  for (int i = 0; i < 16; ++i) {
    std::vector<uint8_t> img = Ramp(28, 28, 1);
    batch.insert(batch.end(), img.begin(), img.end());
  }
  std::vector<uint8_t> b1 = batch, b2 = batch, b3 = batch, scratch;
  Rng r1(9), r2(9), r3(10);
  AugmentBatch(a, 28, 28, 1, 16, b1.data(), r1, scratch);
  AugmentBatch(a, 28, 28, 1, 16, b2.data(), r2, scratch);
  AugmentBatch(a, 28, 28, 1, 16, b3.data(), r3, scratch);
  EXPECT_EQ(b1, b2);
  EXPECT_NE(b1, b3);
  EXPECT_NE(b1, batch);
  // Flip and shift only permute pixels: the multiset of values survives
  // unless a rotation zero-filled something, so at least some images differ.
  int changed = 0;
  for (int i = 0; i < 16; ++i) {
    changed += !std::equal(b1.begin() + i * 784, b1.begin() + (i + 1) * 784, batch.begin());
  }
  EXPECT_GT(changed, 8);
  // Disabled augmentation leaves the batch alone.
  std::vector<uint8_t> b4 = batch;
  AugmentBatch(Augmentation{}, 28, 28, 1, 16, b4.data(), r1, scratch);
  EXPECT_EQ(b4, batch);
}

TEST(Augment, FromSpec) {
  v1::AugmentationSpec spec;
  spec.set_horizontal_flip(true);
  spec.set_max_shift_pixels(4);
  Augmentation a = AugmentationFromSpec(spec);
  EXPECT_TRUE(a.horizontal_flip);
  EXPECT_EQ(a.max_shift_pixels, 4);
  spec.set_enabled(false);
  EXPECT_FALSE(AugmentationFromSpec(spec).active());
}

}  // namespace
}  // namespace unas::worker
