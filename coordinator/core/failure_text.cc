#include "coordinator/core/failure_text.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace unas::coordinator {
namespace {

constexpr char kEllipsis[] = "...";
constexpr size_t kEllipsisBytes = sizeof(kEllipsis) - 1;

bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string TruncateReason(absl::string_view text) {
  if (text.size() <= kMaxReasonBytes) return std::string(text);
  size_t keep = kMaxReasonBytes - kEllipsisBytes;
  while (keep > 0 && IsUtf8Continuation(text[keep])) --keep;
  std::string cut(text.substr(0, keep));
  cut.append(kEllipsis);
  return cut;
}

std::string FailureClass(absl::string_view cause) {
  std::string out;
  out.reserve(std::min(cause.size(), kMaxReasonBytes));
  for (size_t i = 0; i < cause.size() && out.size() < kMaxReasonBytes; ++i) {
    const char c = cause[i];
    const bool word_start = i == 0 || !absl::ascii_isalnum(cause[i - 1]);
    // A quote opens a name only at a word's start: "can't" quotes nothing.
    if ((c == '"' || c == '\'') && word_start) {
      const size_t close = cause.find(c, i + 1);
      if (close != absl::string_view::npos) {
        out += c;
        out += "…";
        out += c;
        i = close;
        continue;
      }
    }
    if (word_start && absl::ascii_isxdigit(c)) {
      // A hex id of 8 or more digits, whatever its first one: one '#'.
      size_t end = i;
      while (end < cause.size() && absl::ascii_isxdigit(cause[end])) ++end;
      if (end - i >= 8 && (end == cause.size() || !absl::ascii_isalnum(cause[end]))) {
        out += '#';
        i = end - 1;
        continue;
      }
    }
    if (absl::ascii_isdigit(c)) {
      // A number, or a hex id that starts with a digit: one '#'.
      while (i + 1 < cause.size() &&
             (absl::ascii_isxdigit(cause[i + 1]) || cause[i + 1] == '.' || cause[i + 1] == 'x')) {
        ++i;
      }
      out += '#';
      continue;
    }
    if (absl::ascii_isspace(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace unas::coordinator
