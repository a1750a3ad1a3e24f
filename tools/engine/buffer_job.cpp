#include "tools/engine/buffer_job.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/engine_contract.h"
#include "base/private_file.h"
#include "base/units.h"
#include "tools/engine/exit_codes.h"
#include "tools/engine/progress_fd.h"
#include "tools/engine/progress_line.h"
#include "tools/engine/signals.h"
#include "transports/tcp.h"

namespace zsend::tool {
namespace {

bool IsNetwork(const Endpoint& e) {
  return e.kind == Endpoint::Kind::kTcpListen || e.kind == Endpoint::Kind::kTcpConnect;
}

// Messages go to stderr and, with mbuffer's -l, to the log file too.
class Messages {
 public:
  Messages(const BufferJob& job) : program_(job.program) {
    if (!job.log_path.empty()) log_ = std::fopen(job.log_path.c_str(), "a");
  }
  ~Messages() {
    if (log_ != nullptr) std::fclose(log_);
  }
  void Say(const std::string& line, bool to_stderr = true, bool to_log = true) {
    if (to_stderr) std::fprintf(stderr, "%s: %s\n", program_.c_str(), line.c_str());
    if (to_log && log_ != nullptr) std::fprintf(log_, "%s: %s\n", program_.c_str(), line.c_str());
  }

 private:
  std::string program_;
  std::FILE* log_ = nullptr;
};

Result<std::unique_ptr<ByteSource>> OpenInput(const BufferJob& job, int* exit_code) {
  const Endpoint& in = job.input;
  switch (in.kind) {
    case Endpoint::Kind::kStdio:
      return std::unique_ptr<ByteSource>(
          std::make_unique<FdSource>(0, "stdin", job.io, UniqueFd()));
    case Endpoint::Kind::kFile: {
      UniqueFd fd(open(in.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) {
        *exit_code = kExitInput;
        return ErrnoStatus("cannot open input " + in.path, errno);
      }
      int raw = fd.get();
      return std::unique_ptr<ByteSource>(
          std::make_unique<FdSource>(raw, "input " + in.path, job.io, std::move(fd)));
    }
    case Endpoint::Kind::kTcpListen: {
      *exit_code = kExitNetwork;
      TcpOptions options{job.address_family, job.tcp_buffer, 0};
      // mbuffer -I host:port means: listen on port, accept only from host.
      Result<HostPort> hp = ParseHostPort(in.path, true);
      if (!hp.ok()) {
        *exit_code = kExitUsage;
        return hp.status();
      }
      Result<TcpListener> listener = TcpListener::Listen(hp->port, options);
      if (!listener.ok()) return listener.status();
      Result<UniqueFd> fd = listener->Accept(hp->host);
      if (!fd.ok()) return fd.status();
      int raw = fd->get();
      return std::unique_ptr<ByteSource>(std::make_unique<FdSource>(
          raw, "network input (port " + hp->port + ")", job.io, std::move(*fd)));
    }
    case Endpoint::Kind::kTcpConnect:
      break;
  }
  *exit_code = kExitUsage;
  return InvalidArgument("unsupported input");
}

Result<std::unique_ptr<ByteSink>> OpenOutput(const BufferJob& job, int* exit_code) {
  const Endpoint& out = job.output;
  switch (out.kind) {
    case Endpoint::Kind::kStdio:
      return std::unique_ptr<ByteSink>(std::make_unique<FdSink>(1, "stdout", job.io, UniqueFd()));
    case Endpoint::Kind::kFile: {
      int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_TRUNC;
      if (!job.overwrite_output) flags |= O_EXCL;
      UniqueFd fd(open(out.path.c_str(), flags, 0666));
      if (!fd.valid()) {
        *exit_code = errno == EEXIST ? kExitUsage : kExitOutput;
        Status s = ErrnoStatus("cannot open output " + out.path, errno);
        if (errno == EEXIST) s = Status(s.code(), s.message() + " (use -f to overwrite)");
        return s;
      }
      int raw = fd.get();
      return std::unique_ptr<ByteSink>(
          std::make_unique<FdSink>(raw, "output " + out.path, job.io, std::move(fd)));
    }
    case Endpoint::Kind::kTcpConnect: {
      *exit_code = kExitNetwork;
      TcpOptions options{job.address_family, job.tcp_buffer, 0};
      Result<UniqueFd> fd = TcpConnect(out.path, options);
      if (!fd.ok()) return fd.status();
      int raw = fd->get();
      return std::unique_ptr<ByteSink>(
          std::make_unique<FdSink>(raw, "network output " + out.path, job.io, std::move(*fd)));
    }
    case Endpoint::Kind::kTcpListen:
      break;
  }
  *exit_code = kExitUsage;
  return InvalidArgument("unsupported output");
}

int ExitCodeFor(const BufferJob& job, const PipelineResult& result) {
  if (result.status.ok()) return kExitOk;
  if (job.codec && result.status.code() == StatusCode::kDataLoss &&
      (result.failed_stage == PipelineStage::kInput ||
       result.failed_stage == PipelineStage::kTransform)) {
    return kExitCorrupt;
  }
  switch (result.failed_stage) {
    case PipelineStage::kStopped:
      return 128 + (StopSignal() != 0 ? StopSignal() : 2);
    case PipelineStage::kWatchdog:
      return kExitTimeout;
    case PipelineStage::kInput:
      if (result.status.code() == StatusCode::kResourceExhausted) return kExitResources;
      if (result.status.code() == StatusCode::kInvalidArgument) return kExitUsage;
      return IsNetwork(job.input) ? kExitNetwork : kExitInput;
    case PipelineStage::kOutput:
      return IsNetwork(job.output) ? kExitNetwork : kExitOutput;
    case PipelineStage::kTransform:
    case PipelineStage::kNone:
      break;
  }
  return kExitInternal;
}

nlohmann::json CodecJson(const CodecStats& s) {
  nlohmann::json decisions = nlohmann::json::array();
  for (const AdaptiveDecision& d : s.decisions) {
    decisions.push_back({{"seconds", d.seconds},
                         {"from", AdaptiveController::LevelName(d.from_level)},
                         {"to", AdaptiveController::LevelName(d.to_level)},
                         {"output_backlog", d.output_backlog},
                         {"workers_busy", d.workers_busy},
                         {"output_blocked", d.output_blocked}});
  }
  return {{"mode", s.mode},
          {"codec", s.codec},
          {"level", s.level},
          {"blocks", s.blocks},
          {"stored_blocks", s.stored_blocks},
          {"raw_bytes", s.raw_bytes},
          {"coded_bytes", s.coded_bytes},
          {"ratio", s.raw_bytes == 0
                        ? 0.0
                        : static_cast<double>(s.coded_bytes) / static_cast<double>(s.raw_bytes)},
          {"parallel", s.parallel},
          {"serial_reason", s.serial_reason},
          {"decisions", decisions}};
}

void WriteJsonStats(const BufferJob& job, const PipelineResult& r, int exit_code,
                    const std::string& in_backend, const std::string& out_backend,
                    const CodecStage* codec, Messages& messages) {
  const double secs = r.seconds > 0 ? r.seconds : 1e-9;
  nlohmann::json j = {
      {"result", r.status.ok() ? "ok" : "failed"},
      {"exit_code", exit_code},
      {"error", r.status.ok() ? "" : r.status.message()},
      {"failed_stage", PipelineStageName(r.failed_stage)},
      {"bytes_in", r.bytes_in},
      {engine_contract::kStatsBytesOut, r.bytes_out},
      {"seconds", r.seconds},
      {"rate_in", static_cast<double>(r.bytes_in) / secs},
      {"rate_out", static_cast<double>(r.bytes_out) / secs},
      {"input_stall_seconds", r.ring.consumer_wait_seconds},
      {"output_stall_seconds", r.ring.producer_wait_seconds},
      {"peak_fill_percent", r.ring.blocks_total == 0
                                ? 0.0
                                : 100.0 * static_cast<double>(r.ring.peak_blocks_used) /
                                      static_cast<double>(r.ring.blocks_total)},
      {"blocks", r.ring.blocks_total},
      {"block_size", job.pipeline.ring.block_size},
      {"hash", job.pipeline.digest},
      {"digest", r.digest_hex},
      {"io_backend", {{"input", in_backend}, {"output", out_backend}}},
  };
  if (codec != nullptr) j["codec"] = CodecJson(codec->stats());
  Status written = WriteFileAtomically(job.json_stats_path, j.dump(2) + "\n");
  if (!written.ok()) messages.Say("cannot write --json-stats file: " + written.message());
}

template <typename T>
std::string BackendOf(const T* stream) {
  auto* fd_stream = dynamic_cast<const FdStream*>(stream);
  return fd_stream != nullptr ? fd_stream->backend() : "other";
}

}  // namespace

int RunBufferJob(const BufferJob& job) {
  Messages messages(job);
  InstallStopSignals();

  int exit_code = kExitInternal;
  Result<std::unique_ptr<ByteSource>> source = OpenInput(job, &exit_code);
  if (!source.ok()) {
    messages.Say(source.status().message());
    return exit_code;
  }
  Result<std::unique_ptr<ByteSink>> sink = OpenOutput(job, &exit_code);
  if (!sink.ok()) {
    messages.Say(sink.status().message());
    return exit_code;
  }

  PipelineOptions options = job.pipeline;
  std::unique_ptr<CodecStage> codec;
  ByteSink* out = sink->get();
  if (job.codec) {
    Result<std::unique_ptr<CodecStage>> made = CodecStage::Create(*job.codec, options);
    if (!made.ok()) {
      messages.Say(made.status().message());
      return made.status().code() == StatusCode::kResourceExhausted ? kExitResources : kExitUsage;
    }
    codec = std::move(*made);
    out = &codec->WrapSink(**sink);
  }
  const bool show_progress = job.progress == BufferJob::Progress::kOn ||
                             (job.progress == BufferJob::Progress::kAuto && isatty(STDERR_FILENO));
  ProgressLine progress_line(isatty(STDERR_FILENO), job.expected_size);
  const ProgressFd progress_fd(job.progress_fd);
  if (progress_fd.enabled()) options.progress_interval = kProgressFdInterval;
  if (show_progress || progress_fd.enabled()) {
    options.on_progress = [&](const PipelineProgress& p) {
      if (show_progress) progress_line.Update(p, codec ? codec->ProgressText() : std::string());
      progress_fd.Write(p.bytes_out, p.elapsed_seconds);
    };
  }
  options.stop_requested = [] { return StopSignal() != 0; };

  PipelineResult result = Pipeline(options).Run(**source, *out);
  if (show_progress) progress_line.Finish();
  progress_fd.Write(result.bytes_out, result.seconds);

  exit_code = ExitCodeFor(job, result);
  if (!result.status.ok()) {
    messages.Say(result.status.message());
  } else {
    if (!result.digest_hex.empty()) {
      messages.Say(job.pipeline.digest + " hash: " + result.digest_hex);
    }
    if (job.summary || job.summary_in_log) {
      messages.Say("summary: " + FormatBytes(static_cast<double>(result.bytes_out)) + " in " +
                       FormatDuration(result.seconds) + " - average " +
                       FormatRate(static_cast<double>(result.bytes_out) /
                                  (result.seconds > 0 ? result.seconds : 1e-9)) +
                       (codec ? " - " + codec->ProgressText() : std::string()),
                   job.summary, job.summary_in_log);
    }
  }
  if (!job.json_stats_path.empty()) {
    WriteJsonStats(job, result, exit_code, BackendOf(source->get()), BackendOf(sink->get()),
                   codec.get(), messages);
  }
  return exit_code;
}

}  // namespace zsend::tool
