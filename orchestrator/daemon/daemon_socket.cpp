#include "orchestrator/daemon/daemon_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace zsend::orchestrator {
namespace {

Result<sockaddr_un> Address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return InvalidArgument("socket path " + path + " is too long; use a shorter --state-dir");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

bool WaitFor(int fd, short events, double seconds) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = poll(&p, 1, static_cast<int>(seconds * 1000));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

}  // namespace

std::string DaemonSocketPath(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "daemon.sock").string();
}

Result<int> ListenDaemonSocket(const std::string& state_dir) {
  const std::string path = DaemonSocketPath(state_dir);
  Result<sockaddr_un> address = Address(path);
  if (!address.ok()) return address.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("socket: ") + std::strerror(errno));
  unlink(path.c_str());  // a socket left by a daemon that was killed
  const mode_t old_mask = umask(0177);
  const int bound = bind(fd, reinterpret_cast<sockaddr*>(&*address), sizeof *address);
  umask(old_mask);
  if (bound != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd, 16) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return Unavailable(path + ": " + error);
  }
  return fd;
}

Result<std::string> ReadRequest(int fd, double seconds) {
  std::string line;
  char buffer[512];
  while (line.find('\n') == std::string::npos && line.size() < 4096) {
    if (!WaitFor(fd, POLLIN, seconds)) return Unavailable("no request");
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    line.append(buffer, static_cast<size_t>(got));
  }
  const size_t end = line.find('\n');
  return end == std::string::npos ? line : line.substr(0, end);
}

void WriteAnswer(int fd, const std::string& answer) {
  size_t done = 0;
  while (done < answer.size() && WaitFor(fd, POLLOUT, 2)) {
    const ssize_t put = write(fd, answer.data() + done, answer.size() - done);
    if (put < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (put <= 0) return;
    done += static_cast<size_t>(put);
  }
}

Result<std::string> AskDaemon(const std::string& state_dir, const std::string& request) {
  const std::string path = DaemonSocketPath(state_dir);
  Result<sockaddr_un> address = Address(path);
  if (!address.ok()) return address.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<sockaddr*>(&*address), sizeof *address) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    return Unavailable("no zsend daemon answers on " + path + " (" + error +
                       "); start it with zsend daemon --config FILE, or give its --state-dir");
  }
  const std::string line = request + "\n";
  WriteAnswer(fd, line);
  std::string answer;
  char buffer[4096];
  while (WaitFor(fd, POLLIN, 10)) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    answer.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  if (answer.empty()) return Unavailable("the zsend daemon on " + path + " did not answer");
  return answer;
}

}  // namespace zsend::orchestrator
