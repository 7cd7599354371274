// A thin RAII layer over the SQLite C API: a connection, prepared statements
// with typed binding, and transactions. Errors come back as absl::Status with
// SQLite's message; nothing here throws or aborts.
#ifndef UNAS_COORDINATOR_STORE_SQLITE_H_
#define UNAS_COORDINATOR_STORE_SQLITE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace unas::store {

class Statement;

class Connection {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating it in kReadWrite mode) the database at `path`, in WAL mode
  // with foreign keys on and a busy timeout, so readers never block the writer.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, Mode mode);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without results (schema, pragmas).
  absl::Status Execute(absl::string_view sql);

  // Prepares a statement; statements are cached by their SQL text, so hot
  // paths prepare once.
  absl::StatusOr<Statement*> Prepare(absl::string_view sql);

  int64_t LastInsertRowId() const;
  int Changes() const;
  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_; }

 private:
  Connection(sqlite3* db, std::string path);
  absl::Status Error(absl::string_view what) const;

  sqlite3* db_;
  std::string path_;
  struct Cache;
  std::unique_ptr<Cache> cache_;
};

// A prepared statement. Bind parameters (1-based), Step through rows, read
// columns (0-based); Reset before the next use (Prepare does it for you).
class Statement {
 public:
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, absl::string_view text);
  Statement& BindBlob(int index, absl::string_view bytes);
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::optional<int64_t>& value);
  Statement& Bind(int index, const std::optional<double>& value);

  // True while a row is available; false when done. Errors are reported by
  // status() after a false.
  bool Step();
  absl::Status status() const { return status_; }
  // Runs a statement that returns no rows.
  absl::Status Run();

  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;
  std::string Blob(int column) const;
  bool IsNull(int column) const;

  void Reset();

 private:
  friend class Connection;
  Statement(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}

  sqlite3_stmt* stmt_;
  sqlite3* db_;
  absl::Status status_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back unless Commit() succeeded. Begun
// inside an open transaction (a group commit's batch) it is a savepoint:
// Commit() releases it into the outer transaction, and a failure rolls back
// only its own writes.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_), nested_(other.nested_) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  absl::Status Commit();

 private:
  Transaction(Connection* db, bool nested) : db_(db), nested_(nested) {}
  Connection* db_;
  bool nested_;
};

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_SQLITE_H_
