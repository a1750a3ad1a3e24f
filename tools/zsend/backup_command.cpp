// zsend backup BACKUP_NAME TARGET_PATH [options]: select, snapshot, send what each target lacks,
// then rotate, record and mail. Parses and checks the command line (or a --config job) into a
// BackupJob and runs it (orchestrator/run/backup_job.h), which prints the result and returns the
// exit code: datasets whose transfer or rotation failed (<= 254), at least 1 when the mail could
// not be sent; 255 fatal (nothing transferred: bad arguments, a host unreachable, the lock held
// by another run); 128 + the signal when stopped.
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "base/units.h"
#include "orchestrator/host/ssh_runner.h"
#include "orchestrator/report/syslog_tee.h"
#include "orchestrator/run/backup_job.h"
#include "orchestrator/run/run_interrupt.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/mail_options.h"
#include "tools/zsend/option_checks.h"

namespace zsend::cli {
namespace {

using namespace zsend::orchestrator;

struct BackupFlags {
  BackupOptions options;
  std::string ssh_source, ssh_target, ssh_identity, transport = "auto", memory = "256M", rate_limit,
                                                    codec, remote_engine;
  int ssh_port = 0;
  double command_timeout = kDefaultCommandTimeoutSeconds;
  std::vector<std::string> ssh_options, filter_properties, set_properties;
  bool debug = false, json = false, syslog = false, progress = false, no_progress = false;
  std::string keep_source = kDefaultKeepSource, keep_target = kDefaultKeepTarget, keep_tags,
              state_dir;
  std::vector<std::string> tags;
  bool no_rotation = false;
  MailOptions mail;
  ConfigOptions config;
  CLI::App* app = nullptr;
};

std::vector<std::string> SplitCommas(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    std::stringstream stream(value);
    std::string item;
    while (std::getline(stream, item, ',')) {
      if (!item.empty()) out.push_back(item);
    }
  }
  return out;
}

int Fatal(const std::string& message) {
  std::cerr << "zsend backup: " << message << "\n";
  return kExitFatal;
}

int RunBackupCommand(BackupFlags& f) {
  BackupOptions& o = f.options;
  // From here SIGINT/SIGTERM/SIGHUP stop the run in order: the children's process groups are
  // stopped, temporary files and keys removed, the history says "interrupted", and the lock is
  // released last (it is destroyed after everything below).
  InstallRunInterruptHandlers();
  if (Status s = ApplyConfig(*f.app, f.config, &o.backup_name, &o.target_path); !s.ok()) {
    return Fatal(s.message());
  }
  // The progress display is drawn on stderr as it is before --syslog's tee: its redraws are not
  // log lines.
  std::ostream progress_out(std::cerr.rdbuf());
  std::optional<SyslogTee> tee;
  if (f.syslog) tee.emplace();
  // Without a target only --no-send makes sense: a snapshot-only job (zsend daemon runs those
  // so), which snapshots and rotates the source only.
  if (o.target_path.empty() && !o.no_send) {
    return Fatal(
        "TARGET_PATH is required (or \"target\" in the --config job); without one, add "
        "--no-send to only snapshot and rotate the source");
  }
  Result<BackupRotation> rotation =
      f.no_rotation ? Result<BackupRotation>(BackupRotation{})
                    : ParseBackupRotation(f.keep_source, f.keep_target, f.keep_tags);
  if (!rotation.ok()) return Fatal(rotation.status().message());
  if (o.target_path.empty()) rotation->keep_target.reset();
  if (Status s = CheckMailValues(f.mail); !s.ok()) return Fatal(s.message());
  if (Status s = CheckTransferValues(f.codec, f.ssh_port); !s.ok()) return Fatal(s.message());
  if (Status s = CheckNameValues(o.group, o.snapshot_name, f.ssh_identity); !s.ok()) {
    return Fatal(s.message());
  }
  Result<TransportKind> kind = ParseTransportKind(f.transport);
  if (!kind.ok()) return Fatal(kind.status().message());
  o.transport.kind = *kind;
  for (const auto& [value, what] :
       {std::pair{&f.memory, "--memory"}, std::pair{&f.rate_limit, "--rate-limit"}}) {
    if (value->empty()) continue;
    Result<uint64_t> size = ParseSize(*value, what, {.allow_percent_of_ram = true, .min = 1});
    if (!size.ok()) return Fatal(size.status().message());
  }
  o.transport.memory = f.memory;
  o.transport.rate_limit = f.rate_limit;
  o.transport.codec = f.codec;
  o.transport.remote_engine = f.remote_engine;
  o.transport.local_engine = LocalEngine();
  o.tags = SplitCommas(f.tags);
  for (const std::string& tag : o.tags) {
    if (!IsValidTag(tag)) {
      return Fatal("--tags " + tag +
                   ": a tag is 1 to 64 letters, digits, '_', '.', ':' or '-' (e.g. --tags "
                   "daily,weekly)");
    }
  }
  if (o.hook_timeout < 1) return Fatal("--hook-timeout must be at least 1 second");
  if (o.jobs < 1) return Fatal("--jobs must be at least 1");
  if (o.transport.timeout_seconds < 1) return Fatal("--timeout must be at least 1 second");
  if (f.command_timeout < 1) return Fatal("--command-timeout must be at least 1 second");
  if (o.strip_path < 0) return Fatal("--strip-path must not be negative");
  o.filter_properties = SplitCommas(f.filter_properties);
  for (const std::string& setting : SplitCommas(f.set_properties)) {
    size_t equals = setting.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Fatal("--set-properties takes PROPERTY=VALUE pairs, got '" + setting + "'");
    }
    o.set_properties.emplace_back(setting.substr(0, equals), setting.substr(equals + 1));
  }

  BackupJob job;
  job.options = o;
  job.rotation = *rotation;
  job.mail = f.mail;
  job.state_dir = f.state_dir;
  job.ssh_source = f.ssh_source;
  job.ssh_target = f.ssh_target;
  job.ssh.port = f.ssh_port;
  job.ssh.identity_file = f.ssh_identity;
  job.ssh.ssh_options = f.ssh_options;
  job.command_timeout = f.command_timeout;
  job.debug = f.debug;
  job.json = f.json;
  job.progress_out = &progress_out;
  // On a terminal unless --json or --no-progress; --progress forces it (plain lines when
  // stderr is not a terminal).
  const bool terminal = isatty(STDERR_FILENO);
  if (f.progress && f.no_progress) return Fatal("--progress and --no-progress exclude each other");
  if (f.progress || (terminal && !f.json && !f.no_progress)) {
    job.progress = terminal ? BackupJob::Progress::kTerminal : BackupJob::Progress::kLines;
  }
  winsize size{};
  if (terminal && ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    job.terminal_width = size.ws_col;
  }
  return RunBackupJob(std::move(job), std::cout, std::cerr);
}

}  // namespace

void RegisterBackupCommand(CLI::App& app, CommandRun* run) {
  auto f = std::make_shared<BackupFlags>();
  BackupOptions& o = f->options;
  CLI::App* cmd =
      app.add_subcommand("backup", "Snapshot the selected datasets and send what the target lacks");
  cmd->footer(kExitCodeHelp);
  f->app = cmd;
  cmd->add_option("BACKUP_NAME", o.backup_name,
                  "Backup name: datasets with zsend:BACKUP_NAME=true are selected (the job "
                  "name with --config)")
      ->required();
  cmd->add_option("TARGET_PATH", o.target_path,
                  "Target dataset the backups go under (from the job with --config)");
  cmd->add_option("--ssh-source", f->ssh_source, "Source is remote: [USER@]HOST (pull)");
  cmd->add_option("--ssh-target", f->ssh_target, "Target is remote: [USER@]HOST (push)");
  cmd->add_option("--ssh-port", f->ssh_port, "ssh port for both hosts");
  cmd->add_option("--ssh-option", f->ssh_options, "ssh -o OPTION (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--ssh-identity", f->ssh_identity, "ssh private key file");
  cmd->add_option("--dataset", o.datasets, "Back up this dataset (repeatable; no property needed)")
      ->allow_extra_args(false);
  cmd->add_option("--vm", o.vms, "SmartOS: back up this VM's datasets (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--include-received", o.include_received,
                "Also select datasets whose zsend:NAME arrived by zfs receive (copies)");
  cmd->add_option("--group", o.group, "Snapshot prefix / batch name (default BACKUP_NAME)");
  cmd->add_option("--snapshot-name", o.snapshot_name,
                  "Snapshot is GROUP-NAME instead of GROUP-<UTC yyyymmddhhmmss>");
  cmd->add_flag("--no-snapshot", o.no_snapshot, "Take no new snapshot (finish or resume)");
  cmd->add_flag("--no-send", o.no_send, "Only snapshot, send nothing");
  cmd->add_flag("--allow-empty", o.allow_empty, "Snapshot datasets that did not change too");
  cmd->add_option("--transport", f->transport, "auto (default), tcp, ssh or pipe");
  cmd->add_option("--codec", f->codec, "Compression of the engine transports");
  cmd->add_option("--memory", f->memory, "Buffer size per transfer (default 256M)");
  cmd->add_option("--rate-limit", f->rate_limit, "Limit each transfer to RATE bytes/s (k/M/G)");
  cmd->add_option("--remote-engine", f->remote_engine, "Path of zsend-engine on remote hosts");
  cmd->add_option("--timeout", o.transport.timeout_seconds,
                  "A transfer in which no byte moved for SECONDS fails (default 300)");
  cmd->add_option("--command-timeout", f->command_timeout,
                  "A zfs or ssh command that has not ended after SECONDS is stopped "
                  "(default 600)");
  o.jobs = DefaultJobs();
  cmd->add_option("--jobs", o.jobs,
                  "Datasets transferred at once (default: the cores, at least 2 and at most 4; "
                  "parents before children, origins before clones)");
  cmd->add_option("--strip-path", o.strip_path,
                  "Leading components of the source name left out of the target name");
  cmd->add_flag("--clear-refreservation", o.clear_refreservation,
                "refreservation=none on the target");
  cmd->add_flag("--clear-mountpoint", o.clear_mountpoint, "canmount=noauto on the target");
  cmd->add_flag("--readonly,!--no-readonly", o.readonly,
                "readonly=on on every dataset received (the default), so that reading a backup "
                "cannot break its next incremental");
  cmd->add_flag("--mount", o.mount,
                "Mount received datasets (the default receives them unmounted where the zfs "
                "can: recv -u)");
  cmd->add_option("--filter-properties", f->filter_properties,
                  "Properties not received (P,...; repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--set-properties", f->set_properties,
                  "Properties set on the target (P=V,...; repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--rollback", o.rollback,
                "Discard target changes since the common snapshot: destroys the target's newer "
                "snapshots (named before the run), only zsend's own unless --force");
  cmd->add_flag("--force", o.force_rollback,
                "With --rollback: also destroy target snapshots zsend did not make");
  cmd->add_flag("--no-holds", o.no_holds, "Do not hold the common snapshot on the source");
  cmd->add_flag("--no-bookmarks", o.no_bookmarks,
                "Do not bookmark the common snapshot on the source (OpenZFS; a bookmark lets the "
                "next incremental start after that snapshot is destroyed)");
  cmd->add_flag("--no-resume", o.no_resume, "Do not make receives resumable (recv -s)");
  cmd->add_flag("--sessions,!--no-sessions", o.sessions,
                "Move every dataset over tcp through one engine session for the whole run "
                "(the default), or an engine pair per dataset with --no-sessions "
                "(docs/orchestrator.md, \"Transports\")");
  cmd->add_flag("--raw", o.raw,
                "Send raw (zfs send -w): encrypted datasets arrive encrypted, the target never "
                "needs their key (OpenZFS)");
  cmd->add_flag("--ignore-transfer-errors", o.ignore_transfer_errors,
                "A failed stream is fine when its snapshot arrived anyway");
  cmd->add_flag("--dry-run", o.dry_run, "Print every command that would change something");
  cmd->add_flag("-v,--verbose", o.verbose, "Say what is selected, snapshotted and sent");
  cmd->add_flag("--debug", f->debug, "Print every command as it runs (implies -v)");
  cmd->add_flag("--json", f->json, "Print the result as JSON on stdout");
  cmd->add_flag("--progress", f->progress,
                "Show transfer progress on stderr also when it is not a terminal (plain lines) "
                "or with --json");
  cmd->add_flag("--no-progress", f->no_progress, "No progress display on a terminal");
  cmd->add_option("--keep-source", f->keep_source,
                  "After the run, rotate the source: a count (10) or a schedule "
                  "(10,1d1w,1w1m,1m1y); default 10");
  cmd->add_option("--keep-target", f->keep_target,
                  "After the run, rotate the target likewise; default 30");
  cmd->add_flag("--no-rotation", f->no_rotation, "Destroy no snapshot after the run");
  cmd->add_option("--tags", f->tags,
                  "Tag the new snapshots (zsend:tags=T,...; zsend daemon passes the intervals "
                  "that fell due)")
      ->allow_extra_args(false);
  cmd->add_option("--keep-tags", f->keep_tags,
                  "Rotate tagged snapshots by tag on both sides: TAG=COUNT,... keeps the newest "
                  "COUNT carrying each tag (untagged ones follow --keep-source/--keep-target)");
  cmd->add_option("--post-snapshot", o.post_snapshot_hook,
                  "Shell command run here after the snapshot (a failure is reported, the run "
                  "goes on)");
  cmd->add_option("--pre-send", o.pre_send_hook,
                  "Shell command run here before the first send (a failure ends the run, "
                  "nothing sent)");
  cmd->add_option("--hook-timeout", o.hook_timeout,
                  "Seconds a hook may run before it is stopped and counts as failed (default 60)");
  AddMailOptions(*cmd, &f->mail);
  AddConfigOption(*cmd, &f->config);
  AddStateDirOption(*cmd, &f->state_dir);
  AddSyslogOption(*cmd, &f->syslog);
  cmd->callback([f, run] { *run = [f] { return RunBackupCommand(*f); }; });
}

}  // namespace zsend::cli
