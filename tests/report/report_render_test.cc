// The report rendered by a real browser: headless Chromium takes a
// screenshot (decoded here and checked for the plots' colours), dumps the
// DOM (checked for the plots and the Pareto table) and logs the console
// (which must stay silent: the page has no scripts and fetches nothing).
// Skips where no Chromium is installed.
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/report.h"
#include "tests/report/synthetic_job.h"
#include "tests/util/find_chromium.h"

namespace unas::report {
namespace {

using ::testing::HasSubstr;

constexpr int kWidth = 1280;
constexpr int kHeight = 3000;
constexpr int kBrowserTimeoutSeconds = 90;

using ::unas::testing::FindChromium;

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

struct BrowserRun {
  int exit_code = -1;
  std::string stdout_text;
  std::string log;  // stderr, with --enable-logging=stderr
};

// Runs headless Chromium on `url` with `mode_flags`, bounded in time by
// timeout(1); a private profile folder keeps $HOME untouched.
BrowserRun RunChromium(const std::string& chromium, const std::filesystem::path& work,
                       const std::string& mode_flags, const std::string& url) {
  std::filesystem::create_directories(work);
  const std::filesystem::path out = work / "stdout.txt";
  const std::filesystem::path err = work / "stderr.txt";
  const std::string command = absl::StrCat(
      "timeout -k 5 ", kBrowserTimeoutSeconds, " ", Quote(chromium),
      " --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run"
      " --disable-extensions --disable-background-networking --mute-audio"
      " --user-data-dir=",
      Quote((work / "profile").string()), " --enable-logging=stderr --v=0 --window-size=", kWidth,
      ",", kHeight, " ", mode_flags, " ", Quote(url), " >", Quote(out.string()), " 2>",
      Quote(err.string()));
  BrowserRun run;
  const int status = std::system(command.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.stdout_text = ReadFile(out);
  run.log = ReadFile(err);
  return run;
}

// Console messages Chromium logged ("...:CONSOLE:12] "text", source: ...").
std::vector<std::string> ConsoleLines(const std::string& log) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (line.find(":CONSOLE") != absl::string_view::npos) lines.emplace_back(line);
  }
  return lines;
}

// --- A minimal PNG decoder (8-bit RGB/RGBA, not interlaced: what Chromium
// writes), enough to look at the pixels of the screenshot. ---

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // 3 bytes per pixel
};

uint32_t BigEndian32(const std::string& s, size_t pos) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[pos])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[pos + 3]));
}

int Paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a);
  const int pb = std::abs(p - b);
  const int pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

std::optional<Image> DecodePng(const std::string& png, std::string* error) {
  if (png.size() < 33 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    *error = "not a PNG file";
    return std::nullopt;
  }
  Image image;
  int channels = 0;
  std::string idat;
  for (size_t pos = 8; pos + 12 <= png.size();) {
    const uint32_t length = BigEndian32(png, pos);
    const std::string type = png.substr(pos + 4, 4);
    if (pos + 12 + length > png.size()) break;
    const std::string data = png.substr(pos + 8, length);
    if (type == "IHDR") {
      image.width = static_cast<int>(BigEndian32(data, 0));
      image.height = static_cast<int>(BigEndian32(data, 4));
      const int depth = static_cast<uint8_t>(data[8]);
      const int color = static_cast<uint8_t>(data[9]);
      const int interlace = static_cast<uint8_t>(data[12]);
      channels = color == 2 ? 3 : (color == 6 ? 4 : 0);
      if (depth != 8 || channels == 0 || interlace != 0) {
        *error = absl::StrCat("unsupported PNG: depth ", depth, ", colour type ", color);
        return std::nullopt;
      }
    } else if (type == "IDAT") {
      idat += data;
    } else if (type == "IEND") {
      break;
    }
    pos += 12 + length;
  }
  if (channels == 0) {
    *error = "no IHDR";
    return std::nullopt;
  }
  const size_t stride = static_cast<size_t>(image.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) !=
          Z_OK ||
      raw_size != raw.size()) {
    *error = "corrupt image data";
    return std::nullopt;
  }
  std::vector<uint8_t> pixels(stride * image.height);
  for (int y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* row = &pixels[y * stride];
    const uint8_t* up = y > 0 ? &pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= static_cast<size_t>(channels) ? row[x - channels] : 0;
      const int b = up != nullptr ? up[x] : 0;
      const int c = (up != nullptr && x >= static_cast<size_t>(channels)) ? up[x - channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4:
          predictor = Paeth(a, b, c);
          break;
        default:
          *error = "bad PNG filter";
          return std::nullopt;
      }
      row[x] = static_cast<uint8_t>(in[x] + predictor);
    }
  }
  image.rgb.resize(static_cast<size_t>(image.width) * image.height * 3);
  for (size_t i = 0; i < static_cast<size_t>(image.width) * image.height; ++i) {
    for (int k = 0; k < 3; ++k) image.rgb[i * 3 + k] = pixels[i * channels + k];
  }
  return image;
}

// Pixels within `tolerance` (per channel) of a colour.
int CountColour(const Image& image, int r, int g, int b, int tolerance = 24) {
  int n = 0;
  for (size_t i = 0; i + 2 < image.rgb.size(); i += 3) {
    if (std::abs(image.rgb[i] - r) <= tolerance && std::abs(image.rgb[i + 1] - g) <= tolerance &&
        std::abs(image.rgb[i + 2] - b) <= tolerance) {
      ++n;
    }
  }
  return n;
}

class ReportRenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = FindChromium();
    if (!chromium_) {
      GTEST_SKIP() << "chromium is not installed (scripts/install-deps installs Debian's); "
                      "the report was not rendered";
    }
    work_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("unas_report_render_",
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(work_);
    std::filesystem::create_directories(work_);
  }

  // The browser profiles are large; the reports and screenshots stay for
  // a look after the run.
  void TearDown() override {
    if (work_.empty()) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(work_, ec)) {
      std::filesystem::remove_all(entry.path() / "profile", ec);
    }
  }

  // Renders `data` and returns the DOM; the screenshot goes to work_/NAME.png.
  std::string RenderAndCheck(const ReportData& data, const std::string& name) {
    const std::filesystem::path report = work_ / name;
    EXPECT_TRUE(WriteReport(data, report.string()).ok());
    const std::string url = absl::StrCat("file://", (report / "index.html").string());
    const std::filesystem::path png = work_ / absl::StrCat(name, ".png");
    const BrowserRun shot = RunChromium(*chromium_, work_ / absl::StrCat(name, "-shot"),
                                        absl::StrCat("--screenshot=", Quote(png.string())), url);
    EXPECT_EQ(shot.exit_code, 0) << shot.log;
    EXPECT_THAT(ConsoleLines(shot.log), ::testing::IsEmpty()) << shot.log;
    EXPECT_TRUE(std::filesystem::exists(png));
    std::cout << "screenshot: " << png.string() << "\n";
    const BrowserRun dom =
        RunChromium(*chromium_, work_ / absl::StrCat(name, "-dom"), "--dump-dom", url);
    EXPECT_EQ(dom.exit_code, 0) << dom.log;
    EXPECT_THAT(ConsoleLines(dom.log), ::testing::IsEmpty()) << dom.log;
    for (const char* id : {"plot-pmu", "plot-size", "plot-macs", "plot-progress"}) {
      EXPECT_THAT(dom.stdout_text, HasSubstr(absl::StrCat("<svg id=\"", id, "\""))) << id;
    }
    return dom.stdout_text;
  }

  std::optional<std::string> chromium_;
  std::filesystem::path work_;
};

TEST_F(ReportRenderTest, ConsoleCheckDetectsErrors) {
  // Positive control: the console check below is live.
  const std::filesystem::path page = work_ / "noisy.html";
  std::ofstream(page) << "<!DOCTYPE html><html><body><p>x</p>"
                         "<script>console.error('report-test-marker');</script></body></html>";
  const BrowserRun run = RunChromium(*chromium_, work_ / "noisy", "--dump-dom",
                                     absl::StrCat("file://", page.string()));
  ASSERT_EQ(run.exit_code, 0) << run.log;
  const std::vector<std::string> console = ConsoleLines(run.log);
  ASSERT_EQ(console.size(), 1u) << run.log;
  EXPECT_THAT(console[0], HasSubstr("report-test-marker"));
}

TEST_F(ReportRenderTest, ScreenshotShowsThePlotsWithoutConsoleErrors) {
  const ReportData data = testing::MakeSyntheticJob({.candidates = 80});
  const std::filesystem::path report = work_ / "report";
  ASSERT_TRUE(WriteReport(data, report.string()).ok());
  const std::string url = absl::StrCat("file://", (report / "index.html").string());

  const std::filesystem::path png = work_ / "report.png";
  const BrowserRun shot = RunChromium(*chromium_, work_ / "shot",
                                      absl::StrCat("--screenshot=", Quote(png.string())), url);
  ASSERT_EQ(shot.exit_code, 0) << "chromium failed or timed out:\n" << shot.log;
  EXPECT_THAT(ConsoleLines(shot.log), ::testing::IsEmpty()) << shot.log;
  ASSERT_TRUE(std::filesystem::exists(png)) << shot.log;
  std::cout << "screenshot: " << png.string() << "\n";

  const std::string bytes = ReadFile(png);
  EXPECT_GT(bytes.size(), 50000u);
  std::string error;
  const std::optional<Image> image = DecodePng(bytes, &error);
  ASSERT_TRUE(image.has_value()) << error;
  EXPECT_EQ(image->width, kWidth);
  EXPECT_EQ(image->height, kHeight);
  // Not a blank page: many colours, and the marks of the plots are there.
  std::set<uint32_t> colours;
  for (size_t i = 0; i + 2 < image->rgb.size(); i += 3) {
    colours.insert((image->rgb[i] << 16) | (image->rgb[i + 1] << 8) | image->rgb[i + 2]);
  }
  EXPECT_GT(colours.size(), 200u);
  EXPECT_GT(CountColour(*image, 0xe8, 0x59, 0x0c), 300) << "Pareto points (orange)";
  EXPECT_GT(CountColour(*image, 0xc9, 0x2a, 0x2a), 300) << "bound lines (red)";
  EXPECT_GT(CountColour(*image, 0x0b, 0x72, 0x85), 150) << "best-error step line (teal)";
  EXPECT_GT(CountColour(*image, 0x9a, 0xa3, 0xab, 16), 150) << "infeasible points (grey rings)";
}

TEST_F(ReportRenderTest, DomHasThePlotsAndTheParetoTable) {
  ReportData data = testing::MakeSyntheticJob({.candidates = 80});
  data.job.mutable_spec()->set_name("<script>console.error('injected')</script>");
  const std::filesystem::path report = work_ / "report";
  ASSERT_TRUE(WriteReport(data, report.string()).ok());
  const BrowserRun dom = RunChromium(*chromium_, work_ / "dom", "--dump-dom",
                                     absl::StrCat("file://", (report / "index.html").string()));
  ASSERT_EQ(dom.exit_code, 0) << dom.log;
  // An escaped name stays text: nothing ran.
  EXPECT_THAT(ConsoleLines(dom.log), ::testing::IsEmpty()) << dom.log;
  const std::string& html = dom.stdout_text;
  for (const char* id : {"plot-pmu", "plot-size", "plot-macs", "plot-progress"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("<svg id=\"", id, "\""))) << id;
  }
  int rows = 0;
  for (size_t pos = html.find("<tr class=\"pareto-row"); pos != std::string::npos;
       pos = html.find("<tr class=\"pareto-row", pos + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, static_cast<int>(data.pareto.size()));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;console.error"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<script>console.error('injected')")));
}

TEST_F(ReportRenderTest, EdgeCasesRenderCleanly) {
  // No candidates yet.
  const std::string empty = RenderAndCheck(testing::MakeSyntheticJob({.candidates = 0}), "empty");
  EXPECT_THAT(empty, HasSubstr("No evaluated candidates yet"));
  // Nothing feasible, zeros on the log axes, unstructured pruning.
  ReportData data = testing::MakeSyntheticJob({.candidates = 25});
  data.job.mutable_spec()->mutable_bounds()->set_error(0.01);
  data.job.mutable_spec()->mutable_training()->mutable_pruning()->set_structured(false);
  data.history[3].mutable_metrics()->set_macs(0);
  data.history[4].mutable_metrics()->set_model_size_bytes(0);
  testing::RecomputeFeasibilityAndPareto(data);
  const std::string infeasible = RenderAndCheck(data, "infeasible");
  EXPECT_THAT(infeasible, HasSubstr("No feasible candidate yet"));
  EXPECT_THAT(infeasible, HasSubstr("drawn on the axis floor"));
  // One candidate, no bounds at all.
  const std::string single =
      RenderAndCheck(testing::MakeSyntheticJob({.candidates = 1, .bounded = false}), "single");
  EXPECT_THAT(single, HasSubstr("class=\"pt pt-pareto\""));
}

}  // namespace
}  // namespace unas::report
