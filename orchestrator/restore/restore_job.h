// Restores: one revision of a backed-up dataset, read on the backup host (where TARGET_PATH
// is), written into a new dataset on any host, into a file, or onto stdout.
//
//   dataset  `--to [HOST:]POOL/NEW`: the stream moves through the same StreamMover the backup
//            uses (transport.h: tcp, ssh, pipe, auto with its fallbacks), from the backup host
//            into `zfs receive` on HOST (this machine without HOST:). A missing parent of NEW is
//            created (zfs create -p). The restored dataset is writable and mounts below its
//            new parent: the backup's readonly=on and any mountpoint are not received (recv -x,
//            or zfs inherit after the receive where the zfs has no -x). An existing NEW is refused;
//            with --force it is replaced by `zfs receive -F` (its data and snapshots) when it has
//            no child dataset; nothing else is touched.
//   file     `--to PATH` (PATH starting with '/' or '.'): `zfs send` on the backup host writes
//            into PATH.zsend-partial-XXXXXX (created 0600, O_EXCL) beside PATH, which becomes
//            PATH (link(2): never over an existing file; with --force rename(2) replaces it)
//            only after the stream ended well; a failed or cut stream leaves no PATH and its
//            partial file is removed (a killed zsend, SIGINT and SIGTERM included, may leave a
//            *.zsend-partial-* file, never PATH).
//   stdout   `--to -`: the stream onto this program's stdout (refused on a terminal).
//
// The revision is resolved on the backup host's copy (revision_spec.h). DATASET is the source
// dataset's name (its copy is TARGET_PATH/DATASET, --strip-path applied) or the copy's name.
//
// Thread-safety: call from the main thread; runners are not owned.
#pragma once

#include <ostream>
#include <string>

#include "orchestrator/host/command_runner.h"
#include "orchestrator/report/history.h"
#include "orchestrator/transport/transport.h"
#include "orchestrator/zfs/zfs.h"

namespace zsend::orchestrator {

struct RestoreDestination {
  enum class Kind { kDataset, kFile, kStdout } kind = Kind::kDataset;
  std::string host;  // kDataset: "" this machine, else [user@]host
  std::string path;  // the dataset or the file
};

// "-" stdout; "/..." or "." "./..." "../..." a file; "[HOST:]POOL/NEW" a dataset. An error names
// what is wrong ("--to pool" has no dataset below the pool, "--to host:" no dataset...).
Result<RestoreDestination> ParseRestoreDestination(const std::string& to);

struct RestoreOptions {
  std::string backup_name;
  std::string target_path;
  std::string dataset;  // source name or the copy's name
  int strip_path = 0;
  std::string revision = "latest";
  RestoreDestination destination;
  bool force = false;
  // -R: the dataset, its descendants and their snapshots up to the revision (`zfs send -R`),
  // clones inside the tree received as clones of their origins (origins first, as zfs orders
  // them); into a new name only (--force does not apply).
  bool recursive = false;
  TransportOptions transport;  // kDataset only
};

struct RestoreResult {
  Status status;               // OK, or why nothing (usable) was restored
  bool transferred = false;    // a stream was started (exit 1 on failure instead of 255)
  std::string backup_dataset;  // the copy on the backup host
  std::string snapshot;        // "copy@name" restored
  StreamResult stream;
  double started = 0, ended = 0;
  int ExitCode() const;  // kExitOk, kExitRestoreFailed, kExitFatal
};

// The copy of options.dataset on the backup host and the snapshot options.revision names there
// ("copy@name"); errors say what to check.
Result<std::pair<std::string, std::string>> ResolveBackupSnapshot(const RestoreOptions& options,
                                                                  Zfs& backup);

// `backup`: the host with the copies; `destination`: the host of a kDataset destination (for
// files and stdout: unused, may be the local runner). `log` gets one line per step.
RestoreResult RunRestore(const RestoreOptions& options, CommandRunner& backup,
                         CommandRunner& destination, std::ostream& log);

// The restore's rows: a run with command "restore" and one transfer of kind "restore" (status,
// check and rotation leave such rows out: they are not backups). `history` may be null.
void RecordRestore(History* history, const RestoreOptions& options, const RestoreResult& result,
                   const std::string& backup_host, const std::string& destination_host,
                   std::ostream& err);

}  // namespace zsend::orchestrator
