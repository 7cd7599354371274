// The database schema and its migrations. Version N of the schema is reached
// by applying migrations 1..N in order, each in its own transaction; a
// database newer than this binary is refused rather than misread.
#ifndef UNAS_COORDINATOR_STORE_SCHEMA_H_
#define UNAS_COORDINATOR_STORE_SCHEMA_H_

#include "absl/status/status.h"
#include "coordinator/store/sqlite.h"

namespace unas::store {

// The schema version this binary writes.
int CurrentSchemaVersion();

// Creates or upgrades the schema of a database opened for writing.
absl::Status MigrateSchema(Connection& db);

// The version recorded in the database (0 for an empty file).
absl::StatusOr<int> ReadSchemaVersion(Connection& db);

}  // namespace unas::store

#endif  // UNAS_COORDINATOR_STORE_SCHEMA_H_
