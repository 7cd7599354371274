// Output for people (aligned tables) and scripts (CSV, JSON arrays).
#ifndef UNAS_CLI_UNASCTL_TABLE_H_
#define UNAS_CLI_UNASCTL_TABLE_H_

#include <ostream>
#include <string>
#include <vector>

#include "google/protobuf/message.h"
#include "unas/v1/job.pb.h"

namespace unas::cli {

enum class OutputFormat { kTable, kCsv, kJson };

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Columns padded to their widest cell; numbers are right-aligned.
  void PrintText(std::ostream& out) const;
  // RFC 4180: cells with commas, quotes or newlines are quoted.
  void PrintCsv(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// A JSON array of messages (proto field names).
void PrintJsonArray(std::ostream& out, const std::vector<const google::protobuf::Message*>& items);
template <typename Message>
void PrintJsonArray(std::ostream& out, const std::vector<Message>& messages) {
  std::vector<const google::protobuf::Message*> items;
  for (const Message& m : messages) items.push_back(&m);
  PrintJsonArray(out, items);
}

// Candidates as a table, CSV or JSON (the columns of `unasctl history`).
void PrintCandidates(std::ostream& out, const std::vector<v1::Candidate>& candidates,
                     OutputFormat format);

// "DONE", "LEASED": a candidate state as tables show it.
std::string CandidateStateName(v1::CandidateState state);

// "12.3 KB", "4.5 M": short forms for tables.
std::string HumanBytes(int64_t bytes);
std::string HumanCount(int64_t count);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_TABLE_H_
