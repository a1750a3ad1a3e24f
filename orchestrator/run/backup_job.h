// RunBackupJob: one `zsend backup` job from its checked options to its exit code, the policy
// around RunBackup (backup_run.h):
//
//   1. take the job's run lock and open its history (a dry run takes no lock and only reads the
//      history, when there is one); a row still "running" from a killed run is ended
//   2. begin the run's history row, connect to the ssh hosts (an unreachable target is fatal
//      unless --no-send), wrap the runners for --debug and --dry-run
//   3. RunBackup, then print the dataset lines and the summary (or the --json document)
//   4. after SIGINT/SIGTERM/SIGHUP: the datasets' rows, no rotation, exit 128 + the signal
//   5. rotate both sides (backup_steps.h), write the dataset rows with their snapshot counts,
//      end the run row, mail when due
//
// Exit code: the datasets whose transfer or rotation failed (at most kMaxFailureCount), at least
// 1 when the mail could not be sent; kExitFatal when nothing was transferred (the lock held,
// a host unreachable, a fatal RunBackup error); kBackupInterruptedBase + the signal.
//
// RunBackupOnHosts is steps 3 to 5 over runners the caller made (tests: fake zfs hosts).
// Call from the main thread; the run's interrupt handlers are the caller's (run_interrupt.h).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "orchestrator/host/ssh_runner.h"
#include "orchestrator/report/mail_send.h"
#include "orchestrator/run/backup_run.h"
#include "orchestrator/run/backup_steps.h"
#include "orchestrator/run/exit_codes.h"

namespace zsend::orchestrator {

struct BackupJob {
  BackupOptions options;  // checked by the caller
  BackupRotation rotation;
  MailOptions mail;
  std::string state_dir;
  std::string ssh_source;  // [user@]host; "" : local
  std::string ssh_target;
  SshOptions ssh;  // port, identity and -o options for both hosts (destination unused)
  double command_timeout = kDefaultCommandTimeoutSeconds;
  bool debug = false;  // print every command (also sets options.verbose)
  bool json = false;   // the result as JSON on `out`; the lines then go to `err`
  // The progress display on `err` while the streams move (progress_board.h); none in dry-run.
  enum class Progress { kOff, kTerminal, kLines } progress = Progress::kOff;
  int terminal_width = 80;  // columns of the terminal (kTerminal)
  // Where the display is drawn when not `err` (the CLI's stderr before --syslog's tee, so the
  // redraws stay out of syslog); not owned, may be null.
  std::ostream* progress_out = nullptr;
};

// `out` gets the dataset lines, the summary, rotation lines (or the JSON) and dry-run lines;
// `err` messages, progress and --debug lines.
int RunBackupJob(BackupJob job, std::ostream& out, std::ostream& err);

// Steps 3 to 5 of the run: `book` holds the run's history row (begun), `history` may be null
// (dry run, or no history), `target_error` says why the target is unreachable (--no-send).
int RunBackupOnHosts(const BackupJob& job, RunBook& book, CommandRunner& source,
                     CommandRunner& target, Status target_error, History* history,
                     std::ostream& out, std::ostream& err);

}  // namespace zsend::orchestrator
