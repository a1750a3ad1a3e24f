// zsend digest-tree PATH [--sample PCT --seed N]: plumbing for `zsend verify`, which runs it on
// each host (locally or over ssh) and compares the outputs. Prints the digest lines of
// orchestrator/verify/digest_tree.h on stdout. Exit code 0, or 255 with a one-line error on
// stderr. Hidden from the help: people use `zsend verify`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "orchestrator/verify/digest_tree.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/exit_codes.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct DigestTreeArgs {
  std::string path;
  DigestOptions options;
};

int RunDigestTree(const DigestTreeArgs& args) {
  std::vector<char> out_buffer(1 << 16);
  std::setvbuf(stdout, out_buffer.data(), _IOFBF, out_buffer.size());
  Result<DigestSummary> walked = WalkDigestTree(args.path, args.options, [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  });
  const bool flushed = std::fflush(stdout) == 0;
  std::setvbuf(stdout, nullptr, _IOFBF, BUFSIZ);
  if (!walked.ok()) {
    std::cerr << "zsend digest-tree: " << walked.status().message() << "\n";
    return kExitFatal;
  }
  if (!flushed) {
    std::cerr << "zsend digest-tree: writing the output failed\n";
    return kExitFatal;
  }
  return kExitOk;
}

}  // namespace

void RegisterDigestTreeCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<DigestTreeArgs>();
  CLI::App* sub = app.add_subcommand(
      "digest-tree", "print the digest lines of a directory tree (plumbing for zsend verify)");
  sub->group("");  // hidden
  sub->add_option("PATH", args->path, "the tree to walk")->required();
  sub->add_option("--sample", args->options.sample_percent,
                  "read the contents of this percentage of the files (default 100)")
      ->check(CLI::Range(0.01, 100.0));
  sub->add_option("--seed", args->options.seed, "the sampling seed (default 0)");
  sub->callback([args, run] { *run = [args] { return RunDigestTree(*args); }; });
}

}  // namespace zsend::cli
