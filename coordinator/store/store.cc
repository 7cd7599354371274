// Opening and closing a Store (store.h): the writer lock (writer_lock.h),
// the writing connection and the schema's migration. The writes are in
// store_writes.cc, the reads in store_reads.cc, the rows' SQL columns in
// row_codec.h.
#include "coordinator/store/store.h"

#include <utility>

#include "common/status/status_macros.h"
#include "coordinator/store/schema.h"
#include "coordinator/store/writer_lock.h"

namespace unas::store {

Store::Store(std::unique_ptr<Connection> db, int lock_fd) : db_(std::move(db)), lock_fd_(lock_fd) {}

Store::~Store() {
  db_.reset();
  ReleaseWriterLock(lock_fd_);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  absl::StatusOr<int> lock = LockForWriting(path);
  if (!lock.ok()) return lock.status();
  absl::StatusOr<std::unique_ptr<Connection>> db =
      Connection::Open(path, Connection::Mode::kReadWrite);
  if (!db.ok()) {
    ReleaseWriterLock(*lock);
    return db.status();
  }
  std::unique_ptr<Store> store(new Store(*std::move(db), *lock));
  UNAS_RETURN_IF_ERROR(MigrateSchema(*store->db_));
  return store;
}

}  // namespace unas::store
