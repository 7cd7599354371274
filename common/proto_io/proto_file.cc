#include "common/proto_io/proto_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace unas {
namespace {

// Collects every textproto parse error with its 1-based position.
class CollectingErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit CollectingErrors(absl::string_view origin) : origin_(origin) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(absl::StrCat(origin_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    AddError(line, column, message);
  }

  std::string Joined() const { return absl::StrJoin(errors_, "\n"); }

 private:
  std::string origin_;
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<ProtoFormat> ProtoFormatFromPath(absl::string_view path) {
  std::string ext =
      absl::AsciiStrToLower(std::filesystem::path(std::string(path)).extension().string());
  if (ext == ".textproto" || ext == ".txtpb" || ext == ".pbtxt" || ext == ".textpb") {
    return ProtoFormat::kTextproto;
  }
  if (ext == ".json") return ProtoFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      path, ": unknown file type '", ext, "' (expected .textproto, .txtpb, .pbtxt or .json)"));
}

absl::Status ParseProto(absl::string_view text, ProtoFormat format, absl::string_view origin,
                        google::protobuf::Message* message) {
  message->Clear();
  if (format == ProtoFormat::kTextproto) {
    CollectingErrors errors(origin);
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
    if (!parser.Parse(&input, message)) return absl::InvalidArgumentError(errors.Joined());
    return absl::OkStatus();
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": invalid JSON: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  return buffer.str();
}

absl::Status ReadProtoFile(const std::string& path, google::protobuf::Message* message) {
  absl::StatusOr<ProtoFormat> format = ProtoFormatFromPath(path);
  if (!format.ok()) return format.status();
  absl::StatusOr<std::string> text = ReadTextFile(path);
  if (!text.ok()) return text.status();
  return ParseProto(*text, *format, path, message);
}

std::string ToTextproto(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::TextFormat::Printer printer;
  printer.PrintToString(message, &out);
  return out;
}

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string out;
  // Only fails for messages with invalid UTF-8 strings or Any types we do not use.
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string Serialize(const google::protobuf::Message& message, ProtoFormat format) {
  return format == ProtoFormat::kJson ? ToJson(message) : ToTextproto(message);
}

absl::Status WriteProtoFile(const std::string& path, const google::protobuf::Message& message) {
  absl::StatusOr<ProtoFormat> format = ProtoFormatFromPath(path);
  if (!format.ok()) return format.status();
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(tmp, ": cannot write"));
    out << Serialize(message, *format);
    if (!out.flush()) return absl::DataLossError(absl::StrCat(tmp, ": write error"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat(path, ": cannot rename: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace unas
