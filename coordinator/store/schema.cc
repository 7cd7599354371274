#include "coordinator/store/schema.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace unas::store {
namespace {

// Migrations, in order; index i upgrades version i to version i + 1. Never
// edit a released migration: append a new one.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> migrations = {
      // 0 -> 1: the first schema.
      R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (0);

CREATE TABLE jobs (
  job_id            INTEGER PRIMARY KEY,
  name              TEXT    NOT NULL,
  spec              BLOB    NOT NULL,   -- unas.v1.JobSpec, defaults filled
  seed              INTEGER NOT NULL,
  state             INTEGER NOT NULL,   -- unas.v1.JobState
  failure_reason    TEXT    NOT NULL DEFAULT '',
  -- Algorithm state that cannot be rebuilt from the evaluations (none for
  -- aging evolution and random search; random choices are derived from the
  -- job seed and the candidate id, so there is no RNG state to keep).
  algorithm_state   BLOB,
  create_time_ms    INTEGER NOT NULL,
  update_time_ms    INTEGER NOT NULL
);

CREATE TABLE candidates (
  job_id            INTEGER NOT NULL REFERENCES jobs (job_id),
  candidate_id      INTEGER NOT NULL,
  architecture      BLOB    NOT NULL,   -- unas.v1.Architecture
  sparsity          REAL,
  parent_id         INTEGER,
  fingerprint       INTEGER NOT NULL,
  state             INTEGER NOT NULL,   -- unas.v1.CandidateState
  attempts          INTEGER NOT NULL DEFAULT 0,
  lease_id          TEXT,
  worker_id         TEXT,
  lease_expiry_ms   INTEGER,
  dense_metrics     BLOB,               -- unas.v1.ResourceMetrics of the dense network
  finish_seq        INTEGER,            -- history order of DONE candidates
  create_time_ms    INTEGER NOT NULL,
  finish_time_ms    INTEGER,
  PRIMARY KEY (job_id, candidate_id)
);
CREATE INDEX candidates_by_state ON candidates (job_id, state);
CREATE INDEX candidates_by_fingerprint ON candidates (job_id, fingerprint);
CREATE UNIQUE INDEX candidates_by_finish ON candidates (job_id, finish_seq);

-- One row per failed or expired attempt: the reasons a candidate was retried.
CREATE TABLE attempt_failures (
  job_id            INTEGER NOT NULL,
  candidate_id      INTEGER NOT NULL,
  attempt           INTEGER NOT NULL,
  reason            TEXT    NOT NULL,
  time_ms           INTEGER NOT NULL,
  FOREIGN KEY (job_id, candidate_id) REFERENCES candidates (job_id, candidate_id)
);
CREATE INDEX attempt_failures_by_candidate ON attempt_failures (job_id, candidate_id);

CREATE TABLE evaluations (
  job_id                        INTEGER NOT NULL,
  candidate_id                  INTEGER NOT NULL,
  validation_error              REAL    NOT NULL,
  test_error                    REAL    NOT NULL,
  int8_test_error               REAL,
  peak_memory_bytes             INTEGER NOT NULL,
  peak_memory_with_input_bytes  INTEGER NOT NULL,
  model_size_bytes              INTEGER NOT NULL,
  model_size_deployed_bytes     INTEGER NOT NULL,
  macs                          INTEGER NOT NULL,
  latency_proxy                 REAL    NOT NULL,
  feasible                      INTEGER NOT NULL,
  metrics                       BLOB    NOT NULL,  -- unas.v1.ResourceMetrics of the trained network
  result                        BLOB    NOT NULL,  -- unas.v1.EvaluationResult without weights
  trained_weights               BLOB,
  quantized_model               BLOB,              -- unas.v1.QuantizedModel
  training_seconds              REAL    NOT NULL,
  worker_id                     TEXT    NOT NULL,
  reused_from                   INTEGER,           -- candidate whose result this copies
  PRIMARY KEY (job_id, candidate_id),
  FOREIGN KEY (job_id, candidate_id) REFERENCES candidates (job_id, candidate_id)
);

CREATE TABLE workers (
  worker_id         TEXT    PRIMARY KEY,
  name              TEXT    NOT NULL UNIQUE,
  host              TEXT    NOT NULL,
  device            TEXT    NOT NULL,
  slots             INTEGER NOT NULL,
  registered_ms     INTEGER NOT NULL,
  last_heartbeat_ms INTEGER NOT NULL,
  evaluations_done  INTEGER NOT NULL DEFAULT 0
);
)sql",
      // 1 -> 2: the SHA-256 of each worker's registration secret.
      R"sql(
ALTER TABLE workers ADD COLUMN secret_sha256 BLOB NOT NULL DEFAULT X'';
)sql",
      // 2 -> 3: why the automated stopping rule stopped a STOPPED candidate
      // (unas.v1.StoppingDecision); its partial evaluation is in evaluations,
      // and it takes a finish_seq like a DONE one (the search observes both).
      R"sql(
ALTER TABLE candidates ADD COLUMN stopping BLOB;
)sql",
      // 3 -> 4: a running job's search model state (Bayesian optimisation:
      // one distance row per observation, the fitted hyper-parameters), so a
      // restart need not compute it again. Deleted when the job ends.
      R"sql(
CREATE TABLE model_state (
  job_id            INTEGER NOT NULL REFERENCES jobs (job_id),
  kind              INTEGER NOT NULL,   -- the algorithm's record kind
  position          INTEGER NOT NULL,   -- e.g. the observation's history position
  bytes             BLOB    NOT NULL,   -- opaque to the store
  PRIMARY KEY (job_id, kind, position)
);
)sql",
  };
  return migrations;
}

}  // namespace

int CurrentSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::StatusOr<int> ReadSchemaVersion(Connection& db) {
  absl::StatusOr<Statement*> exists = db.Prepare(
      "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!exists.ok()) return exists.status();
  if (!(*exists)->Step()) return (*exists)->status();
  bool has_table = (*exists)->Int(0) > 0;
  (*exists)->Reset();
  if (!has_table) return 0;
  absl::StatusOr<Statement*> version = db.Prepare("SELECT version FROM schema_version");
  if (!version.ok()) return version.status();
  if (!(*version)->Step()) {
    absl::Status s = (*version)->status();
    return s.ok() ? absl::DataLossError(absl::StrCat(db.path(), ": schema_version is empty")) : s;
  }
  int value = static_cast<int>((*version)->Int(0));
  (*version)->Reset();
  return value;
}

absl::Status MigrateSchema(Connection& db) {
  absl::StatusOr<int> version = ReadSchemaVersion(db);
  if (!version.ok()) return version.status();
  if (*version > CurrentSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat(db.path(), ": schema version ", *version, " is newer than this binary's (",
                     CurrentSchemaVersion(), "); upgrade unas-coordinator"));
  }
  for (int v = *version; v < CurrentSchemaVersion(); ++v) {
    absl::StatusOr<Transaction> tx = Transaction::Begin(db);
    if (!tx.ok()) return tx.status();
    if (absl::Status s = db.Execute(Migrations()[v]); !s.ok()) return s;
    if (absl::Status s = db.Execute(absl::StrCat("UPDATE schema_version SET version = ", v + 1));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = tx->Commit(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace unas::store
