// The state of `zsend daemon` in the history (History::SaveDaemonJob, DaemonJobs): table
// `daemon_jobs`, one row per job, added by schema version 2.
#include "orchestrator/report/history.h"
#include "orchestrator/report/history_sql.h"

namespace zsend::orchestrator {

namespace {

constexpr const char* kDaemonJobColumns =
    "job, last_start, last_end, last_tags, last_result, last_error, coverage, next_due, "
    "next_tags, shortest_interval, last_success";

DaemonJobRecord ReadDaemonJob(const Statement& s) {
  using D = DaemonJobRecord;
  return ReadColumns<D>(s, &D::job, &D::last_start, &D::last_end, &D::last_tags, &D::last_result,
                        &D::last_error, &D::coverage, &D::next_due, &D::next_tags,
                        &D::shortest_interval, &D::last_success);
}

}  // namespace

const char* const kHistorySchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS daemon_jobs (
  job TEXT PRIMARY KEY,
  last_start REAL NOT NULL DEFAULT 0,
  last_end REAL NOT NULL DEFAULT 0,
  last_tags TEXT NOT NULL DEFAULT '',
  last_result TEXT NOT NULL DEFAULT '',
  last_error TEXT NOT NULL DEFAULT '',
  coverage TEXT NOT NULL DEFAULT '',
  next_due REAL NOT NULL DEFAULT 0,
  next_tags TEXT NOT NULL DEFAULT '',
  shortest_interval REAL NOT NULL DEFAULT 0,
  last_success REAL NOT NULL DEFAULT 0
);
)sql";

Status History::SaveDaemonJob(const DaemonJobRecord& r) {
  Statement s(db_, (std::string("INSERT OR REPLACE INTO daemon_jobs (") + kDaemonJobColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?)")
                       .c_str());
  if (!s.ok()) return s.Error("prepare");
  s.Bind(r.job).Bind(r.last_start).Bind(r.last_end).Bind(r.last_tags).Bind(r.last_result);
  s.Bind(r.last_error).Bind(r.coverage).Bind(r.next_due).Bind(r.next_tags);
  s.Bind(r.shortest_interval).Bind(r.last_success);
  if (s.Step() != SQLITE_DONE) return s.Error("recording the daemon's job state");
  return Status::Ok();
}

Result<std::vector<DaemonJobRecord>> History::DaemonJobs() {
  Statement s(
      db_, (std::string("SELECT ") + kDaemonJobColumns + " FROM daemon_jobs ORDER BY job").c_str());
  if (!s.ok()) return s.Error("prepare");
  return CollectRows(s, ReadDaemonJob, "reading the daemon's job state");
}

}  // namespace zsend::orchestrator
