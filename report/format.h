// Text helpers of the report: escaping for HTML, CSV and JSON, and the
// number formats people read (bytes, counts, percentages) next to the
// unformatted ones scripts read (shortest round-trip doubles).
#ifndef UNAS_REPORT_FORMAT_H_
#define UNAS_REPORT_FORMAT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace unas::report {

// & < > " ' replaced by entities: safe in element content and in quoted
// attribute values.
std::string EscapeHtml(absl::string_view text);

// One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF,
// or starts/ends with a space; quotes doubled.
std::string CsvField(absl::string_view text);

// A JSON string literal, quotes included; control characters as \u00XX.
std::string JsonString(absl::string_view text);

// The shortest decimal text that reads back as exactly `value` ("0.1",
// "12345", "1e-05"); "" for NaN and infinities.
std::string ShortestDouble(double value);

// Three significant digits with an SI prefix (decimal: 1 kB = 1000 B):
// 950 → "950 B", 16000 → "16 kB", 12345 → "12.3 kB", 2.5e6 → "2.5 MB".
std::string FormatBytes(double bytes);

// Three significant digits with k/M/G: 1234567 → "1.23M", 500 → "500".
std::string FormatCount(double count);

// A fraction as a percentage with `decimals` decimals: 0.1234 → "12.34%".
std::string FormatPercent(double fraction, int decimals = 2);

// Thousands separated by commas: 1234567 → "1,234,567".
std::string GroupThousands(int64_t value);

// The fewest decimals (at most `max_decimals`) that write `value` without
// rounding it visibly: 2.5 → "2.5", 20 → "20", 0.125 → "0.125".
std::string FormatMinimalDecimals(double value, int max_decimals = 4);

}  // namespace unas::report

#endif  // UNAS_REPORT_FORMAT_H_
