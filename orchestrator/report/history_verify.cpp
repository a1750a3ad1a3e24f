// zsend verify's rows in the history (History::AddVerify, Verifies): table `verifies`, created
// on first use (an added table older versions ignore, so it needs no schema version).
#include <sqlite3.h>

#include "orchestrator/report/history.h"
#include "orchestrator/report/history_sql.h"

namespace zsend::orchestrator {

namespace {

constexpr const char* kVerifySchema =
    "CREATE TABLE IF NOT EXISTS verifies ("
    "id INTEGER PRIMARY KEY, run_id INTEGER, backup_name TEXT NOT NULL, source_host TEXT, "
    "target_host TEXT, source_dataset TEXT, target_dataset TEXT, snapshot TEXT, started REAL, "
    "ended REAL, result TEXT, entries INTEGER, bytes_read INTEGER, differences INTEGER, "
    "first_difference TEXT);"
    "CREATE INDEX IF NOT EXISTS verifies_by_backup ON verifies (backup_name, started);";
constexpr const char* kVerifyColumns =
    "id, run_id, backup_name, source_host, target_host, source_dataset, target_dataset, "
    "snapshot, started, ended, result, entries, bytes_read, differences, first_difference";

VerifyRecord ReadVerify(const Statement& s) {
  using V = VerifyRecord;
  return ReadColumns<V>(s, &V::id, &V::run_id, &V::backup_name, &V::source_host, &V::target_host,
                        &V::source_dataset, &V::target_dataset, &V::snapshot, &V::started,
                        &V::ended, &V::result, &V::entries, &V::bytes_read, &V::differences,
                        &V::first_difference);
}

}  // namespace

Result<int64_t> History::AddVerify(const VerifyRecord& v) {
  ZSEND_RETURN_IF_ERROR(Exec(kVerifySchema));
  Statement s(db_,
              "INSERT INTO verifies (run_id, backup_name, source_host, target_host, "
              "source_dataset, target_dataset, snapshot, started, ended, result, entries, "
              "bytes_read, differences, first_difference) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!s.ok()) return s.Error("prepare");
  s.Bind(v.run_id).Bind(v.backup_name).Bind(v.source_host).Bind(v.target_host);
  s.Bind(v.source_dataset).Bind(v.target_dataset).Bind(v.snapshot).Bind(v.started).Bind(v.ended);
  s.Bind(v.result).Bind(static_cast<int64_t>(v.entries)).Bind(static_cast<int64_t>(v.bytes_read));
  s.Bind(static_cast<int64_t>(v.differences)).Bind(v.first_difference);
  if (s.Step() != SQLITE_DONE) return s.Error("recording a verify");
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<VerifyRecord>> History::Verifies(const std::string& backup_name, double since,
                                                    int64_t run_id) {
  std::vector<VerifyRecord> verifies;
  {
    Statement exists(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'verifies'");
    if (!exists.ok()) return exists.Error("prepare");
    if (exists.Step() != SQLITE_ROW) return verifies;  // no verify ran yet
  }
  std::string sql = std::string("SELECT ") + kVerifyColumns +
                    " FROM verifies WHERE (? = '' OR backup_name = ?) AND started >= ? "
                    "AND (? = 0 OR run_id = ?) ORDER BY started, id";
  Statement s(db_, sql.c_str());
  if (!s.ok()) return s.Error("prepare");
  s.Bind(backup_name).Bind(backup_name).Bind(since).Bind(run_id).Bind(run_id);
  return CollectRows(s, ReadVerify, "reading verifies");
}

}  // namespace zsend::orchestrator
