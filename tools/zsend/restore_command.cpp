// zsend restore BACKUP_NAME TARGET_PATH DATASET [-r REV] [-R] --to [HOST:]POOL/NEW | FILE | -
// [--force] [host and transport options]: one revision of a backup, read on the backup host
// (--ssh-target, else this machine), into a new dataset, a file or stdout
// (orchestrator/restore/restore_job.h), recorded in the history as a "restore" run.
// `--browse` clones the revision read-only on the backup host and prints its mountpoint;
// `zsend restore BACKUP_NAME TARGET_PATH --cleanup` removes such clones (browse.h).
// Exit code: 0 restored; 1 the stream failed; 255 nothing was sent (bad arguments, no such
// revision, the destination exists, a host unreachable).
#include <CLI/CLI.hpp>
#include <iostream>

#include "base/units.h"
#include "orchestrator/restore/browse.h"
#include "orchestrator/restore/restore_job.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/option_checks.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct RestoreArgs {
  RestoreOptions options;
  std::string to;
  std::string transport = "auto", memory = "256M", codec, remote_engine;
  std::string state_dir;
  HostOptions hosts;
  bool browse = false, cleanup = false;
};

int Fatal(const Status& status) {
  std::cerr << "zsend restore: " << status.message() << "\n";
  return kExitFatal;
}

// --browse and --cleanup: on the backup host only, nothing moves.
int RunBrowseOrCleanup(RestoreArgs& args) {
  const RestoreOptions& o = args.options;
  LocalRunner local;
  std::unique_ptr<SshRunner> backup_ssh = MakeSshRunner(args.hosts, args.hosts.ssh_target, local);
  if (backup_ssh) {
    if (Status s = backup_ssh->Connect(); !s.ok()) return Fatal(s);
  }
  Zfs backup(backup_ssh ? static_cast<CommandRunner&>(*backup_ssh) : local);
  if (Status s = backup.Probe(); !s.ok()) return Fatal(s);
  if (args.cleanup) {
    auto removed = CleanupBrowseClones(backup, o.backup_name, o.target_path);
    if (!removed.ok()) return Fatal(removed.status());
    for (const std::string& clone : *removed) std::cout << "destroyed " << clone << "\n";
    if (removed->empty()) std::cout << "no browse clones of backup '" << o.backup_name << "'\n";
    return kExitOk;
  }
  auto resolved = ResolveBackupSnapshot(o, backup);
  if (!resolved.ok()) return Fatal(resolved.status());
  auto browsed = BrowseRevision(backup, o.backup_name, o.target_path, resolved->second);
  if (!browsed.ok()) return Fatal(browsed.status());
  std::cerr << (browsed->existed ? "already cloned: " : "cloned read-only: ") << resolved->second
            << " -> " << browsed->clone << " (remove with zsend restore " << o.backup_name << " "
            << o.target_path << " --cleanup)\n";
  std::cout << (browsed->mountpoint.empty() ? browsed->clone + " (not mounted)"
                                            : browsed->mountpoint)
            << "\n";
  return kExitOk;
}

int RunRestoreCommand(RestoreArgs& args) {
  RestoreOptions& o = args.options;
  if (static_cast<int>(!args.to.empty()) + args.browse + args.cleanup != 1) {
    return Fatal(InvalidArgument("give one of --to DEST, --browse or --cleanup"));
  }
  if (o.dataset.empty() && !args.cleanup) {
    return Fatal(InvalidArgument("DATASET is required: the dataset to restore (see zsend list)"));
  }
  if (o.recursive && (args.browse || args.cleanup)) {
    return Fatal(InvalidArgument("-R restores a tree with --to; --browse clones one dataset"));
  }
  if (args.browse || args.cleanup) return RunBrowseOrCleanup(args);
  Result<RestoreDestination> destination = ParseRestoreDestination(args.to);
  if (!destination.ok()) return Fatal(destination.status());
  o.destination = *destination;
  if (o.strip_path < 0) return Fatal(InvalidArgument("--strip-path must not be negative"));
  Result<TransportKind> kind = ParseTransportKind(args.transport);
  if (!kind.ok()) return Fatal(kind.status());
  if (Status s = CheckTransferValues(args.codec, args.hosts.ssh_port); !s.ok()) return Fatal(s);
  Result<uint64_t> memory =
      ParseSize(args.memory, "--memory", {.allow_percent_of_ram = true, .min = 1});
  if (!memory.ok()) return Fatal(memory.status());
  if (o.transport.timeout_seconds < 1) {
    return Fatal(InvalidArgument("--timeout must be at least 1 second"));
  }
  o.transport.kind = *kind;
  o.transport.memory = args.memory;
  o.transport.codec = args.codec;
  o.transport.remote_engine = args.remote_engine;
  o.transport.local_engine = LocalEngine();

  LocalRunner local;
  std::unique_ptr<SshRunner> backup_ssh = MakeSshRunner(args.hosts, args.hosts.ssh_target, local);
  std::unique_ptr<SshRunner> destination_ssh = MakeSshRunner(args.hosts, o.destination.host, local);
  if (backup_ssh) {
    if (Status s = backup_ssh->Connect(); !s.ok()) return Fatal(s);
  }
  if (destination_ssh) {
    if (Status s = destination_ssh->Connect(); !s.ok()) return Fatal(s);
  }
  CommandRunner& backup = backup_ssh ? static_cast<CommandRunner&>(*backup_ssh) : local;
  CommandRunner& target = destination_ssh ? static_cast<CommandRunner&>(*destination_ssh) : local;
  RestoreResult result = RunRestore(o, backup, target, std::cerr);
  std::string destination_host = o.destination.kind == RestoreDestination::Kind::kDataset
                                     ? target.HostLabel()
                                     : local.HostLabel();
  std::unique_ptr<History> history;
  if (!result.snapshot.empty()) {
    // Only a restore that got as far as a revision is worth a row.
    Result<std::unique_ptr<History>> opened = History::Open(args.state_dir);
    if (opened.ok()) {
      history = std::move(*opened);
    } else {
      std::cerr << "zsend restore: history not written: " << opened.status().message() << "\n";
    }
  }
  RecordRestore(history.get(), o, result, backup.HostLabel(), destination_host, std::cerr);
  if (!result.status.ok()) {
    std::cerr << "zsend restore: " << result.status.message() << "\n";
    return result.ExitCode();
  }
  const std::string where = o.destination.kind == RestoreDestination::Kind::kStdout
                                ? std::string("stdout")
                                : o.destination.path;
  std::cerr << "restored " << result.snapshot << " -> " << where << " ("
            << FormatBytes(static_cast<double>(result.stream.bytes)) << " in "
            << FormatDuration(result.stream.seconds)
            << (result.stream.transport.empty() ? "" : ", " + result.stream.transport) << ")\n";
  return kExitOk;
}

}  // namespace

void RegisterRestoreCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<RestoreArgs>();
  RestoreOptions& o = args->options;
  CLI::App* sub = app.add_subcommand(
      "restore", "send a revision of a backup into a new dataset, a file or stdout");
  sub->footer(kExitCodeHelp);
  sub->add_option("BACKUP_NAME", o.backup_name, "the backup")->required();
  sub->add_option("TARGET_PATH", o.target_path, "where the backup's datasets are received")
      ->required();
  sub->add_option("DATASET", o.dataset,
                  "the dataset to restore: its source name, or its copy's name under TARGET_PATH "
                  "(not with --cleanup)");
  sub->add_option("-r,--revision", o.revision,
                  "REV: a snapshot name, a unique prefix, a count (0 the newest, 1 the one "
                  "before), latest (default) or a group name (its newest snapshot)");
  sub->add_option("--to", args->to,
                  "[HOST:]POOL/NEW: a new dataset (HOST through ssh); /PATH or ./PATH: a file; "
                  "-: stdout");
  sub->add_flag("--browse", args->browse,
                "clone the revision read-only on the backup host (POOL/zsend-browse/BACKUP_NAME/) "
                "and print its mountpoint");
  sub->add_flag("--cleanup", args->cleanup,
                "destroy the --browse clones of this backup (clones in that folder only)");
  sub->add_flag("-R,--recursive", o.recursive,
                "the whole tree: DATASET, its descendants and their snapshots up to REV, clones "
                "inside it as clones of their origins (zfs send -R); into a new name only");
  sub->add_flag("--force", o.force,
                "replace an existing --to: a dataset without children (zfs receive -F: its data "
                "and snapshots), or a file; nothing else");
  sub->add_option("--ssh-target", args->hosts.ssh_target,
                  "the backup host (where TARGET_PATH is): [USER@]HOST");
  sub->add_option("--ssh-port", args->hosts.ssh_port, "ssh port of the remote hosts");
  sub->add_option("--ssh-option", args->hosts.ssh_options, "ssh -o OPTION (repeatable)");
  sub->add_option("--ssh-identity", args->hosts.ssh_identity, "ssh identity file");
  sub->add_option("--strip-path", o.strip_path,
                  "as the backup's --strip-path: leading source path components left out");
  sub->add_option("--transport", args->transport, "auto (default), tcp, ssh or pipe");
  sub->add_option("--codec", args->codec, "compression of the engine transports");
  sub->add_option("--memory", args->memory, "buffer size of the transfer (default 256M)");
  sub->add_option("--remote-engine", args->remote_engine, "path of zsend-engine on remote hosts");
  sub->add_option("--timeout", o.transport.timeout_seconds,
                  "the transfer fails when no byte moved for SECONDS (default 300)");
  AddStateDirOption(*sub, &args->state_dir);
  sub->callback([args, run] { *run = [args] { return RunRestoreCommand(*args); }; });
}

}  // namespace zsend::cli
