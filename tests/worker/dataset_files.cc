#include "tests/worker/dataset_files.h"

#include <png.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "worker/data/speech_commands.h"
#include "worker/data/wav.h"

#ifdef UNAS_HAVE_JPEG
#include <jpeglib.h>
#endif

namespace unas::worker::testing {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& tag) {
  static int counter = 0;
  path_ = fs::temp_directory_path() / absl::StrCat("unas_", tag, "_", ::getpid(), "_", counter++);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

// The libpng part: no C++ objects with destructors live in this frame.
bool WritePngFile(std::FILE* file, int width, int height, int color_type, int bit_depth,
                  const uint8_t* rows, size_t row_bytes, const uint8_t* palette, int entries) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_color colours[256];
    for (int i = 0; i < entries; ++i) {
      colours[i] = png_color{palette[3 * i], palette[3 * i + 1], palette[3 * i + 2]};
    }
    png_set_PLTE(png, info, colours, entries);
  }
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) {
    png_write_row(png, const_cast<png_bytep>(rows + static_cast<size_t>(y) * row_bytes));
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

int Channels(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
    case PNG_COLOR_TYPE_PALETTE:
      return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return 2;
    case PNG_COLOR_TYPE_RGB:
      return 3;
    default:
      return 4;
  }
}

}  // namespace

void WritePng(const std::string& path, int width, int height, int color_type, int bit_depth,
              const std::vector<uint8_t>& rows, const std::vector<uint8_t>& palette) {
  const size_t row_bytes = (static_cast<size_t>(width) * Channels(color_type) * bit_depth + 7) / 8;
  ASSERT_EQ(rows.size(), row_bytes * height) << path;
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  const bool ok = WritePngFile(file, width, height, color_type, bit_depth, rows.data(), row_bytes,
                               palette.data(), static_cast<int>(palette.size() / 3));
  std::fclose(file);
  ASSERT_TRUE(ok) << path;
}

void WriteRgbPng(const std::string& path, int width, int height,
                 const std::vector<uint8_t>& pixels) {
  WritePng(path, width, height, PNG_COLOR_TYPE_RGB, 8, pixels);
}

void WriteRgbJpeg(const std::string& path, int width, int height,
                  const std::vector<uint8_t>& pixels) {
#ifdef UNAS_HAVE_JPEG
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  jpeg_compress_struct cinfo;
  jpeg_error_mgr error;
  cinfo.err = jpeg_std_error(&error);  // errors exit: fine for test input
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + size_t{cinfo.next_scanline} * width * 3);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(file);
#else
  (void)width, (void)height, (void)pixels;
  FAIL() << path << ": built without libjpeg";
#endif
}

void WriteWav(const std::string& path, const std::vector<float>& samples, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(file, nullptr) << path << ": " << sf_strerror(nullptr);
  EXPECT_EQ(sf_writef_float(file, samples.data(), static_cast<sf_count_t>(samples.size())),
            static_cast<sf_count_t>(samples.size()));
  sf_close(file);
}

std::vector<float> SpokenWord(const std::string& word) {
  TempDir dir("espeak");
  const std::string wav = dir.file("word.wav");
  const std::string command = absl::StrCat("espeak-ng -w '", wav, "' '", word, "' 2>&1");
  EXPECT_EQ(std::system(command.c_str()), 0) << command << " (is espeak-ng installed?)";
  SF_INFO info{};
  SNDFILE* file = sf_open(wav.c_str(), SFM_READ, &info);
  EXPECT_NE(file, nullptr) << wav;
  if (file == nullptr) return {};
  std::vector<float> in(info.frames * info.channels);
  sf_readf_float(file, in.data(), info.frames);
  sf_close(file);
  // Mono and linear resampling to 16 kHz: good enough for test speech.
  const double step = static_cast<double>(info.samplerate) / kSpeechSampleRate;
  std::vector<float> out;
  for (double t = 0; t + 1 < static_cast<double>(info.frames); t += step) {
    const int64_t i = static_cast<int64_t>(t);
    const double f = t - i;
    out.push_back(
        static_cast<float>(in[i * info.channels] * (1 - f) + in[(i + 1) * info.channels] * f));
  }
  return out;
}

void MakeChars74kTree(const fs::path& root, int per_class) {
  const fs::path bmp = root / "English/Img/GoodImg/Bmp";
  for (int c = 0; c < 62; ++c) {
    const fs::path folder = bmp / absl::StrFormat("Sample%03d", c + 1);
    fs::create_directories(folder);
    for (int i = 0; i < per_class; ++i) {
      const std::string path =
          (folder / absl::StrFormat("img%03d-%05d.png", c + 1, i + 1)).string();
      // Sizes vary; every format decodes to red = 4 * class.
      const int w = 10 + (i % 3) * 3, h = 12 + (c % 4) * 2;
      const uint8_t r = static_cast<uint8_t>(4 * c);
      std::vector<uint8_t> rows;
      switch ((c + i) % 4) {
        case 0:
          for (int p = 0; p < w * h; ++p) rows.insert(rows.end(), {r, 100, 200});
          WritePng(path, w, h, PNG_COLOR_TYPE_RGB, 8, rows);
          break;
        case 1:
          rows.assign(w * h, r);
          WritePng(path, w, h, PNG_COLOR_TYPE_GRAY, 8, rows);
          break;
        case 2:
          for (int p = 0; p < w * h; ++p) rows.insert(rows.end(), {r, 100, 200, 77});
          WritePng(path, w, h, PNG_COLOR_TYPE_RGB_ALPHA, 8, rows);
          break;
        default:
          rows.assign(w * h, 1);
          WritePng(path, w, h, PNG_COLOR_TYPE_PALETTE, 8, rows, {0, 0, 0, r, 100, 200});
          break;
      }
    }
  }
}

std::vector<std::string> SpeakersFor(int split, int count) {
  std::vector<std::string> ids;
  for (uint32_t i = 0; static_cast<int>(ids.size()) < count; ++i) {
    const std::string id = absl::StrFormat("%08x", i * 2654435761u);
    const SpeechSplit s = SpeechHashSplit(id + "_nohash_0.wav");
    const int got = s == SpeechSplit::kTrain ? 0 : s == SpeechSplit::kValidation ? 1 : 2;
    if (got == split) ids.push_back(id);
  }
  return ids;
}

void MakeSpeechCommandsTree(const fs::path& root, const SpeechTree& tree) {
  std::vector<std::string> speakers = SpeakersFor(0, tree.train_speakers);
  for (const std::string& s : SpeakersFor(1, tree.validation_speakers)) speakers.push_back(s);
  for (const std::string& s : SpeakersFor(2, tree.test_speakers)) speakers.push_back(s);
  std::vector<std::string> words(kSpeechWords.begin(), kSpeechWords.end());
  words.insert(words.end(), tree.unknown_words.begin(), tree.unknown_words.end());
  std::mt19937 gen(7);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  for (const std::string& word : words) {
    fs::create_directories(root / word);
    const std::vector<float> spoken = SpokenWord(word);
    for (size_t k = 0; k < speakers.size(); ++k) {
      // "Speakers": another gain, a later start and a little noise.
      std::vector<float> clip(1200 * k, 0.0f);
      const float gain = 0.6f + 0.1f * static_cast<float>(k % 4);
      for (float v : spoken) clip.push_back(std::clamp(gain * v + noise(gen), -1.0f, 1.0f));
      WriteWav((root / word / (speakers[k] + "_nohash_0.wav")).string(), clip, kSpeechSampleRate);
    }
  }
  fs::create_directories(root / kBackgroundNoiseFolder);
  std::vector<float> white(24000), brown(32000);
  std::uniform_real_distribution<float> uniform(-0.5f, 0.5f);
  float level = 0;
  for (float& v : white) v = uniform(gen);
  for (float& v : brown) v = level = std::clamp(level + 0.05f * uniform(gen), -0.5f, 0.5f);
  WriteWav((root / kBackgroundNoiseFolder / "white_noise.wav").string(), white, kSpeechSampleRate);
  WriteWav((root / kBackgroundNoiseFolder / "brown_noise.wav").string(), brown, kSpeechSampleRate);
}

void MakeVwwTree(const fs::path& root, const std::vector<std::string>& splits, int per_class,
                 int side) {
  for (const std::string& split : splits) {
    for (int person = 0; person <= 1; ++person) {
      const fs::path folder = root / split / (person ? "person" : "no_person");
      fs::create_directories(folder);
      for (int i = 0; i < per_class; ++i) {
        const uint8_t v = static_cast<uint8_t>(person ? 200 + i % 50 : 20 + i % 50);
        std::vector<uint8_t> pixels(static_cast<size_t>(side) * side * 3, v);
        WriteRgbPng((folder / absl::StrFormat("%s_%04d.png", split, i)).string(), side, side,
                    pixels);
      }
    }
  }
}

}  // namespace unas::worker::testing
