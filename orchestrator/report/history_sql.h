// The history database's SQL helpers, shared by history*.cpp (not part of the History API):
// a prepared statement that finalizes itself, the rows of a query, and the schema of version 2
// (the daemon's table, history_daemon.cpp) that History::Migrate() applies.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

extern const char* const kHistorySchemaV2;

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Statement& Bind(const std::string& value) {
    sqlite3_bind_text(stmt_, ++index_, value.c_str(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(double value) {
    sqlite3_bind_double(stmt_, ++index_, value);
    return *this;
  }
  Statement& Bind(int64_t value) {
    sqlite3_bind_int64(stmt_, ++index_, value);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  double Real(int column) const { return sqlite3_column_double(stmt_, column); }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  Status Error(const std::string& what) const {
    return Unavailable("history database: " + what + ": " + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
  int index_ = 0;
};

// One column into a record member, by the member's type.
inline void ReadColumn(const Statement& s, int column, std::string& value) {
  value = s.Text(column);
}
inline void ReadColumn(const Statement& s, int column, double& value) {
  value = s.Real(column);
}
template <class T>
requires std::is_integral_v<T>
void ReadColumn(const Statement& s, int column, T& value) {
  value = static_cast<T>(s.Int(column));
}

// The current row as a Record: column i into the i-th member named, so the member list reads
// like the query's column list (ReadColumns<RunRecord>(s, &RunRecord::id, ...)).
template <class Record, class... Types>
Record ReadColumns(const Statement& s, Types Record::*... members) {
  Record record;
  int column = 0;
  (ReadColumn(s, column++, record.*members), ...);
  return record;
}

// Every row of `s` read by `read`; `what` names the query in the error.
template <class Read>
auto CollectRows(Statement& s, Read read, const char* what)
    -> Result<std::vector<decltype(read(s))>> {
  std::vector<decltype(read(s))> rows;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) rows.push_back(read(s));
  if (rc != SQLITE_DONE) return s.Error(what);
  return rows;
}

}  // namespace zsend::orchestrator
