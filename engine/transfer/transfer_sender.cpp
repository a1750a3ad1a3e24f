#include "engine/transfer/transfer_sender.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "engine/codec/adaptive_codec.h"
#include "engine/codec/dedup.h"
#include "engine/ring/digest.h"
#include "engine/wire/frame_codec.h"

namespace zsend {
namespace {

// Fills each block with up to one frame's worth of stream, leaving room for the header in front
// and the tag behind, and hashes the stream in order (the reader is one thread) with XXH3-128.
class SenderReader : public BlockReader {
 public:
  SenderReader(uint32_t payload_max, std::unique_ptr<Digest> digest)
      : payload_max_(payload_max), digest_(std::move(digest)) {}

  Result<bool> Fill(ByteSource& source, Block& block) override {
    std::byte* payload = block.data + kFrameHeaderSize;
    block.offset = total_;
    const size_t room =
        std::min<size_t>(payload_max_, block.capacity - kFrameHeaderSize - kFrameTagSize);
    size_t n = 0;
    bool eof = false;
    while (n < room) {
      Result<size_t> got = source.Read(payload + n, room - n);
      if (!got.ok()) return got.status();
      if (*got == 0) {
        eof = true;
        break;
      }
      n += *got;
    }
    digest_->Update(payload, n);
    total_ += n;
    block.size = n == 0 ? 0 : kFrameHeaderSize + n;
    if (eof) digest_hex_ = digest_->FinishHex();
    return eof;
  }

  // Valid once Fill() returned true (the ring orders this before the writer's Finish()).
  uint64_t total() const { return total_; }
  const std::string& digest_hex() const { return digest_hex_; }

 private:
  uint32_t payload_max_;
  std::unique_ptr<Digest> digest_;
  uint64_t total_ = 0;
  std::string digest_hex_;
};

// Turns a block into a data frame in place: replace repeats by references (when the session
// has a dedup window), compress (when it shrinks the payload), then header, then seal.
class SealTransform : public BlockTransform {
 public:
  static Result<std::unique_ptr<SealTransform>> Create(const Session& session, int workers,
                                                       const CodecSpec& codec,
                                                       const std::atomic<int>* level) {
    std::unique_ptr<SealTransform> t(new SealTransform());
    if (session.dedup_window > 0) t->dedup_ = std::make_unique<DedupIndex>(session.dedup_window);
    for (int i = 0; i < std::max(1, workers); ++i) {
      if (t->dedup_) t->dedup_scratch_.emplace_back(session.block_size);
      t->ciphers_.push_back(std::make_unique<FrameCipher>(session.cipher, session.send_key));
      Result<std::unique_ptr<FrameCompressor>> c =
          FrameCompressor::Create(codec, session.block_size, level);
      if (!c.ok()) return c.status();
      t->compressors_.push_back(std::move(*c));
    }
    return t;
  }
  Status Apply(Block& block, int worker) override {
    const auto w = static_cast<size_t>(worker);
    std::byte* payload = block.data + kFrameHeaderSize;
    size_t raw = block.size - kFrameHeaderSize;
    uint8_t flags = 0;
    if (dedup_ != nullptr) {
      const auto start = std::chrono::steady_clock::now();
      const size_t encoded = dedup_->Encode(payload, raw, block.offset, dedup_scratch_[w].data());
      dedup_ns_.fetch_add(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - start)
                                    .count()),
          std::memory_order_relaxed);
      if (encoded > 0) {
        std::memcpy(payload, dedup_scratch_[w].data(), encoded);
        raw = encoded;
        flags |= kFlagDedup;
      }
    }
    bool compressed = false;
    uint8_t codec_id = 0;
    Result<size_t> size = compressors_[w]->Apply(payload, raw, &compressed, &codec_id);
    if (!size.ok()) return size.status();
    const size_t n = *size;
    if (compressed) flags |= kFlagCompressed;
    FrameHeader header{FrameType::kData, flags, codec_id, static_cast<uint32_t>(n + kFrameTagSize),
                       block.sequence};
    EncodeFrameHeader(header, block.data);
    ZSEND_RETURN_IF_ERROR(ciphers_[w]->Seal(block.data, n));
    block.out = block.data;
    block.out_size = kFrameHeaderSize + n + kFrameTagSize;
    return Status::Ok();
  }
  // Time the workers spent on dedup and compression (the adaptive codec's "busy" signal).
  uint64_t busy_ns() const {
    uint64_t total = dedup_ns_.load(std::memory_order_relaxed);
    for (const auto& c : compressors_) total += c->busy_ns();
    return total;
  }
  uint64_t dedup_bytes() const { return dedup_ ? dedup_->saved_bytes() : 0; }

 private:
  SealTransform() = default;
  std::vector<std::unique_ptr<FrameCipher>> ciphers_;
  std::vector<std::unique_ptr<FrameCompressor>> compressors_;
  std::unique_ptr<DedupIndex> dedup_;                  // null: no dedup this session
  std::vector<std::vector<std::byte>> dedup_scratch_;  // one block per worker
  std::atomic<uint64_t> dedup_ns_{0};
};

// The pipeline's sink: frames to the FrameWriter, and the end frame on Finish().
class SenderSink : public ByteSink {
 public:
  SenderSink(FrameWriter& writer, SenderReader& reader) : writer_(writer), reader_(reader) {}
  Status Write(const std::byte* buf, size_t len) override { return writer_.Write(buf, len); }
  Status Finish() override {
    Result<noise::Bytes> raw = noise::FromHex(reader_.digest_hex());
    if (!raw.ok()) return Internal("stream digest missing");
    EndPayload end{reader_.total(), std::string(raw->begin(), raw->end())};
    return writer_.SendControl(FrameType::kEnd, EncodeEnd(end));
  }
  std::string Describe() const override { return writer_.Describe(); }

 private:
  FrameWriter& writer_;
  SenderReader& reader_;
};

// Reads the receiver's frames until its final status, an error, or a failure.
// Sets `*last_word` when the loop ended on the receiver's status or error frame (the link is
// still in step).
void ControlLoop(Channel& channel, const Session& session, double timeout, uint64_t first_control,
                 TransferOutcome& outcome, StatusPayload* remote, bool* got_status,
                 std::atomic<bool>* last_word) {
  FrameCipher opener(session.cipher, session.receive_key);
  std::vector<std::byte> buf(kFrameHeaderSize + kMaxControlBody);
  for (uint64_t next = first_control;; ++next) {
    channel.SetDeadline(timeout);
    Status read = channel.ReadExact(buf.data(), kFrameHeaderSize);
    Result<FrameHeader> header = DataLoss("");
    if (read.ok()) {
      header = DecodeFrameHeader(buf.data(), 0);
      read = header.status();
    }
    if (read.ok()) read = channel.ReadExact(buf.data() + kFrameHeaderSize, header->length);
    if (read.ok() && header->sequence != next) {
      read = DataLoss("receiver frame " + std::to_string(header->sequence) + " out of order");
    }
    Result<size_t> size = read.ok() ? opener.Open(buf.data(), *header) : Result<size_t>(read);
    if (!size.ok()) {
      Status s = size.status();
      if (s.code() == StatusCode::kDeadlineExceeded) {
        s = DeadlineExceeded("the receiver sent nothing for " + std::to_string(int(timeout)) +
                             " s (stalled or unreachable; --timeout)");
      }
      outcome.Fail(ClassifyStatus(s), s.code() == StatusCode::kUnavailable
                                          ? Unavailable("lost the receiver: " + s.message())
                                          : s);
      return;
    }
    const std::string payload(reinterpret_cast<const char*>(buf.data()) + kFrameHeaderSize, *size);
    switch (header->type) {
      case FrameType::kHeartbeat:
        continue;
      case FrameType::kError: {
        Result<ErrorPayload> error = DecodeError(payload);
        if (!error.ok()) return (void)outcome.Fail(TransferFailure::kIntegrity, error.status());
        outcome.Fail(FromErrorReason(error->reason), Aborted("receiver: " + error->message));
        last_word->store(true);
        return;
      }
      case FrameType::kStatus: {
        Result<StatusPayload> status = DecodeStatus(payload);
        if (!status.ok()) return (void)outcome.Fail(TransferFailure::kIntegrity, status.status());
        *remote = *status;
        *got_status = true;
        last_word->store(true);
        if (status->consumer_exit != 0) {
          outcome.Fail(TransferFailure::kConsumer,
                       Aborted("the receiver's consumer " +
                               DescribeExit(status->consumer_exit, status->stderr_tail)));
        }
        return;
      }
      default:
        outcome.Fail(TransferFailure::kIntegrity,
                     DataLoss(std::string("unexpected ") + FrameTypeName(header->type) +
                              " frame from the receiver"));
        return;
    }
  }
}

TransferFailure ClassifyPipeline(const PipelineResult& r, bool have_producer) {
  switch (r.failed_stage) {
    case PipelineStage::kInput:
      if (r.status.code() == StatusCode::kResourceExhausted) return TransferFailure::kInternal;
      return have_producer && r.status.code() == StatusCode::kAborted ? TransferFailure::kProducer
                                                                      : TransferFailure::kInput;
    case PipelineStage::kOutput:
      return ClassifyStatus(r.status);
    case PipelineStage::kWatchdog:
      return TransferFailure::kTimeout;
    case PipelineStage::kStopped:
      return TransferFailure::kStopped;
    default:
      return TransferFailure::kInternal;
  }
}

}  // namespace

TransferReport RunSendTransfer(Channel& channel, const Session& session, ByteSource& source,
                               ChildProcess* producer, const TransferOptions& options) {
  TransferReport report;
  TransferOutcome outcome;
  Result<std::unique_ptr<Digest>> digest = Digest::Create(kStreamDigest);
  if (!digest.ok()) {
    report.failure = TransferFailure::kInternal;
    report.status = digest.status();
    return report;
  }
  SenderReader reader(session.block_size, std::move(*digest));
  std::atomic<int> level{1};
  Result<std::unique_ptr<SealTransform>> made =
      SealTransform::Create(session, options.workers, options.codec, &level);
  if (!made.ok()) {
    report.failure = TransferFailure::kUsage;
    report.status = made.status();
    return report;
  }
  SealTransform& sealer = **made;
  const uint64_t first_control = options.session_stream ? 2 : 1;
  FrameWriter writer(channel, FrameCipher(session.cipher, session.send_key), first_control);
  SenderSink sink(writer, reader);

  PipelineOptions pipeline = options.pipeline;
  pipeline.ring.block_size = session.block_size + kFrameHeaderSize + kFrameTagSize;
  pipeline.block_reader = &reader;
  pipeline.transform = &sealer;
  pipeline.workers = std::max(1, options.workers);
  // --timeout means no byte moved for that long: also a producer that stopped giving bytes
  // (zfs send under SIGSTOP), which heartbeats would otherwise hide from the receiver for ever.
  // The link's own idle timeout covers the output side, so a slow link is not a stall.
  if (pipeline.watchdog_seconds <= 0) {
    pipeline.watchdog_seconds = options.timeout_seconds;
    pipeline.watchdog_scope = PipelineOptions::WatchdogScope::kInput;
  }
  auto outer_stop = options.pipeline.stop_requested;
  pipeline.stop_requested = [&] { return outcome.failed() || (outer_stop && outer_stop()); };
  // --codec auto: the monitor's progress tick feeds the adaptive controller.
  std::unique_ptr<AdaptiveController> controller;
  if (options.codec.adaptive) {
    controller = std::make_unique<AdaptiveController>(AdaptiveOptions{});
    level.store(controller->level());
    pipeline.progress_interval = controller->options().interval_seconds;
    auto outer_progress = options.pipeline.on_progress;
    const int workers = pipeline.workers;
    pipeline.on_progress = [&, outer_progress, workers, last_busy = uint64_t{0},
                            last_blocked = uint64_t{0},
                            last_seconds = 0.0](const PipelineProgress& p) mutable {
      const double dt = std::max(1e-3, p.elapsed_seconds - last_seconds);
      const uint64_t busy = sealer.busy_ns(), blocked = writer.write_ns();
      AdaptiveSignals signals;
      signals.seconds = p.elapsed_seconds;
      signals.output_backlog = p.fill_percent / 100.0;
      signals.workers_busy =
          std::min(1.0, static_cast<double>(busy - last_busy) / 1e9 / dt / workers);
      signals.output_blocked =
          std::min(1.0, static_cast<double>(blocked - last_blocked) / 1e9 / dt);
      level.store(controller->Observe(signals));
      last_busy = busy;
      last_blocked = blocked;
      last_seconds = p.elapsed_seconds;
      if (outer_progress) outer_progress(p);
    };
  }

  StatusPayload remote;
  bool got_status = false;
  std::atomic<bool> last_word{false};
  std::thread control([&] {
    ControlLoop(channel, session, options.timeout_seconds, first_control, outcome, &remote,
                &got_status, &last_word);
  });
  PipelineResult result;
  {
    Heartbeat heartbeat(writer, options.heartbeat_seconds);
    result = Pipeline(pipeline).Run(source, sink);
    if (!result.status.ok()) {
      TransferFailure failure = ClassifyPipeline(result, producer != nullptr);
      if (failure == TransferFailure::kStopped && outcome.failed()) failure = outcome.failure();
      outcome.Fail(failure, result.status);
    }
    if (outcome.failed()) {
      if (producer != nullptr) producer->Kill();
      // Tell the receiver why, unless the link itself is what failed.
      const TransferFailure f = outcome.failure();
      const bool link_failed = f == TransferFailure::kNetwork || f == TransferFailure::kTimeout;
      // A data frame cut off mid-way (the writer was stopped inside it) leaves nothing that
      // could follow it on this link: no error frame, and the link is stopped.
      const bool cut = writer.MidFrame();
      if (!link_failed && !cut) {
        channel.SetDeadline(2);
        (void)writer.SendControl(FrameType::kError,
                                 EncodeError({ToErrorReason(f), outcome.status().message()}));
      }
      // A session stream's receiver answers our error frame with its last word, which ends
      // the control thread (or has already: its own error or status frame); anything else
      // ends it by stopping the link.
      if (!options.session_stream || cut ||
          (!last_word.load() &&
           (link_failed || f == TransferFailure::kStopped || f == TransferFailure::kIntegrity))) {
        channel.Stop();
      }
    }
    control.join();
  }
  if (options.session_stream && last_word.load() && !channel.stopped()) {
    channel.SetDeadline(options.timeout_seconds);
    report.link_reusable = writer.SendControl(FrameType::kClose, "").ok();
  }
  if (!outcome.failed() && !got_status) {
    outcome.Fail(TransferFailure::kNetwork, Unavailable("the receiver sent no final status"));
  }
  if (!outcome.failed() && remote.bytes_written != reader.total()) {
    outcome.Fail(TransferFailure::kIntegrity,
                 DataLoss("the receiver wrote " + std::to_string(remote.bytes_written) +
                          " bytes of the " + std::to_string(reader.total()) + " sent"));
  }
  report.failure = outcome.failure();
  report.status = outcome.status();
  report.stream_bytes = reader.total();
  report.wire_bytes = writer.data_bytes_written();
  report.dedup_bytes = sealer.dedup_bytes();
  report.seconds = result.seconds;
  report.stream_digest_hex = reader.digest_hex();
  report.codec_level =
      controller ? AdaptiveController::LevelName(level.load()) : CodecSpecName(options.codec);
  report.remote = remote;
  report.pipeline = result;
  return report;
}

}  // namespace zsend
