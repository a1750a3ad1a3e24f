// Test support for zsend-engine send/recv: a temp directory with keys, spawning either side with
// its stderr in a file, reading --announce lines, (faults: tests/support/peers/fault_proxy.h).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace zsend::test {

struct Side {
  pid_t pid = -1;
  std::string err_path;
  RunResult result;  // after Finish()
  std::string err;   // after Finish()
  void Finish();
};

class TransferDir {
 public:
  TransferDir();
  ~TransferDir();
  const std::filesystem::path& path() const { return dir_; }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  // Writes `size` pseudo-random bytes (seeded) to `name`.
  std::string MakeFile(const std::string& name, size_t size, uint32_t seed = 1) const;
  static std::string Read(const std::string& path);
  // Makes a key pair with keygen; returns the public key text.
  std::string Keygen(const std::string& name) const;

  // Starts zsend-engine with args; its stderr goes to a file, stdout to `stdout_fd` (or null).
  Side Start(const std::string& name, std::vector<std::string> args, int stdout_fd = -1) const;
  // Environment added to every process Start() runs (e.g. PATH with a stand-in ssh).
  void SetEnv(const std::string& key, const std::string& value) { env_[key] = value; }
  // Starts a listener with --announce and returns its port (0 on failure).
  Side StartListener(const std::string& name, std::vector<std::string> args, int* port) const;

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

// A stand-in `ssh` at `path`: skips ssh's options and the host, then runs the remote command
// locally with sh -c, as sshd would, after `prefix` ("exec", or a throttle and a pipe). Its
// argv goes to PATH.argv.
void WriteStandInSsh(const std::string& path, const std::string& prefix);

}  // namespace zsend::test
