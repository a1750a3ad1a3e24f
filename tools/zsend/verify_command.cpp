// zsend verify BACKUP_NAME TARGET_PATH [host and selection options] [--sample PCT] [--seed N]:
// compares each dataset's newest common snapshot on source and target by content, each host
// walking its own copy with `zsend digest-tree` (orchestrator/verify/verify_run.h). Exit code:
// the number of datasets that differ or could not be verified (at most 254); 255 when nothing
// could start (bad option, a host unreachable, the job's lock held by another run); 128 + the
// signal when SIGINT/SIGTERM/SIGHUP stopped it.
#include <CLI/CLI.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

#include "orchestrator/host/run_lock.h"
#include "orchestrator/plan/selection.h"
#include "orchestrator/report/history.h"
#include "orchestrator/run/run_interrupt.h"
#include "orchestrator/verify/verify_run.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct VerifyArgs : JobArgs {
  double sample = 100;
  std::optional<uint64_t> seed;
  std::string remote_zsend;
  size_t max_differences = 10;
};

int Fatal(const Status& status) {
  return FatalError("verify", status);
}

// This program, to run digest-tree locally (the same build as the one verifying).
std::string LocalZsend() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::string("zsend") : self.string();
}

int RunVerifyCommand(VerifyArgs& args) {
  InstallRunInterruptHandlers();
  if (Status s = ApplyConfig(*args.app, args.config, &args.backup_name, &args.target_path);
      !s.ok()) {
    return Fatal(s);
  }
  if (args.target_path.empty()) {
    return Fatal(InvalidArgument("TARGET_PATH is required (or \"target\" in the --config job)"));
  }
  if (!(args.sample > 0 && args.sample <= 100)) {
    return Fatal(InvalidArgument("--sample takes a percentage above 0 and at most 100"));
  }
  VerifyRunOptions options;
  options.backup_name = args.backup_name;
  options.digest.sample_percent = args.sample;
  // The default seed changes every UTC day, so daily sampled runs cover other files each day.
  options.digest.seed = args.seed ? *args.seed : static_cast<uint64_t>(std::floor(Now() / 86400));
  options.max_differences = args.max_differences;
  const std::string local = LocalZsend();
  const std::string remote = args.remote_zsend.empty() ? "zsend" : args.remote_zsend;
  options.source_zsend = args.hosts.ssh_source.empty() ? local : remote;
  options.target_zsend = args.hosts.ssh_target.empty() ? local : remote;

  // One run of a job at a time: a backup must not rotate or receive under a verify's clone.
  Result<RunLock> lock = RunLock::Acquire(args.state_dir, args.backup_name);
  if (!lock.ok()) return Fatal(lock.status());
  Result<std::unique_ptr<History>> history = History::Open(args.state_dir);
  if (!history.ok()) return Fatal(history.status());

  Hosts hosts(args.hosts);
  if (Status s = hosts.ConnectSource(); !s.ok()) return Fatal(s);
  if (Status s = hosts.ConnectTarget(); !s.ok()) return Fatal(s);
  Zfs source(hosts.source());
  Zfs target(hosts.target());
  if (Status s = source.Probe(); !s.ok()) return Fatal(s);
  if (Status s = target.Probe(); !s.ok()) return Fatal(s);

  Result<std::vector<std::string>> datasets =
      SelectJobDatasets(source, hosts.source(), args.backup_name, args.selection);
  if (!datasets.ok()) return Fatal(datasets.status());
  std::vector<VerifyPair> pairs;
  for (const std::string& dataset : *datasets) {
    Result<std::string> target_name =
        TargetName(dataset, args.target_path, args.selection.strip_path);
    if (!target_name.ok()) return Fatal(target_name.status());
    pairs.push_back({dataset, *target_name});
  }
  const int failed = RunVerify(source, target, pairs, options, history->get(), std::cout);
  // Stopped by a signal: the walk under way ended, its clone was removed, the run recorded as
  // interrupted.
  if (Interrupted()) return kExitInterruptedBase + InterruptSignal();
  return failed;
}

}  // namespace

void RegisterVerifyCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* sub = app.add_subcommand(
      "verify", "compare the newest common snapshot of source and target by content");
  sub->footer(kExitCodeHelp);
  sub->add_option("BACKUP_NAME", args->backup_name, "the backup (or the job with --config)")
      ->required();
  sub->add_option("TARGET_PATH", args->target_path, "where the backup's datasets are received");
  sub->add_option("--sample", args->sample,
                  "read the contents of PCT% of the files (chosen by path and seed); metadata "
                  "of all (default 100)");
  sub->add_option("--seed", args->seed,
                  "sampling seed (default: the day number, so each day samples other files)");
  sub->add_option("--remote-zsend", args->remote_zsend, "path of zsend on remote hosts");
  sub->add_option("--max-differences", args->max_differences,
                  "differing paths printed per dataset (default 10)");
  AddJobOptions(*sub, args.get());
  sub->callback([args, run] { *run = [args] { return RunVerifyCommand(*args); }; });
}

}  // namespace zsend::cli
