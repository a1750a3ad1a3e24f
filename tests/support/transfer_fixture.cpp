#include "tests/support/transfer_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "tests/support/subprocess.h"

namespace zsend::test {

void Side::Finish() {
  result = Wait(pid);
  err = TransferDir::Read(err_path);
}

TransferDir::TransferDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "zsend-transfer-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  dir_ = pattern;
}

TransferDir::~TransferDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string TransferDir::MakeFile(const std::string& name, size_t size, uint32_t seed) const {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  std::ofstream(Path(name), std::ios::binary) << data;
  return Path(name);
}

std::string TransferDir::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string TransferDir::Keygen(const std::string& name) const {
  RunResult r = Run({BinPath("zsend-engine"), "keygen", "-o", Path(name)});
  std::string pub = r.out;
  while (!pub.empty() && pub.back() == '\n') pub.pop_back();
  return pub;
}

Side TransferDir::Start(const std::string& name, std::vector<std::string> args,
                        int stdout_fd) const {
  Side side;
  side.err_path = Path(name + ".err");
  int err = ::open(side.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  args.insert(args.begin(), BinPath("zsend-engine"));
  SpawnOptions options;
  options.stderr_fd = err;
  options.stdout_fd = stdout_fd;
  options.env = env_;
  side.pid = Spawn(args, options);
  ::close(err);
  return side;
}

Side TransferDir::StartListener(const std::string& name, std::vector<std::string> args,
                                int* port) const {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
  args.insert(args.end(), {"--listen", "127.0.0.1:0", "--announce"});
  Side side = Start(name, args, fds[1]);
  ::close(fds[1]);
  std::string line;
  char c;
  pollfd p{fds[0], POLLIN, 0};
  while (::poll(&p, 1, 10000) > 0 && ::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  *port = 0;
  const size_t at = line.find("\"port\":");
  if (at != std::string::npos) *port = std::atoi(line.c_str() + at + 7);
  return side;
}

// A stand-in `ssh` at `path`: skips ssh's options and the host, then runs the remote command
// locally with sh -c, as sshd would, after `prefix` ("exec", or a throttle and a pipe).
void WriteStandInSsh(const std::string& path, const std::string& prefix) {
  std::ofstream(path) << "#!/bin/sh\n"
                         "printf '%s\\n' \"$@\" > \"$0.argv\"\n"
                         "while [ $# -gt 0 ]; do case \"$1\" in\n"
                         "  -e|-o|-p) shift 2 ;;\n"
                         "  -*) shift ;;\n"
                         "  *) break ;;\n"
                         "esac; done\n"
                         "shift\n"
                      << prefix << " sh -c \"$*\"\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
}

}  // namespace zsend::test
