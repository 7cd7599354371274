// JSON for `--json` output, built as a google.protobuf.Struct and printed by
// protobuf's JSON printer (no hand-written escaping).
#ifndef UNAS_CLI_UNASCTL_JSON_OUTPUT_H_
#define UNAS_CLI_UNASCTL_JSON_OUTPUT_H_

#include <cstdint>
#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace unas::cli {

google::protobuf::Value JsonString(const std::string& s);
google::protobuf::Value JsonNumber(double x);  // exact for integers below 2^53
google::protobuf::Value JsonBool(bool b);
// Any message, as protobuf's JSON mapping with the .proto field names.
google::protobuf::Value JsonMessage(const google::protobuf::Message& message);

// Pretty-printed, with a trailing newline.
std::string ToJsonText(const google::protobuf::Value& value);
std::string ToJsonText(const google::protobuf::Struct& object);

}  // namespace unas::cli

#endif  // UNAS_CLI_UNASCTL_JSON_OUTPUT_H_
