#include "orchestrator/transport/transport.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/engine_contract.h"
#include "orchestrator/host/process_chain.h"
#include "orchestrator/transport/engine_transport.h"
#include "orchestrator/transport/session_mover.h"

namespace zsend::orchestrator {
namespace {

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string NextStatsFile(const std::string& dir) {
  static std::atomic<int> counter{0};
  return dir + "/stream-" + std::to_string(++counter) + ".json";
}

std::string Trimmed(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? "" : text.substr(0, end + 1);
}

// zfs send | zsend-engine buffer | zfs recv.
class PipeMover : public StreamMover {
 public:
  PipeMover(CommandRunner& source, CommandRunner& target, TransportOptions options)
      : source_(source), target_(target), options_(std::move(options)) {}

  StreamResult Move(const StreamCommand& command) override {
    StreamResult result;
    result.transport = "pipe";
    std::string stats = NextStatsFile(options_.temp_dir);
    Result<std::vector<std::vector<std::string>>> stages =
        PipeStages(source_, target_, command, options_, stats);
    if (!stages.ok()) {
      result.status = stages.status();
      return result;
    }
    if (options_.dry_run) {
      std::string line;
      for (const std::vector<std::string>& stage : *stages) {
        line += (line.empty() ? "" : " | ") + ShellJoin(stage);
      }
      *options_.dry_run_out << "dry-run [pipe]: " << line << "\n";
      return result;
    }
    ProgressScope progress(options_.progress, command.label, command.expected_bytes);
    std::vector<ChainStage> chain;
    for (size_t i = 0; i < stages->size(); ++i) {
      chain.push_back({(*stages)[i], false, {}});
    }
    if (progress.enabled()) {
      chain[1].on_fd3_line = [&progress](const std::string& line) { progress.Line(line); };
    }
    Result<ChainResult> ran = RunProcessChain(chain, options_.timeout_seconds);
    if (!ran.ok()) {
      result.status = ran.status();
      result.data_moved = true;
      std::remove(stats.c_str());
      return result;
    }
    result.seconds = ran->seconds;
    std::string json = ReadWhole(stats);
    std::remove(stats.c_str());
    nlohmann::json figures = nlohmann::json::parse(json, nullptr, false);
    if (figures.is_object() && figures.contains(engine_contract::kStatsBytesOut)) {
      result.bytes = figures[engine_contract::kStatsBytesOut].get<uint64_t>();
      result.wire_bytes = result.bytes;  // the stream crosses a pipe (or ssh) unchanged
    }
    result.data_moved = result.bytes > 0 || !figures.is_object();
    // Report the stage where the failure started. A zfs send that failed on its own (not from
    // a broken pipe) starves the others; otherwise a failed receive breaks the pipe for the
    // buffer and zfs send, so the receive is checked before them.
    auto broke_pipe = [](const StageResult& stage) {
      return stage.exit_code == 128 + SIGPIPE || stage.err.find("roken pipe") != std::string::npos;
    };
    const char* names[] = {"zfs send", "the local buffer", "zfs receive"};
    std::vector<int> order = {2, 0, 1};
    if (ran->stages[0].exit_code != 0 && !broke_pipe(ran->stages[0])) order = {0, 2, 1};
    // The buffer's watchdog (-W) fired: a stage stopped moving and was stopped afterwards; the
    // watchdog's message says which side stalled.
    if (ran->stages[1].exit_code == engine_contract::kExitTimeout) order = {1, 2, 0};
    if (!ran->stalled.empty()) {
      result.failed_command = ShellJoin(command.recv_argv);
      result.failed_stderr = Trimmed(ran->stages[2].err);
      result.status =
          DeadlineExceeded("zfs receive on " + target_.HostLabel() + ": " + ran->stalled);
      return result;
    }
    for (int i : order) {
      const StageResult& stage = ran->stages[static_cast<size_t>(i)];
      if (stage.exit_code == 0) continue;
      if (i != 2 && broke_pipe(stage)) continue;
      const std::vector<std::string>& argv =
          i == 0 ? command.send_argv : (i == 2 ? command.recv_argv : (*stages)[1]);
      CommandRunner& host = i == 0 ? source_ : (i == 2 ? target_ : local_);
      result.failed_command = ShellJoin(argv);
      result.failed_stderr = Trimmed(stage.err);
      std::string first_line = result.failed_stderr.substr(0, result.failed_stderr.find('\n'));
      result.status =
          Aborted(std::string(names[i]) + " failed (exit " + std::to_string(stage.exit_code) +
                  ") on " + host.HostLabel() + (first_line.empty() ? "" : ": " + first_line));
      return result;
    }
    int failed = ran->FirstFailed();
    if (failed >= 0) {  // only broken pipes: still not a complete transfer
      result.failed_command = ShellJoin((*stages)[static_cast<size_t>(failed)]);
      result.failed_stderr = Trimmed(ran->stages[static_cast<size_t>(failed)].err);
      result.status = Aborted(std::string(names[failed]) + " failed (exit " +
                              std::to_string(ran->stages[static_cast<size_t>(failed)].exit_code) +
                              "): the stream was cut");
    }
    return result;
  }

 private:
  CommandRunner& source_;
  CommandRunner& target_;
  LocalRunner local_;
  TransportOptions options_;
};

}  // namespace

std::string EngineProgram(const CommandRunner& host, const TransportOptions& options) {
  if (host.IsRemote())
    return options.remote_engine.empty() ? "zsend-engine" : options.remote_engine;
  return options.local_engine;
}

std::string EngineSeconds(double seconds) {
  return std::to_string(static_cast<int64_t>(seconds < 1 ? 1 : seconds));
}

Result<TransportKind> ParseTransportKind(const std::string& text) {
  if (text == "auto") return TransportKind::kAuto;
  if (text == "tcp") return TransportKind::kTcp;
  if (text == "ssh") return TransportKind::kSsh;
  if (text == "pipe") return TransportKind::kPipe;
  return InvalidArgument("--transport must be auto, tcp, ssh or pipe, not '" + text + "'");
}

const char* TransportKindName(TransportKind kind) {
  switch (kind) {
    case TransportKind::kAuto:
      return "auto";
    case TransportKind::kTcp:
      return "tcp";
    case TransportKind::kSsh:
      return "ssh";
    case TransportKind::kPipe:
      return "pipe";
  }
  return "?";
}

Result<std::vector<std::vector<std::string>>> PipeStages(CommandRunner& source,
                                                         CommandRunner& target,
                                                         const StreamCommand& command,
                                                         const TransportOptions& options,
                                                         const std::string& stats_file) {
  Result<std::vector<std::string>> send = source.StreamArgv(command.send_argv);
  if (!send.ok()) return send.status();
  Result<std::vector<std::string>> recv = target.StreamArgv(command.recv_argv);
  if (!recv.ok()) return recv.status();
  std::vector<std::string> buffer = {options.local_engine, "buffer", "-m", options.memory};
  if (!options.rate_limit.empty()) buffer.insert(buffer.end(), {"-R", options.rate_limit});
  if (options.timeout_seconds > 0) {
    buffer.insert(
        buffer.end(),
        {"-W", std::to_string(static_cast<int64_t>(std::max(1.0, options.timeout_seconds)))});
  }
  buffer.push_back("-q");
  // The buffer reports the stream's bytes on descriptor 3 (RunProcessChain's on_fd3_line).
  if (options.progress) buffer.insert(buffer.end(), {"--progress-fd", "3"});
  if (!stats_file.empty()) buffer.insert(buffer.end(), {"--json-stats", stats_file});
  return std::vector<std::vector<std::string>>{*send, buffer, *recv};
}

std::unique_ptr<StreamMover> MakeStreamMover(CommandRunner& source, CommandRunner& target,
                                             const TransportOptions& options) {
  auto pipe = std::make_unique<PipeMover>(source, target, options);
  if (options.kind == TransportKind::kPipe) return pipe;
  std::unique_ptr<StreamMover> engine = MakeEngineMover(source, target, options, std::move(pipe));
  // A session is served by the far host for the near one (session_mover.h).
  const bool session =
      !options.session_roots.empty() && !options.dry_run && options.kind != TransportKind::kSsh;
  if (!session) return engine;
  return MakeSessionMover(source, target, options, std::move(engine));
}

}  // namespace zsend::orchestrator
