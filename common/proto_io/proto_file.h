// Reading and writing protobuf messages as the files users edit: textproto
// or JSON, chosen by the file extension. Parse errors name the file, line and
// column, and unknown fields are errors (a misspelt field must never be
// silently ignored in a job spec).
#ifndef UNAS_COMMON_PROTO_IO_PROTO_FILE_H_
#define UNAS_COMMON_PROTO_IO_PROTO_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace unas {

enum class ProtoFormat { kTextproto, kJson };

// ".textproto", ".txtpb", ".pbtxt", ".textpb" → kTextproto; ".json" → kJson.
absl::StatusOr<ProtoFormat> ProtoFormatFromPath(absl::string_view path);

// Parses `text` into `message` (which is cleared first). `origin` (a file
// name) prefixes every error.
absl::Status ParseProto(absl::string_view text, ProtoFormat format, absl::string_view origin,
                        google::protobuf::Message* message);

// Reads and parses a file, the format taken from its extension.
absl::Status ReadProtoFile(const std::string& path, google::protobuf::Message* message);

// Textproto with one field per line; JSON with the .proto field names.
std::string ToTextproto(const google::protobuf::Message& message);
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);
std::string Serialize(const google::protobuf::Message& message, ProtoFormat format);

// Writes `message` to `path` in the format of its extension, atomically
// (a temporary file renamed into place).
absl::Status WriteProtoFile(const std::string& path, const google::protobuf::Message& message);

// Reads a whole file; the error names the file.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace unas

#endif  // UNAS_COMMON_PROTO_IO_PROTO_FILE_H_
