#include "orchestrator/report/history.h"

#include <sqlite3.h>

#include <filesystem>
#include <functional>

#include "orchestrator/report/history_sql.h"

namespace zsend::orchestrator {

namespace {

constexpr int kBusyTimeoutMs = 10000;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  backup_name TEXT NOT NULL,
  command TEXT NOT NULL DEFAULT 'backup',
  host TEXT NOT NULL DEFAULT '',
  source_host TEXT NOT NULL DEFAULT '',
  target_host TEXT NOT NULL DEFAULT '',
  started REAL NOT NULL,
  ended REAL NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT 'running',
  datasets_ok INTEGER NOT NULL DEFAULT 0,
  datasets_failed INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_by_name ON runs(backup_name, started);
CREATE TABLE IF NOT EXISTS transfers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL DEFAULT 0,
  backup_name TEXT NOT NULL,
  source_host TEXT NOT NULL DEFAULT '',
  target_host TEXT NOT NULL DEFAULT '',
  source_dataset TEXT NOT NULL,
  target_dataset TEXT NOT NULL DEFAULT '',
  from_snapshot TEXT NOT NULL DEFAULT '',
  to_snapshot TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  started REAL NOT NULL,
  ended REAL NOT NULL DEFAULT 0,
  wire_bytes INTEGER NOT NULL DEFAULT 0,
  stream_bytes INTEGER NOT NULL DEFAULT 0,
  seconds REAL NOT NULL DEFAULT 0,
  transport TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  source_snapshots INTEGER NOT NULL DEFAULT -1,
  target_snapshots INTEGER NOT NULL DEFAULT -1,
  oldest_snapshot TEXT NOT NULL DEFAULT '',
  newest_snapshot TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS transfers_by_name ON transfers(backup_name, source_dataset, started);
)sql";

// Schema 3: each run's overhead (issue 13).
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE runs ADD COLUMN source_zfs_commands INTEGER NOT NULL DEFAULT -1;
ALTER TABLE runs ADD COLUMN target_zfs_commands INTEGER NOT NULL DEFAULT -1;
ALTER TABLE runs ADD COLUMN ssh_connections INTEGER NOT NULL DEFAULT -1;
ALTER TABLE runs ADD COLUMN engine_sessions INTEGER NOT NULL DEFAULT -1;
ALTER TABLE runs ADD COLUMN planning_seconds REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN transfer_seconds REAL NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN rotation_seconds REAL NOT NULL DEFAULT 0;
)sql";

constexpr const char* kRunColumns =
    "id, backup_name, command, host, source_host, target_host, started, ended, result, "
    "datasets_ok, datasets_failed, error, source_zfs_commands, target_zfs_commands, "
    "ssh_connections, engine_sessions, planning_seconds, transfer_seconds, rotation_seconds";
constexpr const char* kTransferColumns =
    "id, run_id, backup_name, source_host, target_host, source_dataset, target_dataset, "
    "from_snapshot, to_snapshot, kind, started, ended, wire_bytes, stream_bytes, seconds, "
    "transport, result, error, source_snapshots, target_snapshots, oldest_snapshot, "
    "newest_snapshot";

RunRecord ReadRun(const Statement& s) {
  using R = RunRecord;
  return ReadColumns<R>(s, &R::id, &R::backup_name, &R::command, &R::host, &R::source_host,
                        &R::target_host, &R::started, &R::ended, &R::result, &R::datasets_ok,
                        &R::datasets_failed, &R::error, &R::source_zfs_commands,
                        &R::target_zfs_commands, &R::ssh_connections, &R::engine_sessions,
                        &R::planning_seconds, &R::transfer_seconds, &R::rotation_seconds);
}

TransferRecord ReadTransfer(const Statement& s) {
  using T = TransferRecord;
  return ReadColumns<T>(s, &T::id, &T::run_id, &T::backup_name, &T::source_host, &T::target_host,
                        &T::source_dataset, &T::target_dataset, &T::from_snapshot, &T::to_snapshot,
                        &T::kind, &T::started, &T::ended, &T::wire_bytes, &T::stream_bytes,
                        &T::seconds, &T::transport, &T::result, &T::error, &T::source_snapshots,
                        &T::target_snapshots, &T::oldest_snapshot, &T::newest_snapshot);
}

}  // namespace

History::~History() {
  sqlite3_close(db_);
}

std::string History::DatabasePath(const std::string& state_dir) {
  return state_dir + "/history.sqlite";
}

Result<std::unique_ptr<History>> History::Open(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) {
    return FailedPrecondition("cannot create the state directory " + state_dir + ": " +
                              ec.message() + "; pass --state-dir DIR to use another");
  }
  const std::string path = DatabasePath(state_dir);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  std::unique_ptr<History> history(new History(db));
  if (rc != SQLITE_OK) {
    return FailedPrecondition("cannot open the history database " + path + ": " +
                              (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  Status status = history->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  if (status.ok()) status = history->Migrate();
  if (!status.ok()) return status.WithContext(path);
  return history;
}

Status History::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return Unavailable("history database: " + message);
}

Status History::Migrate() {
  ZSEND_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Statement version(db_, "PRAGMA user_version");
  int current = version.Step() == SQLITE_ROW ? static_cast<int>(version.Int(0)) : 0;
  Status status;
  if (current > kHistorySchemaVersion) {
    status = FailedPrecondition("history schema version " + std::to_string(current) +
                                " is newer than this zsend knows (" +
                                std::to_string(kHistorySchemaVersion) + "); upgrade zsend");
  } else if (current < 1) {
    status = Exec(kSchemaV1);
    if (status.ok()) status = Exec("PRAGMA user_version = 1");
    current = 1;
  }
  if (status.ok() && current < 2) {
    status = Exec(kHistorySchemaV2);
    if (status.ok()) status = Exec("PRAGMA user_version = 2");
    current = 2;
  }
  if (status.ok() && current < 3) {
    status = Exec(kSchemaV3);
    if (status.ok()) status = Exec("PRAGMA user_version = 3");
    current = 3;
  }
  if (!status.ok()) {
    (void)Exec("ROLLBACK");
    return status;
  }
  schema_version_ = current;
  return Exec("COMMIT");
}

Result<int64_t> History::BeginRun(const RunRecord& run) {
  Statement s(db_,
              "INSERT INTO runs (backup_name, command, host, source_host, target_host, started, "
              "ended, result, datasets_ok, datasets_failed, error) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(run.backup_name).Bind(run.command.empty() ? std::string("backup") : run.command);
  s.Bind(run.host).Bind(run.source_host).Bind(run.target_host).Bind(run.started).Bind(run.ended);
  s.Bind(run.result.empty() ? std::string("running") : run.result);
  s.Bind(static_cast<int64_t>(run.datasets_ok)).Bind(static_cast<int64_t>(run.datasets_failed));
  s.Bind(run.error);
  if (s.Step() != SQLITE_DONE) return s.Error("recording a run");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Status History::EndRun(int64_t run_id, double ended, const std::string& result, int datasets_ok,
                       int datasets_failed, const std::string& error) {
  Statement s(db_,
              "UPDATE runs SET ended = ?, result = ?, datasets_ok = ?, datasets_failed = ?, "
              "error = ? WHERE id = ?");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(ended).Bind(result).Bind(static_cast<int64_t>(datasets_ok));
  s.Bind(static_cast<int64_t>(datasets_failed)).Bind(error).Bind(run_id);
  if (s.Step() != SQLITE_DONE) return s.Error("finishing a run");
  return Status::Ok();
}

Status History::RecordOverhead(int64_t run_id, const RunRecord& run) {
  Statement s(db_,
              "UPDATE runs SET source_zfs_commands = ?, target_zfs_commands = ?, "
              "ssh_connections = ?, engine_sessions = ?, planning_seconds = ?, "
              "transfer_seconds = ?, rotation_seconds = ? WHERE id = ?");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(run.source_zfs_commands).Bind(run.target_zfs_commands).Bind(run.ssh_connections);
  s.Bind(run.engine_sessions).Bind(run.planning_seconds).Bind(run.transfer_seconds);
  s.Bind(run.rotation_seconds).Bind(run_id);
  if (s.Step() != SQLITE_DONE) return s.Error("recording a run's overhead");
  return Status::Ok();
}

Result<int> History::EndAbandonedRuns(const std::string& backup_name, double now) {
  Statement s(db_,
              "UPDATE runs SET ended = ?, result = 'interrupted', error = 'the run ended without "
              "recording a result (killed, or the host went down)' WHERE backup_name = ? AND "
              "result = 'running'");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(now).Bind(backup_name);
  if (s.Step() != SQLITE_DONE) return s.Error("ending abandoned runs");
  return sqlite3_changes(db_);
}

Result<int64_t> History::AddTransfer(const TransferRecord& t) {
  Statement s(db_,
              "INSERT INTO transfers (run_id, backup_name, source_host, target_host, "
              "source_dataset, target_dataset, from_snapshot, to_snapshot, kind, started, ended, "
              "wire_bytes, stream_bytes, seconds, transport, result, error, source_snapshots, "
              "target_snapshots, oldest_snapshot, newest_snapshot) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(t.run_id).Bind(t.backup_name).Bind(t.source_host).Bind(t.target_host);
  s.Bind(t.source_dataset).Bind(t.target_dataset).Bind(t.from_snapshot).Bind(t.to_snapshot);
  s.Bind(t.kind).Bind(t.started).Bind(t.ended).Bind(static_cast<int64_t>(t.wire_bytes));
  s.Bind(static_cast<int64_t>(t.stream_bytes)).Bind(t.seconds).Bind(t.transport).Bind(t.result);
  s.Bind(t.error).Bind(t.source_snapshots).Bind(t.target_snapshots).Bind(t.oldest_snapshot);
  s.Bind(t.newest_snapshot);
  if (s.Step() != SQLITE_DONE) return s.Error("recording a transfer");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<RunRecord>> History::Runs(const std::string& backup_name, double since,
                                             int limit) {
  std::string sql = std::string("SELECT ") + kRunColumns +
                    " FROM runs WHERE (? = '' OR backup_name = ?) AND started >= ? "
                    "ORDER BY started DESC, id DESC";
  if (limit > 0) sql += " LIMIT " + std::to_string(limit);
  Statement s(db_, sql.c_str());
  if (!s.ok()) return s.Error("prepare");
  s.Bind(backup_name).Bind(backup_name).Bind(since);
  return CollectRows(s, ReadRun, "reading runs");
}

Result<std::vector<TransferRecord>> History::Transfers(const std::string& backup_name, double since,
                                                       int64_t run_id) {
  std::string sql = std::string("SELECT ") + kTransferColumns +
                    " FROM transfers WHERE (? = '' OR backup_name = ?) AND started >= ? "
                    "AND (? = 0 OR run_id = ?) ORDER BY started, id";
  Statement s(db_, sql.c_str());
  if (!s.ok()) return s.Error("prepare");
  s.Bind(backup_name).Bind(backup_name).Bind(since).Bind(run_id).Bind(run_id);
  return CollectRows(s, ReadTransfer, "reading transfers");
}

Result<std::vector<std::string>> History::BackupNames() {
  Statement s(db_,
              "SELECT backup_name FROM runs UNION SELECT backup_name FROM transfers ORDER BY 1");
  if (!s.ok()) return s.Error("prepare");
  std::vector<std::string> names;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) names.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return s.Error("reading backup names");
  return names;
}

}  // namespace zsend::orchestrator
