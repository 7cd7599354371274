#include "cli/unasctl/json_output.h"

#include "google/protobuf/util/json_util.h"

namespace unas::cli {
namespace {

google::protobuf::util::JsonPrintOptions PrintOptions() {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  return options;
}

}  // namespace

google::protobuf::Value JsonString(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

google::protobuf::Value JsonNumber(double x) {
  google::protobuf::Value v;
  v.set_number_value(x);
  return v;
}

google::protobuf::Value JsonBool(bool b) {
  google::protobuf::Value v;
  v.set_bool_value(b);
  return v;
}

google::protobuf::Value JsonMessage(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::Value v;
  if (!google::protobuf::util::MessageToJsonString(message, &text, PrintOptions()).ok() ||
      !google::protobuf::util::JsonStringToMessage(text, &v).ok()) {
    v.set_null_value(google::protobuf::NULL_VALUE);
  }
  return v;
}

std::string ToJsonText(const google::protobuf::Value& value) {
  std::string text;
  (void)google::protobuf::util::MessageToJsonString(value, &text, PrintOptions());
  return text + (text.empty() || text.back() != '\n' ? "\n" : "");
}

std::string ToJsonText(const google::protobuf::Struct& object) {
  google::protobuf::Value v;
  *v.mutable_struct_value() = object;
  return ToJsonText(v);
}

}  // namespace unas::cli
