// The writer lock of a database: the file `<db>.lock`, held with flock for
// as long as one Store has the database open for writing, and naming the
// holder's pid. The kernel releases it when the process dies, so a SIGKILLed
// coordinator never leaves a stale lock behind. Internal to the store.
#ifndef UNAS_COORDINATOR_STORE_WRITER_LOCK_H_
#define UNAS_COORDINATOR_STORE_WRITER_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace unas::store {

// Takes the writer lock of the database at `path`; returns the lock file's
// descriptor, which holds the lock until it is closed (ReleaseWriterLock).
// FAILED_PRECONDITION naming the holder's pid when another process has it.
absl::StatusOr<int> LockForWriting(const std::string& path);

// Closes the descriptor LockForWriting returned (a negative one: nothing).
void ReleaseWriterLock(int fd);

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_WRITER_LOCK_H_
