#include "orchestrator/restore/restore_job.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include "base/subprocess.h"
#include "orchestrator/plan/selection.h"
#include "orchestrator/report/mail_send.h"
#include "orchestrator/restore/revision_spec.h"
#include "orchestrator/retention/prune_datasets.h"
#include "orchestrator/run/exit_codes.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {
namespace {

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The copy of `dataset` on the backup host: the name itself when it is at or below
// TARGET_PATH, else TARGET_PATH/DATASET (--strip-path applied).
Result<std::string> BackupDataset(const RestoreOptions& o) {
  if (o.dataset == o.target_path || IsDescendant(o.dataset, o.target_path)) return o.dataset;
  return TargetName(o.dataset, o.target_path, o.strip_path);
}

// `zfs send` on the backup host into `fd`; stderr is kept for the message.
StreamResult SendInto(CommandRunner& backup, const std::vector<std::string>& send_argv, int fd) {
  StreamResult result;
  result.transport = "file";
  Result<std::vector<std::string>> argv = backup.StreamArgv(send_argv);
  if (!argv.ok()) {
    result.status = argv.status();
    return result;
  }
  FILE* err = std::tmpfile();
  if (err == nullptr) {
    result.status = FailedPrecondition("cannot create a temporary file; check TMPDIR");
    return result;
  }
  auto started = std::chrono::steady_clock::now();
  base::SpawnOptions spawn;
  spawn.stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  spawn.stdout_fd = fd;
  spawn.stderr_fd = fileno(err);
  base::SpawnResult child = base::Spawn(*argv, spawn);
  close(spawn.stdin_fd);
  int exit_code = 127;
  if (child.ok()) {
    int wait_status = 0;
    while (waitpid(child.pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    exit_code = base::ExitCodeOf(wait_status);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::string text(4096, '\0');
  rewind(err);
  text.resize(fread(text.data(), 1, text.size(), err));
  fclose(err);
  result.failed_stderr = text;
  if (exit_code != 0) {
    std::string command;
    for (const std::string& word : send_argv) command += (command.empty() ? "" : " ") + word;
    result.failed_command = command;
    std::string first = text.substr(0, text.find('\n'));
    result.status = Status(StatusCode::kAborted,
                           command + " failed (exit " + std::to_string(exit_code) + ") on " +
                               backup.HostLabel() + (first.empty() ? "" : ": " + first));
  }
  return result;
}

Status ToFile(const RestoreOptions& o, CommandRunner& backup,
              const std::vector<std::string>& send_argv, RestoreResult& result) {
  const std::string& path = o.destination.path;
  struct stat st {};
  if (!o.force && lstat(path.c_str(), &st) == 0) {
    return FailedPrecondition("--to " + path + ": the file exists; name a new file, or add " +
                              "--force to replace it");
  }
  std::string partial = path + ".zsend-partial-XXXXXX";
  int fd = mkostemp(partial.data(), O_CLOEXEC);  // O_EXCL, mode 0600
  if (fd < 0) {
    return FailedPrecondition("--to " + path + ": cannot create " + partial + ": " +
                              std::strerror(errno));
  }
  result.transferred = true;
  result.stream = SendInto(backup, send_argv, fd);
  Status status = result.stream.status;
  if (status.ok() && fsync(fd) != 0) {
    status = Status(StatusCode::kDataLoss, "--to " + path + ": fsync: " + std::strerror(errno));
  }
  if (status.ok() && fstat(fd, &st) == 0) result.stream.bytes = static_cast<uint64_t>(st.st_size);
  close(fd);
  if (status.ok()) {
    int moved =
        o.force ? rename(partial.c_str(), path.c_str()) : link(partial.c_str(), path.c_str());
    if (moved != 0) {
      status = FailedPrecondition(
          "--to " + path + ": cannot create it: " + std::strerror(errno) +
          (errno == EEXIST ? " (it appeared meanwhile; --force replaces it)" : ""));
    }
  }
  unlink(partial.c_str());  // after link(2) the name is left; after rename(2) it is gone
  return status;
}

Status ToStdout(CommandRunner& backup, const std::vector<std::string>& send_argv,
                RestoreResult& result) {
  if (isatty(STDOUT_FILENO)) {
    return InvalidArgument("--to -: stdout is a terminal; redirect it to a file or a pipe");
  }
  result.transferred = true;
  result.stream = SendInto(backup, send_argv, STDOUT_FILENO);
  return result.stream.status;
}

Status ToDataset(const RestoreOptions& o, CommandRunner& backup_runner, Zfs& backup,
                 CommandRunner& destination_runner, const std::string& snapshot,
                 RestoreResult& result, std::ostream& log) {
  const std::string& name = o.destination.path;
  Zfs destination(destination_runner);
  ZSEND_RETURN_IF_ERROR(destination.Probe());
  Result<bool> exists = destination.Exists(name);
  if (!exists.ok()) return exists.status();
  if (*exists && !o.force) {
    return FailedPrecondition("--to " + name + ": the dataset exists on " +
                              destination_runner.HostLabel() +
                              "; restore into a new name, or add --force to replace it");
  }
  if (*exists && o.recursive) {
    return FailedPrecondition("--to " + name + ": the dataset exists on " +
                              destination_runner.HostLabel() +
                              "; -R restores a whole tree into a new name only");
  }
  if (*exists) {
    Result<std::vector<DatasetInfo>> tree = destination.ListDatasets({name}, true);
    if (!tree.ok()) return tree.status();
    if (tree->size() > 1) {
      return FailedPrecondition("--to " + name + ": it has child datasets; --force replaces " +
                                "only a dataset without children: restore into a new name");
    }
  }
  std::string parent = ParentDataset(name);
  if (!parent.empty()) {
    Result<bool> parent_exists = destination.Exists(parent);
    if (!parent_exists.ok()) return parent_exists.status();
    if (!*parent_exists) ZSEND_RETURN_IF_ERROR(destination.CreateWithParents(parent));
  }
  SendSpec send;
  send.snapshot = snapshot;
  send.replicate = o.recursive;
  Result<std::vector<std::string>> send_argv = BuildSendArgv(backup.dialect(), send);
  if (!send_argv.ok()) return send_argv.status();
  RecvSpec recv;
  recv.target = name;
  recv.force = *exists;
  recv.unmounted = false;
  recv.resumable = false;
  // Writable, and mounted below its new parent (not over the original's mountpoint).
  recv.filter_properties = {"readonly", "mountpoint"};
  RecvCommand recv_command = BuildRecvCommand(destination.dialect(), recv);

  std::string temp = (std::filesystem::temp_directory_path() / "zsend-restore-XXXXXX").string();
  if (mkdtemp(temp.data()) == nullptr) {
    return FailedPrecondition("cannot create a temporary directory; check TMPDIR");
  }
  TransportOptions transport = o.transport;
  transport.temp_dir = temp;
  std::unique_ptr<StreamMover> mover =
      MakeStreamMover(backup_runner, destination_runner, transport);
  result.transferred = true;
  result.stream = mover->Move({*send_argv, recv_command.argv, name, 0});
  std::error_code ignored;
  std::filesystem::remove_all(temp, ignored);
  if (!result.stream.fallback.empty()) log << name << ": " << result.stream.fallback << "\n";
  ZSEND_RETURN_IF_ERROR(result.stream.status);
  if (!recv_command.set_after.empty()) {
    ZSEND_RETURN_IF_ERROR(destination.SetProperties(name, recv_command.set_after));
  }
  for (const std::string& property : recv_command.inherit_after) {
    ZSEND_RETURN_IF_ERROR(destination.InheritProperty(name, property, o.recursive));
  }
  return Status::Ok();
}

}  // namespace

Result<RestoreDestination> ParseRestoreDestination(const std::string& to) {
  RestoreDestination d;
  if (to.empty()) {
    return InvalidArgument("--to is required: [HOST:]POOL/NEW, a file path (/..., ./...) or -");
  }
  if (to == "-") {
    d.kind = RestoreDestination::Kind::kStdout;
    return d;
  }
  if (to.front() == '/' || to.front() == '.') {
    d.kind = RestoreDestination::Kind::kFile;
    d.path = to;
    return d;
  }
  d.path = to;
  if (size_t colon = to.find(':'); colon != std::string::npos && to.find('/') > colon) {
    d.host = to.substr(0, colon);
    d.path = to.substr(colon + 1);
  }
  if (d.path.empty() || d.path.find('/') == std::string::npos || d.path.back() == '/' ||
      d.path.find('@') != std::string::npos) {
    return InvalidArgument("--to " + to + ": name a new dataset below a pool (POOL/NEW, or " +
                           "HOST:POOL/NEW), a file (/path or ./path) or - for stdout");
  }
  return d;
}

Result<std::pair<std::string, std::string>> ResolveBackupSnapshot(const RestoreOptions& o,
                                                                  Zfs& backup) {
  Result<std::string> copy = BackupDataset(o);
  if (!copy.ok()) return copy.status();
  Result<std::vector<SnapshotInfo>> snapshots = backup.ListSnapshots(*copy);
  if (!snapshots.ok()) {
    if (snapshots.status().code() != StatusCode::kNotFound) return snapshots.status();
    return Status(StatusCode::kNotFound,
                  *copy + " does not exist on " + backup.runner().HostLabel() +
                      "; check DATASET, TARGET_PATH and --ssh-target ('zsend list' shows the "
                      "backup's datasets)");
  }
  // Tags only for a spec that may be one (not a count, not `latest`): one more zfs get.
  std::map<std::string, std::vector<std::string>> tags;
  if (o.revision != "latest" && o.revision.find_first_not_of("0123456789") != std::string::npos) {
    Result<std::map<std::string, std::vector<std::string>>> read = SnapshotTags(backup, *copy);
    if (!read.ok()) return read.status();
    tags = std::move(*read);
  }
  Result<size_t> index = ResolveRevision(o.revision, *snapshots, *copy, tags);
  if (!index.ok()) return index.status();
  return std::make_pair(*copy, (*snapshots)[*index].full_name());
}

int RestoreResult::ExitCode() const {
  if (status.ok()) return kExitOk;
  return transferred ? kExitRestoreFailed : kExitFatal;
}

RestoreResult RunRestore(const RestoreOptions& o, CommandRunner& backup_runner,
                         CommandRunner& destination_runner, std::ostream& log) {
  RestoreResult result;
  result.started = WallNow();
  auto fail = [&result](Status status) {
    result.status = std::move(status);
    result.ended = WallNow();
    return result;
  };
  Zfs backup(backup_runner);
  if (Status probed = backup.Probe(); !probed.ok()) return fail(probed);
  Result<std::pair<std::string, std::string>> resolved = ResolveBackupSnapshot(o, backup);
  if (!resolved.ok()) return fail(resolved.status());
  result.backup_dataset = resolved->first;
  result.snapshot = resolved->second;
  log << "restore " << result.snapshot << " from " << backup_runner.HostLabel() << "\n";

  Status status;
  if (o.destination.kind == RestoreDestination::Kind::kDataset) {
    status = ToDataset(o, backup_runner, backup, destination_runner, result.snapshot, result, log);
  } else {
    SendSpec send;
    send.snapshot = result.snapshot;
    send.replicate = o.recursive;
    Result<std::vector<std::string>> send_argv = BuildSendArgv(backup.dialect(), send);
    if (!send_argv.ok()) return fail(send_argv.status());
    status = o.destination.kind == RestoreDestination::Kind::kFile
                 ? ToFile(o, backup_runner, *send_argv, result)
                 : ToStdout(backup_runner, *send_argv, result);
  }
  return fail(status);
}

void RecordRestore(History* history, const RestoreOptions& o, const RestoreResult& result,
                   const std::string& backup_host, const std::string& destination_host,
                   std::ostream& err) {
  if (history == nullptr) return;
  RunRecord run;
  run.backup_name = o.backup_name;
  run.command = "restore";
  run.host = HostName();
  run.source_host = backup_host;
  run.target_host = destination_host;
  run.started = result.started;
  Result<int64_t> id = history->BeginRun(run);
  if (!id.ok()) {
    err << "zsend restore: history: " << id.status().message() << "\n";
    return;
  }
  const bool ok = result.status.ok();
  if (!result.snapshot.empty()) {
    TransferRecord t;
    t.run_id = *id;
    t.backup_name = o.backup_name;
    t.source_host = backup_host;
    t.target_host = destination_host;
    t.source_dataset = result.backup_dataset;
    t.target_dataset =
        o.destination.kind == RestoreDestination::Kind::kStdout ? "-" : o.destination.path;
    t.to_snapshot = result.snapshot;
    t.kind = "restore";
    t.started = result.started;
    t.ended = result.ended;
    t.wire_bytes = result.stream.wire_bytes;
    t.stream_bytes = result.stream.bytes;
    t.seconds = result.stream.seconds;
    t.transport = result.stream.transport;
    t.result = ok ? "ok" : "failed";
    t.error = ok ? "" : result.status.message();
    if (Result<int64_t> added = history->AddTransfer(t); !added.ok()) {
      err << "zsend restore: history: " << added.status().message() << "\n";
    }
  }
  Status ended = history->EndRun(*id, result.ended, ok ? "ok" : "failed", ok ? 1 : 0, ok ? 0 : 1,
                                 ok ? "" : result.status.message());
  if (!ended.ok()) err << "zsend restore: history: " << ended.message() << "\n";
}

}  // namespace zsend::orchestrator
