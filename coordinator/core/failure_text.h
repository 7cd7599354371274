// The text of failures: the one length limit on every reason the
// coordinator keeps (a candidate's failure reasons, a job's failure reason,
// what workers say went wrong), and the class of a cause, which
// max_consecutive_failures compares: "worker w3: CUDA out of memory
// allocating 1.5 GiB for 'conv_7'" and the same failure of another
// candidate, with its own numbers and names, are one class.
#ifndef UNAS_COORDINATOR_CORE_FAILURE_TEXT_H_
#define UNAS_COORDINATOR_CORE_FAILURE_TEXT_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace unas::coordinator {

// Reasons longer than this are cut (at a UTF-8 character boundary) and end
// in "...": one worker cannot grow a candidate's row, the attempt_failures
// table or a job's reason by more than this per failure.
inline constexpr size_t kMaxReasonBytes = 1024;

// `text` cut to kMaxReasonBytes.
std::string TruncateReason(absl::string_view text);

// The class of a failure cause: quoted text ('...' or "...") becomes '…',
// every run of digits (hex ids with them) becomes '#', runs of white space
// one space, and the result is cut to kMaxReasonBytes.
std::string FailureClass(absl::string_view cause);

}  // namespace unas::coordinator

#endif  // UNAS_COORDINATOR_CORE_FAILURE_TEXT_H_
