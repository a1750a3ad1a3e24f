// zsend jobs [REGEX] [--json] [--state-dir DIR]: the running daemon's job table; zsend jobs
// --run JOB: asks the daemon to run JOB now. Both through the daemon's socket in the state
// directory (orchestrator/daemon/daemon_socket.h). Exit 0, or 255 when no daemon answers, the
// REGEX is bad or the daemon refuses.
#include <regex.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "orchestrator/daemon/daemon_socket.h"
#include "orchestrator/daemon/job_table.h"
#include "orchestrator/report/history.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"

namespace zsend::cli {
namespace {

struct JobsArgs {
  std::string pattern;
  std::string run_job;
  std::string state_dir;
  bool json = false;
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "zsend jobs: %s\n", message.c_str());
  return kExitFatal;
}

// A POSIX extended regular expression (regcomp): GCC 12 flags std::regex with false
// -Wmaybe-uninitialized in the sanitizer build.
class JobFilter {
 public:
  // False when `pattern` does not compile.
  bool Compile(const std::string& pattern) {
    compiled_ = regcomp(&regex_, pattern.c_str(), REG_EXTENDED | REG_NOSUB) == 0;
    return compiled_;
  }
  ~JobFilter() {
    if (compiled_) regfree(&regex_);
  }
  bool Matches(const std::string& job) const {
    return !compiled_ || regexec(&regex_, job.c_str(), 0, nullptr, 0) == 0;
  }

 private:
  regex_t regex_{};
  bool compiled_ = false;
};

int RunJobs(const JobsArgs& args) {
  const std::string state_dir =
      args.state_dir.empty() ? orchestrator::kDefaultStateDir : args.state_dir;
  if (!args.run_job.empty()) {
    Result<std::string> answer = orchestrator::AskDaemon(state_dir, "run " + args.run_job);
    if (!answer.ok()) return Fail(answer.status().message());
    nlohmann::json reply = nlohmann::json::parse(*answer, nullptr, false);
    if (reply.is_discarded() || !reply.contains("ok")) {
      return Fail(reply.is_object() ? reply.value("error", *answer) : *answer);
    }
    std::cout << reply.value("ok", "") << "\n";
    return kExitOk;
  }
  JobFilter filter;
  if (!args.pattern.empty() && !filter.Compile(args.pattern)) {
    return Fail("bad REGEX '" + args.pattern + "'; give a POSIX extended regular expression");
  }
  Result<std::string> answer = orchestrator::AskDaemon(state_dir, "list");
  if (!answer.ok()) return Fail(answer.status().message());
  Result<std::vector<orchestrator::JobRow>> rows = orchestrator::JobRowsFromJson(*answer);
  if (!rows.ok()) return Fail(rows.status().message());
  std::vector<orchestrator::JobRow> shown;
  for (const orchestrator::JobRow& row : *rows) {
    if (filter.Matches(row.job)) shown.push_back(row);
  }
  std::cout << (args.json ? orchestrator::JobRowsToJson(shown) + "\n"
                          : orchestrator::FormatJobTable(shown));
  return kExitOk;
}

}  // namespace

void RegisterJobsCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<JobsArgs>();
  CLI::App* sub = app.add_subcommand("jobs", "The running daemon's job table, or run a job now");
  sub->add_option("REGEX", args->pattern, "only jobs whose name matches");
  sub->add_option("--run", args->run_job, "ask the daemon to run JOB now");
  sub->add_flag("--json", args->json, "JSON instead of a table");
  AddStateDirOption(*sub, &args->state_dir);
  sub->callback([args, run] { *run = [args] { return RunJobs(*args); }; });
}

}  // namespace zsend::cli
