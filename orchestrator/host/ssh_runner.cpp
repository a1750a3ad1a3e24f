#include "orchestrator/host/ssh_runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

namespace zsend::orchestrator {
namespace {}  // namespace

std::vector<std::string> KeepAliveOptions(const SshOptions& options) {
  return {"ServerAliveInterval=" + std::to_string(options.alive_interval_seconds),
          "ServerAliveCountMax=" + std::to_string(options.alive_count_max),
          "ConnectTimeout=" + std::to_string(options.connect_timeout_seconds)};
}

namespace {

// Options every ssh call gets before the user's own -o options (ssh keeps the first value it
// sees for an option, so these cannot be overridden by accident).
void AppendCommonOptions(const SshOptions& options, const std::string& control_path,
                         std::vector<std::string>& argv) {
  argv.insert(argv.end(), {"-o", "ControlPath=" + control_path, "-o", "BatchMode=yes"});
  if (options.port > 0) argv.insert(argv.end(), {"-p", std::to_string(options.port)});
  if (!options.identity_file.empty()) argv.insert(argv.end(), {"-i", options.identity_file});
  for (const std::string& option : options.ssh_options) argv.insert(argv.end(), {"-o", option});
  // After the user's options, so an --ssh-option of the same name wins: a host that stops
  // answering (blackholed, suspended) fails the command instead of hanging the run.
  for (const std::string& option : KeepAliveOptions(options)) {
    argv.insert(argv.end(), {"-o", option});
  }
}

bool Contains(const std::string& text, const char* needle) {
  return text.find(needle) != std::string::npos;
}

// A directory for the control socket: short enough for a unix socket path (108 bytes).
Result<std::string> MakeControlDir() {
  std::string base = "/tmp";
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp && std::string(tmp).size() < 60) {
    base = tmp;
  }
  std::string pattern = base + "/zsend-ssh-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return ErrnoStatus("cannot create a directory for the ssh control socket in " + base, errno);
  }
  chmod(pattern.c_str(), 0700);
  return pattern;
}

}  // namespace

SshRunner::SshRunner(SshOptions options, CommandRunner& local)
    : options_(std::move(options)), local_(local) {}

SshRunner::~SshRunner() {
  Close();
}

std::vector<std::string> SshRunner::BuildArgv(const SshOptions& options,
                                              const std::string& control_path,
                                              const std::vector<std::string>& remote_argv) {
  std::vector<std::string> argv = {options.ssh_program, "-o", "ControlMaster=no"};
  AppendCommonOptions(options, control_path, argv);
  argv.insert(argv.end(), {"--", options.destination, ShellJoin(remote_argv)});
  return argv;
}

std::vector<std::string> SshRunner::BuildMasterArgv(const SshOptions& options,
                                                    const std::string& control_path) {
  // The master ends itself after 10 idle minutes: a safety net should this process die
  // before Close(). Connect() starts a new one when the socket is gone.
  std::vector<std::string> argv = {options.ssh_program, "-M", "-N", "-f", "-o",
                                   "ControlPersist=600"};
  AppendCommonOptions(options, control_path, argv);
  argv.insert(argv.end(), {"--", options.destination});
  return argv;
}

std::vector<std::string> SshRunner::BuildExitArgv(const SshOptions& options,
                                                  const std::string& control_path) {
  std::vector<std::string> argv = {options.ssh_program, "-o", "ControlPath=" + control_path, "-O",
                                   "exit"};
  if (options.port > 0) argv.insert(argv.end(), {"-p", std::to_string(options.port)});
  argv.insert(argv.end(), {"--", options.destination});
  return argv;
}

Status SshRunner::ClassifySshFailure(const std::string& destination, const CommandOutput& output) {
  if (output.exit_code != 255) return Status::Ok();
  const std::string& err = output.err;
  const std::string who = "ssh " + destination + ": ";
  if (Contains(err, "REMOTE HOST IDENTIFICATION HAS CHANGED")) {
    return FailedPrecondition(who +
                              "the host key has changed since it was recorded in known_hosts; "
                              "check the host, then remove the old key with ssh-keygen -R");
  }
  if (Contains(err, "Host key verification failed") ||
      Contains(err, "No ED25519 host key is known") || Contains(err, "host key is known")) {
    return FailedPrecondition(
        who +
        "host key verification failed (the host is not in known_hosts); add it with "
        "ssh-keyscan or pass --ssh-option StrictHostKeyChecking=accept-new");
  }
  if (Contains(err, "Permission denied") || Contains(err, "Too many authentication failures")) {
    return Status(StatusCode::kPermissionDenied,
                  who + "authentication failed (" + output.FirstErrorLine() +
                      "); install the public key of --ssh-identity in the remote "
                      "authorized_keys (BatchMode is on: no password prompts)");
  }
  if (Contains(err, "Could not resolve hostname")) {
    return Status(StatusCode::kNotFound, who + "cannot resolve the host name; check the name");
  }
  if (Contains(err, "Connection refused") || Contains(err, "timed out") ||
      Contains(err, "No route to host") || Contains(err, "Connection closed") ||
      Contains(err, "kex_exchange_identification") || Contains(err, "Control socket") ||
      Contains(err, "mux_client")) {
    return Unavailable(who + "cannot connect (" + output.FirstErrorLine() +
                       "); check that sshd runs and the port is right");
  }
  return Status::Ok();
}

Status SshRunner::Connect() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (connected_ && access(control_path_.c_str(), F_OK) == 0) return Status::Ok();
  connected_ = false;  // never started, or the master timed out
  if (control_dir_.empty()) {
    Result<std::string> dir = MakeControlDir();
    if (!dir.ok()) return dir.status();
    control_dir_ = *dir;
    control_path_ = control_dir_ + "/master";
  }
  Command start{BuildMasterArgv(options_, control_path_), Effect::kReadOnly, ""};
  Result<CommandOutput> output = local_.Run(start);
  if (!output.ok()) return output.status().WithContext("ssh " + options_.destination);
  if (!output->ok()) {
    Status classified = ClassifySshFailure(options_.destination, *output);
    if (!classified.ok()) return classified;
    return Unavailable("ssh " + options_.destination + ": cannot start the control connection (" +
                       output->FirstErrorLine() + ")");
  }
  connected_ = true;
  return Status::Ok();
}

void SshRunner::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (connected_) {
    Command stop{BuildExitArgv(options_, control_path_), Effect::kReadOnly, ""};
    stop.cleanup = true;
    (void)local_.Run(stop);
    connected_ = false;
  }
  if (!control_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(control_dir_, ignored);
    control_dir_.clear();
  }
}

Result<std::vector<std::string>> SshRunner::StreamArgv(const std::vector<std::string>& argv) {
  ZSEND_RETURN_IF_ERROR(Connect());
  std::lock_guard<std::mutex> lock(mutex_);
  return BuildArgv(options_, control_path_, argv);
}

Result<CommandOutput> SshRunner::Run(const Command& command) {
  ZSEND_RETURN_IF_ERROR(Connect());
  std::string control_path;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    control_path = control_path_;
  }
  Command remote = command;
  remote.argv = BuildArgv(options_, control_path, command.argv);
  Result<CommandOutput> output = local_.Run(remote);
  if (!output.ok()) return output.status().WithContext("ssh " + options_.destination);
  Status classified = ClassifySshFailure(options_.destination, *output);
  if (!classified.ok()) return classified;
  return output;
}

}  // namespace zsend::orchestrator
