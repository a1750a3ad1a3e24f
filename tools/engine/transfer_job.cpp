#include "tools/engine/transfer_job.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/engine_contract.h"
#include "base/private_file.h"
#include "base/shell_words.h"
#include "base/units.h"
#include "engine/crypto/keys.h"
#include "engine/transfer/transfer_consumers.h"
#include "engine/transfer/transfer_link.h"
#include "engine/transfer/transfer_receiver.h"
#include "engine/wire/session_handshake.h"
#include "tools/engine/exit_codes.h"
#include "tools/engine/progress_fd.h"
#include "tools/engine/progress_line.h"
#include "tools/engine/signals.h"
#include "tools/engine/transfer_link_open.h"
#include "transports/link.h"

namespace zsend::tool {

int ExitCodeFor(TransferFailure failure) {
  switch (failure) {
    case TransferFailure::kNone:
      return kExitOk;
    case TransferFailure::kUsage:
      return kExitUsage;
    case TransferFailure::kInput:
      return kExitInput;
    case TransferFailure::kOutput:
      return kExitOutput;
    case TransferFailure::kNetwork:
      return kExitNetwork;
    case TransferFailure::kTimeout:
      return kExitTimeout;
    case TransferFailure::kAuthentication:
      return kExitAuthentication;
    case TransferFailure::kIntegrity:
      return kExitIntegrity;
    case TransferFailure::kProducer:
      return kExitProducer;
    case TransferFailure::kConsumer:
      return kExitConsumer;
    case TransferFailure::kStopped:
      return 128 + (StopSignal() != 0 ? StopSignal() : SIGINT);
    case TransferFailure::kInternal:
      break;
  }
  return kExitInternal;
}

SessionOptions SessionOptionsFor(const TransferJob& job, const LoadedKeys& keys, bool anonymous,
                                 bool initiator) {
  SessionOptions o;
  o.initiator = initiator;
  o.we_send = job.send;
  o.anonymous = anonymous;
  if (!anonymous) o.local_static = keys.local;
  o.peer = keys.peer;
  o.authorized = &keys.authorized;
  const bool allow_none = anonymous || job.insecure_plaintext;
  if (job.cipher == "auto") {
    o.ciphers = AutoCiphers(allow_none && !initiator);
  } else {
    o.ciphers = {*ParseBulkCipher(job.cipher)};
  }
  o.block_size = static_cast<uint32_t>(job.transfer.pipeline.ring.block_size);
  o.dedup_window = job.dedup_window;
  if (!job.send) o.receiver_memory = job.transfer.pipeline.ring.memory;
  o.timeout_seconds = job.transfer.timeout_seconds;
  return o;
}

namespace {

// Peak resident memory of this program image in KiB (VmHWM: unlike ru_maxrss it does not count
// what the parent had resident when it forked us).
long PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

// Tells the peer why this side gives up before its pipeline started (best effort).
void TellPeer(Channel& channel, const Session& session, TransferFailure failure,
              const Status& status) {
  FrameWriter writer(channel, FrameCipher(session.cipher, session.send_key));
  channel.SetDeadline(2);
  (void)writer.SendControl(FrameType::kError,
                           EncodeError({ToErrorReason(failure), status.message()}));
}

class Runner {
 public:
  explicit Runner(const TransferJob& job) : job_(job) {}
  int Run();

 private:
  void Say(const std::string& line) const {
    std::fprintf(stderr, "%s: %s\n", job_.program.c_str(), line.c_str());
  }
  int Fail(TransferFailure failure, const Status& status) {
    Say(status.message());
    return ExitCodeFor(failure);
  }
  Status Validate() const;
  Status LoadKeys();
  SessionOptions MakeSessionOptions(bool initiator) const;
  Result<Link> Connect(int* exit_code);
  int Transfer(Channel& channel, const Session& session);
  void WriteJsonStats(const TransferReport& report, const Session& session, int exit_code) const;

  const TransferJob& job_;
  LoadedKeys keys_;  // unused when anonymous_
  bool anonymous_ = false;
};

Status Runner::Validate() const {
  ZSEND_RETURN_IF_ERROR(ValidateLinkFlags(job_));
  if (!job_.file.empty() && !job_.exec.empty()) {
    return InvalidArgument(job_.send ? "-i and --exec exclude each other"
                                     : "-o and --exec exclude each other");
  }
  const bool to_stdout = !job_.send && job_.file.empty() && job_.exec.empty();
  if (to_stdout && job_.announce) {
    return InvalidArgument(
        "--announce prints on stdout, where the stream would go; use -o FILE or --exec CMD");
  }
  if (to_stdout && job_.stdio) {
    return InvalidArgument("--stdio speaks the protocol on stdout; use -o FILE or --exec CMD");
  }
  if (job_.send && job_.stdio && ((job_.file.empty() && job_.exec.empty()) || job_.file == "-")) {
    return InvalidArgument("--stdio reads the protocol on stdin; use -i FILE or --exec CMD");
  }
  if (job_.cipher == "none" && job_.ssh_host.empty() && !job_.stdio && !job_.insecure_plaintext) {
    return InvalidArgument(
        "--cipher none sends the stream in the clear; it is allowed only with --ssh (ssh "
        "encrypts) or with --insecure-plaintext");
  }
  if (job_.cipher != "auto") {
    Result<BulkCipher> c = ParseBulkCipher(job_.cipher);
    if (!c.ok()) return c.status();
  }
  if (!job_.listen.empty() && !job_.announce && job_.key_file.empty()) {
    return InvalidArgument(
        "a listener needs --key FILE, or --announce to publish a fresh key's public half");
  }
  if (!job_.connect.empty() && (job_.peer.empty() || job_.key_file.empty())) {
    return InvalidArgument("--connect needs --peer PUBKEY (the listener's key) and --key FILE");
  }
  if (!job_.listen.empty() && job_.authorized_keys_file.empty() && job_.authorize.empty()) {
    return InvalidArgument("a listener needs --authorized-keys FILE or --authorize PUBKEY");
  }
  return Status::Ok();
}

Status Runner::LoadKeys() {
  anonymous_ = !job_.ssh_host.empty() || job_.stdio;
  if (anonymous_) return Status::Ok();  // ssh and stdio links are authenticated outside zsend
  Result<LoadedKeys> keys =
      zsend::LoadKeys({job_.key_file, job_.peer, job_.authorized_keys_file, job_.authorize});
  if (!keys.ok()) return keys.status();
  keys_ = std::move(*keys);
  return Status::Ok();
}

SessionOptions Runner::MakeSessionOptions(bool initiator) const {
  return SessionOptionsFor(job_, keys_, anonymous_, initiator);
}

Result<Link> Runner::Connect(int* exit_code) {
  LinkHooks hooks;
  hooks.handshake = [this](Channel& channel, bool initiator, double max_seconds) {
    SessionOptions options = MakeSessionOptions(initiator);
    if (max_seconds > 0) options.timeout_seconds = std::min(options.timeout_seconds, max_seconds);
    return RunHandshake(channel, options);
  };
  hooks.stop = [] { return StopSignal() != 0; };
  hooks.say = [this](const std::string& line) { Say(line); };
  const std::string pubkey = anonymous_ ? "" : FormatPublicKey(keys_.local.public_key);
  LinkFailure failure = LinkFailure::kNone;
  Result<Link> link = OpenLink(LinkSpecFor(job_, pubkey), hooks, &failure);
  if (failure == LinkFailure::kHandshake) {
    *exit_code = ExitCodeFor(ClassifyStatus(link.status()));
  } else if (failure == LinkFailure::kStopped) {
    *exit_code = 128 + StopSignal();
  } else {
    *exit_code = kExitNetwork;
  }
  return link;
}

int Runner::Run() {
  InstallStopSignals();
  Status valid = Validate();
  if (!valid.ok()) return Fail(TransferFailure::kUsage, valid);
  Status keys = LoadKeys();
  if (!keys.ok()) return Fail(TransferFailure::kUsage, keys);
  int exit_code = kExitInternal;
  Result<Link> link = Connect(&exit_code);
  if (!link.ok()) {
    Say(link.status().message());
    return exit_code;
  }
  exit_code = Transfer(*link->channel, link->session);
  link->Close(exit_code != kExitOk);
  return exit_code;
}

int Runner::Transfer(Channel& channel, const Session& session) {
  TransferOptions options = job_.transfer;
  const bool show_progress = job_.progress || (!job_.quiet && isatty(STDERR_FILENO));
  ProgressLine progress_line(isatty(STDERR_FILENO), 0);
  // The stream is the sender's input and the receiver's output.
  const ProgressFd progress_fd(job_.progress_fd);
  if (progress_fd.enabled()) options.pipeline.progress_interval = kProgressFdInterval;
  const bool send = job_.send;
  if (show_progress || progress_fd.enabled()) {
    options.pipeline.on_progress = [&, send](const PipelineProgress& p) {
      if (show_progress) progress_line.Update(p);
      progress_fd.Write(send ? p.bytes_in : p.bytes_out, p.elapsed_seconds);
    };
  }
  options.pipeline.stop_requested = [] { return StopSignal() != 0; };
  options.heartbeat_seconds = std::min(5.0, std::max(0.2, options.timeout_seconds / 4));

  TransferReport report;
  if (job_.send) {
    std::unique_ptr<ByteSource> source;
    ChildProcess* producer = nullptr;
    if (!job_.exec.empty()) {
      Result<std::vector<std::string>> argv = ShellSplit(job_.exec);
      if (!argv.ok()) return Fail(TransferFailure::kUsage, argv.status());
      Result<std::unique_ptr<ChildProcess>> child =
          ChildProcess::Start(*argv, ChildProcess::Pipe::kStdout, !job_.quiet);
      if (!child.ok()) {
        TellPeer(channel, session, TransferFailure::kProducer, child.status());
        return Fail(TransferFailure::kProducer, child.status());
      }
      auto child_source = std::make_unique<ChildSource>(std::move(*child));
      producer = &child_source->child();
      source = std::move(child_source);
    } else if (!job_.file.empty() && job_.file != "-") {
      UniqueFd fd(open(job_.file.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) {
        return Fail(TransferFailure::kInput, ErrnoStatus("cannot open input " + job_.file, errno));
      }
      const int raw = fd.get();
      source = std::make_unique<FdSource>(raw, "input " + job_.file, job_.io, std::move(fd));
    } else {
      source = std::make_unique<FdSource>(0, "stdin", job_.io, UniqueFd());
    }
    report = RunSendTransfer(channel, session, *source, producer, options);
  } else {
    Result<std::unique_ptr<Consumer>> consumer =
        !job_.exec.empty()                       ? MakeProcessConsumer(job_.exec, !job_.quiet)
        : !job_.file.empty() && job_.file != "-" ? MakeFileConsumer(job_.file, job_.io)
                                                 : MakeStdoutConsumer(job_.io);
    if (!consumer.ok()) {
      const bool missing = consumer.status().code() == StatusCode::kNotFound || !job_.exec.empty();
      const TransferFailure failure =
          missing ? TransferFailure::kConsumer : TransferFailure::kOutput;
      TellPeer(channel, session, failure, consumer.status());
      return Fail(failure, consumer.status());
    }
    report = RunReceiveTransfer(channel, session, **consumer, options);
  }
  if (show_progress) progress_line.Finish();
  progress_fd.Write(report.stream_bytes, report.seconds);
  const int exit_code = ExitCodeFor(report.failure);
  if (!report.ok()) {
    Say(report.status.message());
  } else if (!job_.quiet) {
    const double secs = report.seconds > 0 ? report.seconds : 1e-9;
    Say(std::string(job_.send ? "sent " : "received ") +
        FormatBytes(static_cast<double>(report.stream_bytes)) + " in " +
        FormatDuration(report.seconds) + " - average " +
        FormatRate(static_cast<double>(report.stream_bytes) / secs) + " - " +
        BulkCipherName(session.cipher) + (job_.send ? " - the receiver's consumer exited 0" : ""));
  }
  if (!job_.json_stats_path.empty()) WriteJsonStats(report, session, exit_code);
  return exit_code;
}

void Runner::WriteJsonStats(const TransferReport& r, const Session& session, int exit_code) const {
  nlohmann::json j = {
      {"result", r.ok() ? "ok" : "failed"},
      {"exit_code", exit_code},
      {"failure", TransferFailureName(r.failure)},
      {"error", r.ok() ? "" : r.status.message()},
      {"role", job_.send ? "send" : "recv"},
      {"cipher", BulkCipherName(session.cipher)},
      {"codec", job_.send ? r.codec_level : std::string("decodes any")},
      {"block_size", session.block_size},
      {engine_contract::kStatsStreamBytes, r.stream_bytes},
      {engine_contract::kStatsWireBytes, r.wire_bytes},
      {"dedup_window", session.dedup_window},
      {"seconds", r.seconds},
      {"stream_xxh3_128", r.stream_digest_hex},
      {"peak_rss_kib", PeakRssKib()},
  };
  if (job_.send) {
    j["dedup_bytes"] = r.dedup_bytes;
    j["remote"] = {{"consumer_exit", r.remote.consumer_exit},
                   {"bytes_written", r.remote.bytes_written},
                   {"stderr_tail", r.remote.stderr_tail}};
  }
  Status written = WriteFileAtomically(job_.json_stats_path, j.dump(2) + "\n");
  if (!written.ok()) Say("cannot write --json-stats file: " + written.message());
}

}  // namespace

int RunTransferJob(const TransferJob& job) {
  return Runner(job).Run();
}

}  // namespace zsend::tool
