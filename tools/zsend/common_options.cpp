#include "tools/zsend/common_options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "orchestrator/plan/selection.h"
#include "orchestrator/report/history.h"
#include "orchestrator/retention/retention_rules.h"
#include "orchestrator/run/exit_codes.h"
#include "orchestrator/run/job_config.h"

namespace zsend::cli {

using namespace orchestrator;

int FatalError(const char* command, const Status& status) {
  std::cerr << "zsend " << command << ": " << status.message() << "\n";
  return orchestrator::kExitFatal;
}

void AddJobOptions(CLI::App& app, JobArgs* args) {
  args->app = &app;
  AddHostOptions(app, &args->hosts);
  AddSelectionOptions(app, &args->selection);
  AddConfigOption(app, &args->config);
  AddStateDirOption(app, &args->state_dir);
}

void AddStateDirOption(CLI::App& app, std::string* state_dir) {
  *state_dir = kDefaultStateDir;
  app.add_option("--state-dir", *state_dir,
                 "directory of the history database and run locks (default /var/lib/zsend)");
}

void AddHostOptions(CLI::App& app, HostOptions* options) {
  app.add_option("--ssh-source", options->ssh_source, "source is remote: [USER@]HOST");
  app.add_option("--ssh-target", options->ssh_target, "target is remote: [USER@]HOST");
  app.add_option("--ssh-port", options->ssh_port, "ssh port of the remote hosts");
  app.add_option("--ssh-option", options->ssh_options, "ssh -o OPTION (repeatable)");
  app.add_option("--ssh-identity", options->ssh_identity, "ssh identity file");
}

void AddSelectionOptions(CLI::App& app, SelectionOptions* options) {
  app.add_option("--dataset", options->datasets, "these datasets instead of property selection");
  app.add_option("--vm", options->vms, "SmartOS: the datasets of this VM (vmadm get UUID)");
  app.add_flag("--include-received", options->include_received,
               "also datasets whose zsend:NAME arrived by zfs receive (copies)");
  app.add_option("--group", options->group, "snapshot prefix (default BACKUP_NAME)");
  app.add_option("--strip-path", options->strip_path,
                 "leading source path components left out of target names");
}

void AddConfigOption(CLI::App& app, ConfigOptions* options) {
  app.add_option("--config", options->file,
                 "JSON job file: BACKUP_NAME is a job name there (docs/configuration.md)");
}

void AddSyslogOption(CLI::App& app, bool* syslog) {
  app.add_flag("--syslog", *syslog,
               "also send every output line to syslog (ident zsend, facility user)");
}

Status ApplyConfig(CLI::App& app, const ConfigOptions& config, std::string* backup_name,
                   std::string* target_path) {
  if (config.file.empty()) return Status::Ok();
  Result<JobConfig> job = LoadJobConfig(config.file, *backup_name);
  if (!job.ok()) return job.status();
  for (const auto& [key, values] : job->options) {
    CLI::Option* option = app.get_option_no_throw("--" + key);
    if (option == nullptr) {
      // Keys for other subcommands (backup's --transport, say) are fine in a shared job.
      continue;
    }
    if (option->count() > 0) continue;  // the command line wins
    try {
      for (const std::string& value : values) option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return InvalidArgument(config.file + ": jobs." + job->job + "." + key + ": " + e.what());
    }
  }
  *backup_name = job->backup_name;
  if (target_path != nullptr && target_path->empty()) *target_path = job->target_path;
  return Status::Ok();
}

std::unique_ptr<SshRunner> MakeSshRunner(const HostOptions& options, const std::string& destination,
                                         CommandRunner& local) {
  if (destination.empty()) return nullptr;
  SshOptions ssh;
  ssh.destination = destination;
  ssh.port = options.ssh_port;
  ssh.identity_file = options.ssh_identity;
  ssh.ssh_options = options.ssh_options;
  return std::make_unique<SshRunner>(ssh, local);
}

Hosts::Hosts(const HostOptions& options)
    : source_(MakeSshRunner(options, options.ssh_source, local_)),
      target_(MakeSshRunner(options, options.ssh_target, local_)) {}

Status Hosts::ConnectSource() {
  return source_ ? source_->Connect() : Status::Ok();
}

Status Hosts::ConnectTarget() {
  return target_ ? target_->Connect() : Status::Ok();
}

Result<std::vector<std::string>> SelectDatasets(Zfs& source, CommandRunner& source_runner,
                                                const std::string& backup_name,
                                                const SelectionOptions& options) {
  if (!options.datasets.empty()) return CheckNamedDatasets(source, options.datasets);
  if (!options.vms.empty()) {
    std::vector<std::string> all;
    for (const std::string& vm : options.vms) {
      Result<std::vector<std::string>> datasets = VmDatasets(source_runner, vm);
      if (!datasets.ok()) return datasets.status();
      all.insert(all.end(), datasets->begin(), datasets->end());
    }
    return CheckNamedDatasets(source, all);
  }
  Result<std::vector<SelectionDecision>> decisions =
      SelectByProperty(source, backup_name, {}, options.include_received);
  if (!decisions.ok()) return decisions.status();
  return SelectedNames(*decisions);
}

Result<std::vector<std::string>> SelectJobDatasets(Zfs& source, CommandRunner& source_runner,
                                                   const std::string& backup_name,
                                                   const SelectionOptions& options) {
  Result<std::vector<std::string>> datasets =
      SelectDatasets(source, source_runner, backup_name, options);
  if (datasets.ok() && datasets->empty()) {
    return FailedPrecondition("no datasets selected for backup '" + backup_name +
                              "': set zsend:" + backup_name + "=true on them or pass --dataset");
  }
  return datasets;
}

Result<double> ParseDuration(const std::string& text, const std::string& what) {
  bool digits = !text.empty();
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (digits && text.size() < 12) return static_cast<double>(std::stoll(text));
  Result<double> seconds = ParseThinningDuration(text);
  if (!seconds.ok()) return InvalidArgument(what + ": " + seconds.status().message());
  return seconds;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string LocalEngine() {
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    std::filesystem::path beside = self.parent_path() / "zsend-engine";
    if (access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  return "zsend-engine";
}

}  // namespace zsend::cli
