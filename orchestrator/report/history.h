// History: every run and every dataset transfer, in an SQLite database under --state-dir
// (default /var/lib/zsend, file history.sqlite).
//
// Two tables: `runs` (one row per `zsend backup`/`prune`/`verify` run: backup name, host pair,
// start, end, result, counts) and `transfers` (one row per dataset: names, snapshots, kind
// full/incremental/clone/resumed, bytes on the wire and in the stream, seconds, transport,
// result, error text, and the snapshot counts of both sides when known); `zsend verify` adds
// `verifies` (one row per dataset compared, VerifyRecord). `zsend status`,
// `check`, `report` and the metrics file are all read from here.
//
// Concurrency: the database runs in WAL mode with a busy timeout (10 s), so several zsend
// processes (different jobs from cron) may write at once without corrupting it or failing on
// a lock. The schema carries a version (PRAGMA user_version); Open() creates or upgrades it and
// refuses a database newer than this program knows.
//
// Thread-safety: a History holds one connection and is not thread-safe; use one per thread
// (or guard it). Several processes may use the same file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

struct sqlite3;

namespace zsend::orchestrator {

inline constexpr int kHistorySchemaVersion = 1;
inline constexpr const char* kDefaultStateDir = "/var/lib/zsend";

struct RunRecord {
  int64_t id = 0;
  std::string backup_name;
  std::string command;  // "backup", "prune", "verify"
  std::string host;     // the machine zsend ran on
  std::string source_host;
  std::string target_host;
  double started = 0;  // seconds since the epoch
  double ended = 0;    // 0 while running
  std::string result;  // "running", "ok", "failed", "interrupted"
  int datasets_ok = 0;
  int datasets_failed = 0;
  std::string error;
};

struct TransferRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string backup_name;
  std::string source_host;
  std::string target_host;
  std::string source_dataset;
  std::string target_dataset;
  std::string from_snapshot;  // "" for a full send
  std::string to_snapshot;
  std::string kind;  // "full", "incremental", "clone", "resumed"
  double started = 0;
  double ended = 0;
  uint64_t wire_bytes = 0;
  uint64_t stream_bytes = 0;
  double seconds = 0;
  std::string transport;          // "tcp", "ssh", "pipe", ...
  std::string result;             // "ok", "failed", "interrupted", "skipped", "up-to-date"
  std::string error;              // stderr / reason for failures
  int64_t source_snapshots = -1;  // -1: not known
  int64_t target_snapshots = -1;
  std::string oldest_snapshot;  // on the target, when known
  std::string newest_snapshot;
};

// One dataset of a `zsend verify` run (table `verifies`, created by the first verify: a table
// older zsend versions ignore, so the schema version stays).
struct VerifyRecord {
  int64_t id = 0;
  int64_t run_id = 0;
  std::string backup_name;
  std::string source_host;
  std::string target_host;
  std::string source_dataset;
  std::string target_dataset;
  std::string snapshot;  // the common snapshot compared, "" when none
  double started = 0;
  double ended = 0;
  std::string result;       // "ok", "differs", "failed", "skipped"
  uint64_t entries = 0;     // entries walked on the source
  uint64_t bytes_read = 0;  // file bytes read on the source
  uint64_t differences = 0;
  std::string first_difference;  // "PATH: what", or why it failed or was skipped
};

class History {
 public:
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Opens (creating the directory and the database as needed) STATE_DIR/history.sqlite.
  static Result<std::unique_ptr<History>> Open(const std::string& state_dir);
  // The path Open() uses.
  static std::string DatabasePath(const std::string& state_dir);

  // Inserts a run (result "running" unless set); returns its id.
  Result<int64_t> BeginRun(const RunRecord& run);
  Status EndRun(int64_t run_id, double ended, const std::string& result, int datasets_ok,
                int datasets_failed, const std::string& error);
  Result<int64_t> AddTransfer(const TransferRecord& transfer);
  // Ends the job's runs still marked "running" as "interrupted" (a run killed with SIGKILL, or
  // on a host that went down, could not end its row). Call only while holding the job's
  // RunLock, which proves no such run is alive. Returns how many rows it ended.
  Result<int> EndAbandonedRuns(const std::string& backup_name, double now);

  // Runs newest first; `backup_name` "" for every job; `since` 0 for all time; limit 0: all.
  Result<std::vector<RunRecord>> Runs(const std::string& backup_name, double since, int limit);
  // Transfers oldest first, filtered like Runs (run_id 0: any run).
  Result<std::vector<TransferRecord>> Transfers(const std::string& backup_name, double since,
                                                int64_t run_id = 0);
  // Every backup name that has a run, sorted.
  Result<std::vector<std::string>> BackupNames();
  // zsend verify: one row per dataset; read oldest first, filtered like Transfers.
  Result<int64_t> AddVerify(const VerifyRecord& verify);
  Result<std::vector<VerifyRecord>> Verifies(const std::string& backup_name, double since,
                                             int64_t run_id = 0);
  int schema_version() const { return schema_version_; }

 private:
  explicit History(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  Status Migrate();

  sqlite3* db_;
  int schema_version_ = 0;
};

}  // namespace zsend::orchestrator
