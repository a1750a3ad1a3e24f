// zsend-engine keygen -o FILE [--force]: makes a Curve25519 identity key pair for send/recv.
// Writes the private key to FILE (mode 0600) and the public key to FILE.pub, and prints the
// public key (the same line as FILE.pub) on stdout. keygen -y FILE prints the public key of an
// existing private key FILE (refusing it, like send/recv will, when group or others can read it).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "engine/crypto/keys.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"

namespace zsend::tool {
namespace {

struct KeygenFlags {
  std::string output, show_public_of;
  bool force = false;
};

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

int ShowPublicKey(const std::string& path) {
  Result<noise::KeyPair> pair = LoadPrivateKeyFile(path);
  if (!pair.ok()) {
    std::fprintf(stderr, "zsend-engine keygen: %s\n", pair.status().message().c_str());
    return pair.status().code() == StatusCode::kNotFound ? kExitInput : kExitUsage;
  }
  std::printf("%s\n", FormatPublicKey(pair->public_key).c_str());
  return kExitOk;
}

int RunKeygen(const KeygenFlags& flags) {
  if (!flags.show_public_of.empty()) return ShowPublicKey(flags.show_public_of);
  if (flags.output.empty()) {
    std::fprintf(stderr, "zsend-engine keygen: pass -o FILE (or -y FILE to show a public key)\n");
    return kExitUsage;
  }
  const std::string public_path = flags.output + ".pub";
  for (const std::string& path : {flags.output, public_path}) {
    if (!flags.force && Exists(path)) {
      std::fprintf(stderr,
                   "zsend-engine keygen: %s already exists; pass --force to replace it or choose "
                   "another -o FILE\n",
                   path.c_str());
      return kExitUsage;
    }
  }
  const noise::KeyPair pair = noise::KeyPair::Generate();
  Status status = WritePrivateKeyFile(flags.output, pair, flags.force);
  if (status.ok()) status = WritePublicKeyFile(public_path, pair.public_key, flags.force);
  if (!status.ok()) {
    std::fprintf(stderr, "zsend-engine keygen: %s\n", status.message().c_str());
    return status.code() == StatusCode::kFailedPrecondition ? kExitUsage : kExitOutput;
  }
  std::printf("%s\n", FormatPublicKey(pair.public_key).c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "zsend-engine keygen: wrote %s (private, mode 0600) and %s\n",
               flags.output.c_str(), public_path.c_str());
  return kExitOk;
}

}  // namespace

void RegisterKeygenCommand(CLI::App& app, CommandRun* run) {
  auto flags = std::make_shared<KeygenFlags>();
  CLI::App* cmd = app.add_subcommand(
      "keygen", "Make a key pair for send/recv: FILE (private, mode 0600) and FILE.pub");
  cmd->footer(kExitCodeHelp);
  CLI::Option* output =
      cmd->add_option("-o,--output", flags->output, "Private key file to write (FILE.pub too)");
  CLI::Option* show = cmd->add_option("-y,--public-of", flags->show_public_of,
                                      "Print the public key of an existing private key FILE");
  output->excludes(show);
  cmd->add_flag("-f,--force", flags->force, "Replace FILE and FILE.pub if they exist");
  cmd->callback([flags, run] { *run = [flags] { return RunKeygen(*flags); }; });
}

}  // namespace zsend::tool
