#include "coordinator/store/sqlite.h"

#include <sqlite3.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace unas::store {

struct Connection::Cache {
  absl::flat_hash_map<std::string, std::unique_ptr<Statement>> statements;
};

Connection::Connection(sqlite3* db, std::string path)
    : db_(db), path_(std::move(path)), cache_(std::make_unique<Cache>()) {}

Connection::~Connection() {
  cache_.reset();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

absl::Status Connection::Error(absl::string_view what) const {
  return absl::InternalError(absl::StrCat(path_, ": ", what, ": ", sqlite3_errmsg(db_)));
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Mode mode) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |=
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return absl::UnavailableError(absl::StrCat(path, ": cannot open database: ", message));
  }
  std::unique_ptr<Connection> connection(new Connection(db, path));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_extended_result_codes(db, 1);
  if (mode == Mode::kReadWrite) {
    // WAL: readers see the last commit and never block the writer. FULL
    // sync: every COMMIT fsyncs the WAL before it returns, so a commit
    // survives power loss and kernel crashes, not only process crashes. The
    // coordinator batches concurrent events into one transaction
    // (store/group_commit.h), so it pays one fsync per batch, not per event.
    absl::Status s = connection->Execute(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    if (!s.ok()) return s;
  } else {
    absl::Status s = connection->Execute("PRAGMA query_only=ON;");
    if (!s.ok()) return s;
  }
  return connection;
}

absl::Status Connection::Execute(absl::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    return absl::InternalError(absl::StrCat(path_, ": ", message));
  }
  return absl::OkStatus();
}

absl::StatusOr<Statement*> Connection::Prepare(absl::string_view sql) {
  std::string key(sql);
  auto it = cache_->statements.find(key);
  if (it != cache_->statements.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return Error(absl::StrCat("cannot prepare \"", sql, "\""));
  }
  auto statement = std::unique_ptr<Statement>(new Statement(stmt, db_));
  Statement* raw = statement.get();
  cache_->statements.emplace(std::move(key), std::move(statement));
  return raw;
}

int64_t Connection::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int Connection::Changes() const { return sqlite3_changes(db_); }

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, absl::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::BindBlob(int index, absl::string_view bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Statement& Statement::Bind(int index, const std::optional<int64_t>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}
Statement& Statement::Bind(int index, const std::optional<double>& value) {
  return value ? Bind(index, *value) : BindNull(index);
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    status_ = absl::InternalError(
        absl::StrCat("sqlite: ", sqlite3_errmsg(db_), " in \"", sqlite3_sql(stmt_), "\""));
  }
  return false;
}

absl::Status Statement::Run() {
  while (Step()) {
  }
  absl::Status result = status_;
  Reset();
  return result;
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }
std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}
std::string Statement::Blob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  return blob ? std::string(static_cast<const char*>(blob),
                            static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
              : std::string();
}
bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = absl::OkStatus();
}

absl::StatusOr<Transaction> Transaction::Begin(Connection& db) {
  const bool nested = sqlite3_get_autocommit(db.raw()) == 0;
  absl::Status s = db.Execute(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  return Transaction(&db, nested);
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  (void)db_->Execute(nested_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
}

absl::Status Transaction::Commit() {
  absl::Status s = db_->Execute(nested_ ? "RELEASE nested" : "COMMIT");
  if (s.ok()) db_ = nullptr;
  return s;
}

}  // namespace unas::store
