#include "report/format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace unas::report {
namespace {

// Three significant digits, trailing zeros dropped: 12.3, 16, 0.125 → 0.125.
std::string ThreeSignificant(double value) {
  const double magnitude = std::fabs(value);
  int decimals = 0;
  if (magnitude > 0 && magnitude < 100) {
    decimals = magnitude >= 10 ? 1 : (magnitude >= 1 ? 2 : 3);
  }
  std::string text = absl::StrFormat("%.*f", decimals, value);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

// Value and unit prefix, the value rounded to three significant digits and
// moved to the next prefix when rounding reaches 1000 (999.9k → 1M).
std::pair<std::string, absl::string_view> WithPrefix(double value) {
  static constexpr absl::string_view kPrefixes[] = {"", "k", "M", "G", "T", "P"};
  double scaled = value;
  size_t prefix = 0;
  while (std::fabs(scaled) >= 1000 && prefix + 1 < std::size(kPrefixes)) {
    scaled /= 1000;
    ++prefix;
  }
  std::string text = ThreeSignificant(scaled);
  if (prefix + 1 < std::size(kPrefixes) && std::fabs(std::strtod(text.c_str(), nullptr)) >= 1000) {
    scaled /= 1000;
    ++prefix;
    text = ThreeSignificant(scaled);
  }
  return {text, kPrefixes[prefix]};
}

}  // namespace

std::string EscapeHtml(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
        break;
    }
  }
  return out;
}

std::string CsvField(absl::string_view text) {
  const bool needs_quotes = text.find_first_of(",\"\r\n") != absl::string_view::npos ||
                            (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!needs_quotes) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string ShortestDouble(double value) {
  if (!std::isfinite(value)) return "";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string FormatBytes(double bytes) {
  if (!std::isfinite(bytes)) return "?";
  const auto [text, prefix] = WithPrefix(bytes);
  return absl::StrCat(text, " ", prefix, "B");
}

std::string FormatCount(double count) {
  if (!std::isfinite(count)) return "?";
  const auto [text, prefix] = WithPrefix(count);
  return absl::StrCat(text, prefix);
}

std::string FormatPercent(double fraction, int decimals) {
  if (!std::isfinite(fraction)) return "?";
  return absl::StrFormat("%.*f%%", decimals, fraction * 100);
}

std::string GroupThousands(int64_t value) {
  const bool negative = value < 0;
  // Via unsigned so that INT64_MIN negates without overflow.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::string digits = absl::StrCat(magnitude);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return negative ? absl::StrCat("-", out) : out;
}

std::string FormatMinimalDecimals(double value, int max_decimals) {
  if (!std::isfinite(value)) return "?";
  int decimals = 0;
  for (; decimals < max_decimals; ++decimals) {
    const double scaled = value * std::pow(10.0, decimals);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, std::fabs(scaled))) break;
  }
  std::string text = absl::StrFormat("%.*f", decimals, value);
  if (text == "-0") text = "0";
  return text;
}

}  // namespace unas::report
