// SshdServer: see sshd.h. Start-up is: keys -> free port -> config -> spawn -> wait for the
// "Server listening" log line and an SSH banner on the port. If sshd dies because the port was
// taken in between (another test bound it), the whole start is retried on a new port.
#include "tests/support/peers/sshd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.h"

namespace zsend::test {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

std::string Tail(const std::string& text, size_t n = 600) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// A port that was free a moment ago (the kernel's pick for port 0).
int PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// True when 127.0.0.1:port accepts and sends an SSH identification line.
bool AnswersWithSshBanner(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    pollfd p{fd, POLLIN, 0};
    char buf[64] = {};
    if (poll(&p, 1, 3000) == 1 && read(fd, buf, sizeof buf - 1) > 0) {
      ok = std::string(buf).rfind("SSH-2.0-", 0) == 0;
    }
  }
  close(fd);
  return ok;
}

// Every process below `root` (children, grandchildren...), read from /proc.
std::vector<pid_t> Descendants(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = ReadFile("/proc/" + name + "/stat");
    size_t close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(close_paren + 2));
    char state = 0;
    pid_t ppid = 0;
    rest >> state >> ppid;
    children.emplace(ppid, static_cast<pid_t>(std::stoi(name)));
  }
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [begin, end] = children.equal_range(p);
    for (auto it = begin; it != end; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

bool GenerateKey(const std::string& path, std::string* error) {
  RunResult r =
      Run({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "zsend-test", "-f", path});
  if (r.exit_code != 0) *error = "ssh-keygen " + path + " failed: " + r.err;
  return r.exit_code == 0;
}

}  // namespace

SshdServer::SshdServer(const SshdOptions& options) {
  if (!Prepare(options)) return;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (StartOnFreePort(options)) return;
    if (pid_ > 0) return;  // running but never became ready: a real failure, keep the error
    if (ReadFile(log_).find("Address already in use") == std::string::npos) return;
  }
}

SshdServer::~SshdServer() {
  Stop();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

bool SshdServer::Prepare(const SshdOptions&) {
  passwd entry{}, *found = nullptr;
  char buf[4096];
  if (getpwuid_r(geteuid(), &entry, buf, sizeof buf, &found) == 0 && found) user_ = found->pw_name;
  char templ[] = "/tmp/zsend-sshd-XXXXXX";
  if (mkdtemp(templ) == nullptr) {
    error_ = "mkdtemp failed";
    return false;
  }
  dir_ = templ;
  config_ = dir_ + "/sshd_config";
  host_key_ = dir_ + "/host_ed25519";
  identity_ = dir_ + "/client_ed25519";
  known_hosts_ = dir_ + "/known_hosts";
  log_ = dir_ + "/sshd.log";
  mkdir("/run/sshd", 0755);  // privilege separation directory; EEXIST is fine
  mkdir((dir_ + "/home").c_str(), 0700);
  if (!GenerateKey(host_key_, &error_) || !GenerateKey(identity_, &error_)) return false;
  if (!WriteFile(dir_ + "/authorized_keys", ReadFile(identity_ + ".pub"))) {
    error_ = "cannot write authorized_keys in " + dir_;
    return false;
  }
  return true;
}

bool SshdServer::WriteConfig(const SshdOptions& options) {
  std::ostringstream c;
  c << "ListenAddress 127.0.0.1:" << port_ << "\n"
    << "HostKey " << host_key_ << "\n"
    << "PidFile " << dir_ << "/sshd.pid\n"
    << "AuthorizedKeysFile " << dir_ << "/authorized_keys\n"
    << "UsePAM no\n"
    << "PermitRootLogin prohibit-password\n"
    << "PubkeyAuthentication yes\n"
    << "PasswordAuthentication no\n"
    << "KbdInteractiveAuthentication no\n"
    << "StrictModes no\n"  // the key files live under /tmp, which is world-writable
    << "LogLevel VERBOSE\n"
    << "MaxStartups 100\n"
    << "MaxSessions 100\n"
    << "PrintMotd no\n";
  // Sessions get an empty HOME of their own: bash run by sshd reads ~/.bashrc even for a
  // command, and this machine user's startup files (a pyenv init takes seconds under load)
  // would slow every remote command and could change what the tests see. sshd takes only its
  // first SetEnv line, so the caller's SetEnv values join this one.
  std::string set_env = "SetEnv HOME=" + dir_ + "/home";
  for (const std::string& line : options.extra_config) {
    if (line.rfind("SetEnv ", 0) == 0) {
      set_env += line.substr(6);
    } else {
      c << line << "\n";
    }
  }
  c << set_env << "\n";
  return WriteFile(config_, c.str());
}

bool SshdServer::WriteKnownHosts() {
  std::istringstream pub(ReadFile(host_key_ + ".pub"));
  std::string type, key;
  pub >> type >> key;
  std::ostringstream k;
  for (const char* name : {"127.0.0.1", "localhost"}) {
    k << "[" << name << "]:" << port_ << " " << type << " " << key << "\n";
  }
  return WriteFile(known_hosts_, k.str());
}

bool SshdServer::StartOnFreePort(const SshdOptions& options) {
  port_ = PickFreePort();
  if (port_ == 0 || !WriteConfig(options) || !WriteKnownHosts()) {
    error_ = "cannot pick a port or write the sshd config in " + dir_;
    return false;
  }
  int log_fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  SpawnOptions spawn;
  spawn.stderr_fd = log_fd;
  // sshd re-executes itself and so needs an absolute path.
  pid_ = Spawn({"/usr/sbin/sshd", "-D", "-e", "-f", config_}, spawn);
  close(log_fd);
  const std::string listening = "Server listening on 127.0.0.1 port " + std::to_string(port_);
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "sshd exited during start-up: " + Tail(ReadFile(log_));
      return false;
    }
    if (ReadFile(log_).find(listening) != std::string::npos && AnswersWithSshBanner(port_)) {
      error_.clear();
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "sshd did not listen on port " + std::to_string(port_) +
           " within 20 s: " + Tail(ReadFile(log_));
  return false;
}

void SshdServer::Stop() {
  if (pid_ <= 0) return;
  std::vector<pid_t> below = Descendants(pid_);
  kill(pid_, SIGTERM);
  for (pid_t p : below) kill(p, SIGKILL);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_ = -1;
}

std::vector<std::string> SshdServer::SshOptionValues() const {
  return {"UserKnownHostsFile=" + known_hosts_,
          "GlobalKnownHostsFile=/dev/null",
          "StrictHostKeyChecking=yes",
          "BatchMode=yes",
          "IdentitiesOnly=yes",
          "ConnectTimeout=20"};
}

std::vector<std::string> SshdServer::SshArgs() const {
  std::vector<std::string> args{"-p", std::to_string(port_), "-i", identity_};
  for (const std::string& value : SshOptionValues()) {
    args.push_back("-o");
    args.push_back(value);
  }
  return args;
}

std::vector<std::string> SshdServer::SshCommand(const std::string& remote_command) const {
  std::vector<std::string> argv{"ssh"};
  for (std::string& a : SshArgs()) argv.push_back(std::move(a));
  argv.push_back(destination());
  argv.push_back(remote_command);
  return argv;
}

std::string SshdServer::MakeUnauthorizedKey(const std::string& name) const {
  std::string path = dir_ + "/" + name;
  std::string error;
  return GenerateKey(path, &error) ? path : "";
}

}  // namespace zsend::test
