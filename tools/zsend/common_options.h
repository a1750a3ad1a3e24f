// Options several zsend subcommands share, and what they build: the state directory, the
// hosts (local or ssh runners and their zfs layers), the dataset selection, durations and the
// --config job file. The backup subcommand reuses these.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "orchestrator/host/command_runner.h"
#include "orchestrator/host/ssh_runner.h"
#include "orchestrator/zfs/zfs.h"

namespace CLI {
class App;
}

namespace zsend::cli {

struct HostOptions {
  std::string ssh_source;  // [user@]host; empty: local
  std::string ssh_target;
  int ssh_port = 0;
  std::vector<std::string> ssh_options;
  std::string ssh_identity;
};

struct SelectionOptions {
  std::vector<std::string> datasets;
  std::vector<std::string> vms;
  bool include_received = false;  // --include-received
  std::string group;              // default: the backup name
  int strip_path = 0;
};

struct ConfigOptions {
  std::string file;  // --config FILE: positional BACKUP_NAME is then a job name
};

// The arguments of a subcommand that works on one backup job (prune, list, verify): its
// positional BACKUP_NAME and TARGET_PATH, the state directory, hosts, selection and --config.
struct JobArgs {
  std::string backup_name;
  std::string target_path;
  std::string state_dir;
  HostOptions hosts;
  SelectionOptions selection;
  ConfigOptions config;
  CLI::App* app = nullptr;  // the subcommand (ApplyConfig reads which options were given)
};

// The one-line error of subcommand `command` ("zsend COMMAND: MESSAGE") on stderr; kExitFatal.
int FatalError(const char* command, const Status& status);

void AddStateDirOption(CLI::App& app, std::string* state_dir);
void AddHostOptions(CLI::App& app, HostOptions* options);
void AddSelectionOptions(CLI::App& app, SelectionOptions* options);
void AddConfigOption(CLI::App& app, ConfigOptions* options);
// The host, selection, --config and --state-dir options of a job subcommand `app`, into `args`.
void AddJobOptions(CLI::App& app, JobArgs* args);
// --syslog: the subcommand's output lines go to syslog too (orchestrator/report/syslog_tee.h).
void AddSyslogOption(CLI::App& app, bool* syslog);

// Fills options of `app` not given on the command line from the job's config; replaces
// *backup_name (the job name) with the job's backup name and fills *target_path when empty.
Status ApplyConfig(CLI::App& app, const ConfigOptions& config, std::string* backup_name,
                   std::string* target_path);

// The runners of one run: ssh ones for remote sides, the local one otherwise.
class Hosts {
 public:
  explicit Hosts(const HostOptions& options);
  orchestrator::CommandRunner& local() { return local_; }
  orchestrator::CommandRunner& source() {
    return source_ ? static_cast<orchestrator::CommandRunner&>(*source_) : local_;
  }
  orchestrator::CommandRunner& target() {
    return target_ ? static_cast<orchestrator::CommandRunner&>(*target_) : local_;
  }
  // Starts the ssh masters; an error names the host.
  Status ConnectSource();
  Status ConnectTarget();

 private:
  orchestrator::LocalRunner local_;
  std::unique_ptr<orchestrator::SshRunner> source_;
  std::unique_ptr<orchestrator::SshRunner> target_;
};

// Datasets of the job on the source: --dataset, else --vm, else the zsend:NAME property.
Result<std::vector<std::string>> SelectDatasets(orchestrator::Zfs& source,
                                                orchestrator::CommandRunner& source_runner,
                                                const std::string& backup_name,
                                                const SelectionOptions& options);
// The same, for a command that needs at least one: none is an error naming the fix.
Result<std::vector<std::string>> SelectJobDatasets(orchestrator::Zfs& source,
                                                   orchestrator::CommandRunner& source_runner,
                                                   const std::string& backup_name,
                                                   const SelectionOptions& options);

// "90" (seconds), "30min", "26h", "7d", "2w", "1m" (30 days), "1y".
Result<double> ParseDuration(const std::string& text, const std::string& what);

// Seconds since the epoch, now.
double Now();

// An ssh runner for `destination` with the options' port, identity and -o options; null for "".
std::unique_ptr<orchestrator::SshRunner> MakeSshRunner(const HostOptions& options,
                                                       const std::string& destination,
                                                       orchestrator::CommandRunner& local);

// zsend-engine beside this program (build trees, installs), else the one on PATH.
std::string LocalEngine();

}  // namespace zsend::cli
