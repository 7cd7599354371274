// Helpers of the report tests: reading what a report wrote, and parsing its
// CSV, JSON and SVG back.
#ifndef UNAS_TESTS_REPORT_REPORT_TEST_UTIL_H_
#define UNAS_TESTS_REPORT_REPORT_TEST_UTIL_H_

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "report/report.h"

namespace unas::report::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::filesystem::path FreshDir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / absl::StrCat("unas_report_test_", name);
  std::filesystem::remove_all(dir);
  return dir;
}

inline int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

// The <svg ...>...</svg> element with the given id.
inline std::string SvgById(const std::string& html, const std::string& id) {
  const size_t start = html.find(absl::StrCat("<svg id=\"", id, "\""));
  if (start == std::string::npos) return "";
  const size_t end = html.find("</svg>", start);
  return end == std::string::npos ? "" : html.substr(start, end + 6 - start);
}

// RFC 4180 parser: rows of fields, quotes and embedded newlines handled.
inline std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
    } else if (c == '\r') {
      continue;
    } else if (c == '\n') {
      row.push_back(field);
      field.clear();
      rows.push_back(row);
      row.clear();
    } else {
      field += c;
    }
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

inline int ColumnIndex(const std::vector<std::string>& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

inline google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct out;
  const auto status = google::protobuf::util::JsonStringToMessage(text, &out);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return out;
}

// No NaN or infinity leaked into coordinates or numbers.
inline void ExpectNoNonFinite(const std::string& text) {
  static const std::regex kBad(R"((^|[\s"=MHVL,(])-?(nan|inf)([\s",)]|$))", std::regex::icase);
  std::smatch match;
  EXPECT_FALSE(std::regex_search(text, match, kBad)) << "found '" << match.str() << "'";
}

inline int FeasibleCount(const ReportData& data) {
  int n = 0;
  for (const auto& c : data.history) n += c.feasible() ? 1 : 0;
  return n;
}

}  // namespace unas::report::testing

#endif  // UNAS_TESTS_REPORT_REPORT_TEST_UTIL_H_
