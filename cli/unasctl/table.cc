#include "cli/unasctl/table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/proto_io/proto_file.h"
#include "common/search_space/describe.h"

namespace unas::cli {
namespace {

bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ' ' ||
          c == 'K' || c == 'M' || c == 'G' || c == 'B' || c == '%')) {
      return false;
    }
  }
  return true;
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

void Table::PrintText(std::ostream& out) const {
  std::vector<size_t> width(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) width[i] = header_[i].size();
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      bool last = i + 1 == width.size();
      if (LooksNumeric(cell) && !last) {
        line += std::string(width[i] - cell.size(), ' ') + cell;
      } else {
        line += cell + (last ? "" : std::string(width[i] - cell.size(), ' '));
      }
      if (!last) line += "  ";
    }
    out << line << "\n";
  };
  print(header_);
  for (const auto& row : rows_) print(row);
}

void Table::PrintCsv(std::ostream& out) const {
  auto print = [&](const std::vector<std::string>& row) {
    std::vector<std::string> cells;
    for (const std::string& c : row) cells.push_back(CsvCell(c));
    out << absl::StrJoin(cells, ",") << "\n";
  };
  print(header_);
  for (const auto& row : rows_) print(row);
}

void PrintJsonArray(std::ostream& out, const std::vector<const google::protobuf::Message*>& items) {
  out << "[";
  for (size_t i = 0; i < items.size(); ++i) {
    out << (i == 0 ? "\n  " : ",\n  ") << ToJson(*items[i], /*pretty=*/false);
  }
  out << (items.empty() ? "]\n" : "\n]\n");
}

std::string CandidateStateName(v1::CandidateState state) {
  return std::string(absl::StripPrefix(v1::CandidateState_Name(state), "CANDIDATE_STATE_"));
}

std::string HumanBytes(int64_t bytes) {
  if (bytes < 1000) return absl::StrCat(bytes, " B");
  if (bytes < 1000 * 1000) return absl::StrFormat("%.1f KB", bytes / 1e3);
  return absl::StrFormat("%.2f MB", bytes / 1e6);
}

std::string HumanCount(int64_t count) {
  if (count < 10000) return absl::StrCat(count);
  if (count < 10'000'000) return absl::StrFormat("%.1f K", count / 1e3);
  return absl::StrFormat("%.1f M", count / 1e6);
}

void PrintCandidates(std::ostream& out, const std::vector<v1::Candidate>& candidates,
                     OutputFormat format) {
  if (format == OutputFormat::kJson) {
    PrintJsonArray(out, candidates);
    return;
  }
  bool csv = format == OutputFormat::kCsv;
  Table table(
      csv ? std::vector<std::string>{"candidate_id", "parent_id", "state", "validation_error",
                                     "test_error", "int8_test_error", "peak_memory_bytes",
                                     "model_size_bytes", "model_size_deployed_bytes", "macs",
                                     "feasible", "worker_id", "architecture"}
          : std::vector<std::string>{"ID", "PARENT", "STATE", "VAL ERR", "TEST ERR", "INT8 ERR",
                                     "PMU", "SIZE", "MACS", "OK", "ARCHITECTURE"});
  for (const v1::Candidate& c : candidates) {
    const std::string state = CandidateStateName(c.state());
    bool done = c.state() == v1::CANDIDATE_STATE_DONE;
    // Stopped early: a validation error (its best curve error at the stop),
    // no test error, never feasible.
    bool stopped = c.state() == v1::CANDIDATE_STATE_STOPPED;
    const v1::ResourceMetrics& m = done ? c.metrics() : c.dense_metrics();
    std::string parent = c.has_parent_id() ? absl::StrCat(c.parent_id()) : "";
    if (csv) {
      table.AddRow({absl::StrCat(c.candidate_id()), parent, state,
                    done || stopped ? absl::StrCat(c.evaluation().validation_error()) : "",
                    done ? absl::StrCat(c.evaluation().test_error()) : "",
                    c.evaluation().has_int8_test_error()
                        ? absl::StrCat(c.evaluation().int8_test_error())
                        : "",
                    absl::StrCat(m.peak_memory_bytes()), absl::StrCat(m.model_size_bytes()),
                    absl::StrCat(m.model_size_deployed_bytes()), absl::StrCat(m.macs()),
                    done || stopped ? (c.feasible() ? "true" : "false") : "", c.worker_id(),
                    DescribeArchitecture(c.architecture())});
    } else {
      table.AddRow(
          {absl::StrCat(c.candidate_id()), parent, state,
           done || stopped ? absl::StrFormat("%.4f", c.evaluation().validation_error()) : "-",
           done ? absl::StrFormat("%.4f", c.evaluation().test_error()) : "-",
           done && c.evaluation().has_int8_test_error()
               ? absl::StrFormat("%.4f", c.evaluation().int8_test_error())
               : "-",
           HumanBytes(m.peak_memory_bytes()), HumanBytes(m.model_size_bytes()),
           HumanCount(m.macs()), done || stopped ? (c.feasible() ? "yes" : "no") : "-",
           DescribeArchitecture(c.architecture())});
    }
  }
  if (csv) {
    table.PrintCsv(out);
  } else {
    table.PrintText(out);
  }
}

}  // namespace unas::cli
