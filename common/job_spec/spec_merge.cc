#include "common/job_spec/spec_merge.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace unas {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Clears, in `target`, every repeated field that `override` sets, at every
// depth where both have the message, so that MergeFrom then replaces them.
void ClearOverriddenRepeated(const Message& override, Message* target) {
  const auto* src_reflection = override.GetReflection();
  const auto* dst_reflection = target->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  src_reflection->ListFields(override, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_repeated()) {
      dst_reflection->ClearField(target, field);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               dst_reflection->HasField(*target, field)) {
      ClearOverriddenRepeated(src_reflection->GetMessage(override, field),
                              dst_reflection->MutableMessage(target, field));
    }
  }
}

}  // namespace

void ApplyOverride(const Message& override, Message* target) {
  ClearOverriddenRepeated(override, target);
  // MergeFrom copies set scalars (for proto3 `optional` scalars even an
  // explicit 0 or false), switches oneofs, and merges sub-messages.
  target->MergeFrom(override);
}

absl::Status ClearFieldPath(absl::string_view path, Message* message) {
  std::vector<std::string> names = absl::StrSplit(path, '.');
  Message* current = message;
  for (size_t i = 0; i < names.size(); ++i) {
    const FieldDescriptor* field = current->GetDescriptor()->FindFieldByName(names[i]);
    if (field == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(current->GetDescriptor()->name(), " has no field '", names[i], "'"));
    }
    const auto* reflection = current->GetReflection();
    if (i + 1 == names.size()) {
      reflection->ClearField(current, field);
      return absl::OkStatus();
    }
    if (field->is_repeated() || field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", names[i], "' is not a singular message field"));
    }
    if (!reflection->HasField(*current, field)) return absl::OkStatus();  // nothing to clear
    current = reflection->MutableMessage(current, field);
  }
  return absl::OkStatus();
}

}  // namespace unas
