// Overriding one message with another, the semantics of JobSpec.base: set
// scalars and oneof members replace, messages merge field by field, repeated
// fields replace as a whole (a variant's LR schedule must not be appended to
// its base's).
#ifndef UNAS_COMMON_JOB_SPEC_SPEC_MERGE_H_
#define UNAS_COMMON_JOB_SPEC_SPEC_MERGE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace unas {

// Applies `override` on top of `target`; both must be of the same type.
void ApplyOverride(const google::protobuf::Message& override, google::protobuf::Message* target);

// Clears the field named by a dotted path of field names ("bounds.macs") in
// `message`. An error if a name does not exist or crosses a repeated field.
absl::Status ClearFieldPath(absl::string_view path, google::protobuf::Message* message);

}  // namespace unas

#endif  // UNAS_COMMON_JOB_SPEC_SPEC_MERGE_H_
