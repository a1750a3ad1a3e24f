// zsend-engine serve / session: many streams over a few connections (docs/protocol.md 5.8).
//
//   serve    the far side of a run. --listen accepts --connections authorized peers (or --stdio
//            serves the one on its stdin/stdout, started by `session --ssh`); on each link it
//            answers stream after stream: the far command in the open frame is checked against
//            --target-root (it receives) or --source-root (it sends) by far_command.h, run
//            without a shell, and its stream moved. A refused command runs nothing.
//   session  the near side. Opens --connections links (--connect or --ssh), reads requests on
//            stdin, one JSON line each: {"id":..,"exec":"zfs send ...","far":["zfs","receive",..]};
//            moves each over the next free link and prints one JSON result line per request
//            on stdout (docs/protocol.md 5.8.3). A link that broke is opened again for the next
//            request; a worker that cannot open its link stops, and the last one fails what is
//            left, each result saying whether the far side had started the stream.
#include "tools/engine/session_job.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "base/shell_words.h"
#include "engine/transfer/far_command.h"
#include "engine/transfer/session_stream.h"
#include "engine/transfer/transfer_consumers.h"
#include "engine/transfer/transfer_receiver.h"
#include "tools/engine/exit_codes.h"
#include "tools/engine/signals.h"
#include "tools/engine/transfer_link_open.h"

namespace zsend::tool {
namespace {

// What one stream came to, on either side.
struct StreamOutcome {
  TransferFailure failure = TransferFailure::kNone;
  Status status;
  bool started = false;   // the server accepted the stream: data may have reached its zfs
  bool reusable = false;  // the link can carry the next stream
  TransferReport report;
};

class SessionRunner {
 public:
  explicit SessionRunner(const TransferJob& job) : job_(job) {}

  int Serve();
  int Client();

 private:
  void Say(const std::string& line) const {
    if (!job_.quiet || line.rfind("refused", 0) == 0 || line.find("failed") != std::string::npos) {
      std::fprintf(stderr, "%s: %s\n", job_.program.c_str(), line.c_str());
    }
  }
  int Usage(const Status& s) const {
    std::fprintf(stderr, "%s: %s\n", job_.program.c_str(), s.message().c_str());
    return kExitUsage;
  }
  Status Prepare();
  LinkHooks Hooks();
  TransferOptions StreamOptions() const;
  bool ServeLink(Link link);
  StreamOutcome ServeStream(Channel& channel, const Session& stream);
  // Moves one request over `link`; `*index` counts the streams opened on it (the next one's
  // keys are stream *index + 1), advanced only when an open frame went out.
  StreamOutcome ClientStream(Link& link, uint64_t* index, const nlohmann::json& req);
  void Worker();
  bool NextRequest(nlohmann::json* request);
  void Report(const nlohmann::json& request, const StreamOutcome& outcome);

  const TransferJob& job_;
  LoadedKeys keys_;
  bool anonymous_ = false;
  FarRole role_ = FarRole::kReceive;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<nlohmann::json> queue_;  // guarded by mu_
  bool input_done_ = false;           // guarded by mu_
  int live_workers_ = 0;              // guarded by mu_
  int first_failure_ = kExitOk;       // guarded by mu_
};

Status SessionRunner::Prepare() {
  ZSEND_RETURN_IF_ERROR(ValidateLinkFlags(job_));
  if (job_.connections < 1 || job_.connections > 64) {
    return InvalidArgument("--connections takes 1 to 64");
  }
  anonymous_ = !job_.ssh_host.empty() || job_.stdio;
  if (anonymous_) return Status::Ok();
  Result<LoadedKeys> keys =
      LoadKeys({job_.key_file, job_.peer, job_.authorized_keys_file, job_.authorize});
  if (!keys.ok()) return keys.status();
  keys_ = std::move(*keys);
  return Status::Ok();
}

LinkHooks SessionRunner::Hooks() {
  LinkHooks hooks;
  hooks.handshake = [this](Channel& channel, bool initiator, double max_seconds) {
    SessionOptions options = SessionOptionsFor(job_, keys_, anonymous_, initiator);
    if (max_seconds > 0) options.timeout_seconds = std::min(options.timeout_seconds, max_seconds);
    return RunHandshake(channel, options);
  };
  hooks.stop = [] { return StopSignal() != 0; };
  hooks.say = [this](const std::string& line) { Say(line); };
  return hooks;
}

TransferOptions SessionRunner::StreamOptions() const {
  TransferOptions options = job_.transfer;
  options.session_stream = true;
  options.pipeline.stop_requested = [] { return StopSignal() != 0; };
  options.heartbeat_seconds = std::min(5.0, std::max(0.2, options.timeout_seconds / 4));
  return options;
}

// ---- serve ----

int SessionRunner::Serve() {
  InstallStopSignals();
  if (!job_.connect.empty() || !job_.ssh_host.empty()) {
    return Usage(InvalidArgument("serve takes --listen or --stdio"));
  }
  if (job_.roots.empty()) {
    return Usage(InvalidArgument("serve needs --target-root or --source-root: what it may serve"));
  }
  for (const std::string& root : job_.roots) {
    if (!IsValidDatasetName(root)) {
      return Usage(InvalidArgument("'" + root + "' is not a dataset name to serve"));
    }
  }
  role_ = job_.send ? FarRole::kSend : FarRole::kReceive;
  if (Status s = Prepare(); !s.ok()) return Usage(s);
  bool broken = false;
  std::mutex broken_mu;
  auto serve = [&](Link link) {
    if (!ServeLink(std::move(link))) {
      std::lock_guard<std::mutex> lock(broken_mu);
      broken = true;
    }
  };
  if (job_.stdio) {
    LinkFailure failure = LinkFailure::kNone;
    Result<Link> link = OpenLink(LinkSpecFor(job_, ""), Hooks(), &failure);
    if (!link.ok()) {
      Say(link.status().message());
      return failure == LinkFailure::kHandshake ? ExitCodeFor(ClassifyStatus(link.status()))
                                                : kExitNetwork;
    }
    serve(std::move(*link));
  } else {
    const std::string pubkey = FormatPublicKey(keys_.local.public_key);
    Status served = ServeLinks(LinkSpecFor(job_, pubkey), Hooks(), job_.connections, serve);
    if (!served.ok()) {
      Say(served.message());
      return served.code() == StatusCode::kCancelled ? 128 + StopSignal() : kExitNetwork;
    }
  }
  if (StopSignal() != 0) return 128 + StopSignal();
  return broken ? kExitNetwork : kExitOk;
}

// Serves streams until the client ends the session; false when the link broke instead. A stop
// signal stops the link's channel, also while serve waits for the next stream's open frame.
bool SessionRunner::ServeLink(Link link) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread watcher([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!done && StopSignal() == 0) cv.wait_for(lock, std::chrono::milliseconds(100));
    if (!done) link.channel->Stop();
  });
  bool clean = false;
  for (uint64_t index = 1;; ++index) {
    const Session stream = StreamSession(link.session, index);
    StreamOutcome outcome = ServeStream(*link.channel, stream);
    if (outcome.status.code() == StatusCode::kNotFound) {
      clean = true;
      break;
    }
    if (!outcome.reusable) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  }
  watcher.join();
  link.Close(!clean);
  return clean;
}

StreamOutcome SessionRunner::ServeStream(Channel& channel, const Session& stream) {
  StreamOutcome outcome;
  Result<std::vector<std::string>> words = AwaitStream(channel, stream);
  if (!words.ok() && words.status().code() == StatusCode::kInvalidArgument) {
    Say("refused: " + words.status().message());  // authenticated, only its words are bad
    outcome.reusable = RefuseStream(channel, stream, TransferFailure::kUsage, words.status()).ok();
    return outcome;
  }
  if (!words.ok()) {
    if (words.status().code() != StatusCode::kNotFound && StopSignal() == 0) {
      Say("the session's link failed: " + words.status().message());
    }
    outcome.status = words.status();
    return outcome;
  }
  outcome.reusable = true;  // a refusal leaves the link in step
  Result<std::vector<std::string>> argv = CheckFarCommand(*words, role_, job_.roots);
  if (!argv.ok()) {
    Say(argv.status().message());
    outcome.reusable = RefuseStream(channel, stream, TransferFailure::kUsage, argv.status()).ok();
    return outcome;
  }
  const std::string display = ShellJoin(*argv);
  const TransferOptions options = StreamOptions();
  if (role_ == FarRole::kSend) {
    Result<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(*argv, ChildProcess::Pipe::kStdout, !job_.quiet);
    if (!child.ok()) {
      outcome.reusable =
          RefuseStream(channel, stream, TransferFailure::kProducer, child.status()).ok();
      return outcome;
    }
    ChildSource source(std::move(*child));
    if (!AcceptStream(channel, stream).ok()) return StreamOutcome{};
    outcome.report = RunSendTransfer(channel, stream, source, &source.child(), options);
  } else {
    Result<std::unique_ptr<Consumer>> consumer = MakeProcessConsumer(*argv, !job_.quiet);
    if (!consumer.ok()) {
      outcome.reusable =
          RefuseStream(channel, stream, TransferFailure::kConsumer, consumer.status()).ok();
      return outcome;
    }
    if (!AcceptStream(channel, stream).ok()) {
      (*consumer)->Abandon();
      return StreamOutcome{};
    }
    outcome.report = RunReceiveTransfer(channel, stream, **consumer, options);
  }
  outcome.reusable = outcome.report.link_reusable;
  Say(display + ": " +
      (outcome.report.ok() ? std::to_string(outcome.report.stream_bytes) + " bytes"
                           : "failed: " + outcome.report.status.message()));
  return outcome;
}

// ---- session ----

int SessionRunner::Client() {
  InstallStopSignals();
  if (!job_.listen.empty() || job_.stdio) {
    return Usage(InvalidArgument("session takes --connect or --ssh"));
  }
  if (Status s = Prepare(); !s.ok()) return Usage(s);
  std::thread reader([this] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
      if (!request.is_object() || !request.contains("exec") || !request["exec"].is_string() ||
          !request.contains("far") || !request["far"].is_array()) {
        StreamOutcome bad;
        bad.failure = TransferFailure::kUsage;
        bad.status = InvalidArgument(
            "a request is one JSON object per line with \"exec\" (string) and \"far\" (array)");
        Report(request.is_object() ? request : nlohmann::json::object(), bad);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(request));
      cv_.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu_);
    input_done_ = true;
    cv_.notify_all();
  });
  live_workers_ = job_.connections;
  std::vector<std::thread> workers;
  for (int i = 0; i < job_.connections; ++i) workers.emplace_back([this] { Worker(); });
  for (std::thread& t : workers) t.join();
  if (StopSignal() != 0) {
    reader.detach();  // blocked reading stdin; the process ends with it
    return 128 + StopSignal();
  }
  reader.join();
  return first_failure_;
}

bool SessionRunner::NextRequest(nlohmann::json* request) {
  std::unique_lock<std::mutex> lock(mu_);
  // A stop signal does not notify the condition: look again every 200 ms.
  while (!cv_.wait_for(lock, std::chrono::milliseconds(200),
                       [this] { return !queue_.empty() || input_done_ || StopSignal() != 0; })) {
  }
  if (StopSignal() != 0) return false;
  if (queue_.empty()) return false;
  *request = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void SessionRunner::Worker() {
  std::optional<Link> link;
  uint64_t index = 0;
  Status open_failed;
  auto open = [&] {
    LinkFailure failure = LinkFailure::kNone;
    Result<Link> opened = OpenLink(LinkSpecFor(job_, ""), Hooks(), &failure);
    if (!opened.ok()) {
      open_failed = opened.status();
      return false;
    }
    link.emplace(std::move(*opened));
    index = 0;
    return true;
  };
  bool alive = open();
  if (!alive) Say("cannot open a link: " + open_failed.message());
  nlohmann::json request;
  while (NextRequest(&request)) {
    if (alive && !link && !open()) {
      alive = false;
      Say("cannot open the link again: " + open_failed.message());
    }
    if (!alive) {
      StreamOutcome lost;
      lost.failure = TransferFailure::kNetwork;
      lost.status = Unavailable("no link to the serving engine: " + open_failed.message());
      Report(request, lost);
      std::lock_guard<std::mutex> lock(mu_);
      // Another worker still has a link: leave the rest to it.
      if (live_workers_ > 1) {
        --live_workers_;
        return;
      }
      continue;
    }
    StreamOutcome outcome = ClientStream(*link, &index, request);
    Report(request, outcome);
    if (!outcome.reusable) {
      link->Close(true);
      link.reset();
    }
  }
  if (link) link->Close(false);
}

StreamOutcome SessionRunner::ClientStream(Link& link, uint64_t* index,
                                          const nlohmann::json& request) {
  StreamOutcome outcome;
  outcome.reusable = true;  // until an open frame went out, the link is untouched
  std::vector<std::string> far;
  for (const nlohmann::json& word : request["far"]) {
    far.push_back(word.is_string() ? word.get<std::string>() : word.dump());
  }
  // The open frame's limits, checked here so that a long argv is this request's usage error.
  bool fits = !far.empty() && far.size() <= kMaxCommandWords;
  for (const std::string& word : far) {
    fits = fits && word.size() <= kMaxCommandWordBytes && word.find('\0') == std::string::npos;
  }
  if (!fits) {
    outcome.failure = TransferFailure::kUsage;
    outcome.status = InvalidArgument("the far command needs 1 to " +
                                     std::to_string(kMaxCommandWords) + " words of at most " +
                                     std::to_string(kMaxCommandWordBytes) + " bytes without NUL");
    return outcome;
  }
  Result<std::vector<std::string>> argv = ShellSplit(request["exec"].get<std::string>());
  std::unique_ptr<ChildSource> source;
  std::unique_ptr<Consumer> consumer;
  Status started = argv.status();
  if (argv.ok() && job_.send) {
    Result<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(*argv, ChildProcess::Pipe::kStdout, !job_.quiet);
    if (child.ok()) source = std::make_unique<ChildSource>(std::move(*child));
    started = child.status();
  } else if (argv.ok()) {
    Result<std::unique_ptr<Consumer>> made = MakeProcessConsumer(*argv, !job_.quiet);
    if (made.ok()) consumer = std::move(*made);
    started = made.status();
  }
  if (!started.ok()) {
    outcome.failure = job_.send ? TransferFailure::kProducer : TransferFailure::kConsumer;
    outcome.status = started;
    return outcome;
  }
  Channel& channel = *link.channel;
  const Session stream = StreamSession(link.session, ++*index);
  TransferFailure refused = TransferFailure::kNone;
  Status open = OpenStream(channel, stream, far, job_.transfer.timeout_seconds, &refused);
  if (!open.ok()) {
    if (source) source->child().Kill();
    if (consumer) consumer->Abandon();
    outcome.failure = refused;
    outcome.status = open;
    outcome.reusable = open.code() == StatusCode::kAborted;  // the server answered
    return outcome;
  }
  outcome.started = true;
  const TransferOptions options = StreamOptions();
  outcome.report = job_.send ? RunSendTransfer(channel, stream, *source, &source->child(), options)
                             : RunReceiveTransfer(channel, stream, *consumer, options);
  outcome.failure = outcome.report.failure;
  outcome.status = outcome.report.status;
  outcome.reusable = outcome.report.link_reusable;
  return outcome;
}

void SessionRunner::Report(const nlohmann::json& request, const StreamOutcome& outcome) {
  const int exit_code = ExitCodeFor(outcome.failure);
  nlohmann::json line = {
      {"id", request.contains("id") ? request["id"] : nlohmann::json()},
      {"result", exit_code == kExitOk ? "ok" : "failed"},
      {"exit_code", exit_code},
      {"failure", TransferFailureName(outcome.failure)},
      {"error", outcome.status.ok() ? "" : outcome.status.message()},
      {"started", outcome.started},
      {"stream_bytes", outcome.report.stream_bytes},
      {"wire_bytes", outcome.report.wire_bytes},
      {"seconds", outcome.report.seconds},
      {"far_stderr", outcome.report.remote.stderr_tail},
  };
  std::lock_guard<std::mutex> lock(mu_);
  if (exit_code != kExitOk && first_failure_ == kExitOk) first_failure_ = exit_code;
  std::fputs((line.dump() + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

int RunServeJob(const TransferJob& job) {
  return SessionRunner(job).Serve();
}

int RunSessionJob(const TransferJob& job) {
  return SessionRunner(job).Client();
}

}  // namespace zsend::tool
