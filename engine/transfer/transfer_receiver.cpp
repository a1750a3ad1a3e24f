#include "engine/transfer/transfer_receiver.h"

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/codec/dedup.h"
#include "engine/ring/digest.h"
#include "engine/wire/frame_codec.h"

namespace zsend {
namespace {

// Cuts the incoming stream at frame boundaries: each data frame becomes one block (still
// sealed); heartbeats are consumed, an error frame fails the input, the end frame ends it.
class FrameReader : public BlockReader {
 public:
  FrameReader(Channel& channel, const Session& session, double timeout, TransferOutcome& outcome,
              uint64_t first_control)
      : channel_(channel),
        opener_(session.cipher, session.receive_key),
        timeout_(timeout),
        outcome_(outcome),
        control_(kFrameHeaderSize + kMaxControlBody),
        next_control_(first_control) {}

  Result<bool> Fill(ByteSource& source, Block& block) override {
    block.size = 0;
    const uint32_t max_body = static_cast<uint32_t>(block.capacity - kFrameHeaderSize);
    for (;;) {
      channel_.SetDeadline(timeout_);
      ZSEND_RETURN_IF_ERROR(Explain(ReadOn(source, head_, kFrameHeaderSize, "a frame header")));
      Result<FrameHeader> header = DecodeFrameHeader(head_, max_body);
      if (!header.ok()) return Lost(header.status());
      if (header->type == FrameType::kData) {
        if (header->sequence != next_data_) return Lost(OutOfOrder(*header, next_data_));
        Begin(*header, Part::kDataBody);
        std::memcpy(block.data, head_, kFrameHeaderSize);
        ZSEND_RETURN_IF_ERROR(
            Explain(ReadOn(source, block.data + kFrameHeaderSize, header->length, "a data frame")));
        ++next_data_;
        block.size = kFrameHeaderSize + header->length;
        return false;
      }
      if (header->sequence != next_control_) return Lost(OutOfOrder(*header, next_control_));
      Begin(*header, Part::kControlBody);
      std::memcpy(control_.data(), head_, kFrameHeaderSize);
      ZSEND_RETURN_IF_ERROR(Explain(
          ReadOn(source, control_.data() + kFrameHeaderSize, header->length, "a control frame")));
      ++next_control_;
      Result<size_t> size = opener_.Open(control_.data(), *header);
      if (!size.ok()) return size.status();
      const std::string payload(reinterpret_cast<const char*>(control_.data()) + kFrameHeaderSize,
                                *size);
      switch (header->type) {
        case FrameType::kHeartbeat:
          continue;
        case FrameType::kEnd: {
          Result<EndPayload> end = DecodeEnd(payload);
          if (!end.ok()) return end.status();
          end_ = *end;
          return true;
        }
        case FrameType::kError: {
          Result<ErrorPayload> error = DecodeError(payload);
          if (!error.ok()) return error.status();
          Status s = Aborted("sender: " + error->message);
          outcome_.Fail(FromErrorReason(error->reason), s);
          peer_error_ = true;
          return s;
        }
        default:
          return DataLoss(std::string("unexpected ") + FrameTypeName(header->type) +
                          " frame from the sender");
      }
    }
  }

  // Valid once Fill() returned true.
  const EndPayload& end() const { return end_; }
  // The sender gave up with an error frame (whatever its reason, the link is in step).
  bool peer_error() const { return peer_error_; }

  // A session stream after our last frame: reads the sender's frames, checked in order and
  // (control frames) authenticated, until its close frame. It starts where Fill() stopped, also
  // inside a frame (the pipeline stopped its read when the consumer failed). Data frames still
  // in flight when the stream failed are read into `scratch` and dropped unopened.
  Status SkipToClose(size_t max_data_body) {
    if (part_ == Part::kLost) return DataLoss("the stream's frames were not readable");
    std::vector<std::byte> scratch;
    for (;;) {
      channel_.SetDeadline(timeout_);
      if (part_ == Part::kHeader) {
        ZSEND_RETURN_IF_ERROR(channel_.ReadExact(head_ + got_, kFrameHeaderSize - got_));
        Result<FrameHeader> header = DecodeFrameHeader(head_, static_cast<uint32_t>(max_data_body));
        if (!header.ok()) return header.status();
        const bool data = header->type == FrameType::kData;
        const uint64_t expected = data ? next_data_ : next_control_;
        if (header->sequence != expected) return OutOfOrder(*header, expected);
        Begin(*header, data ? Part::kDataBody : Part::kControlBody);
        if (!data) std::memcpy(control_.data(), head_, kFrameHeaderSize);
      }
      const size_t left = current_.length - got_;
      if (part_ == Part::kDataBody) {
        scratch.resize(left);
        ZSEND_RETURN_IF_ERROR(channel_.ReadExact(scratch.data(), left));
        ++next_data_;
        part_ = Part::kHeader;
        got_ = 0;
        continue;
      }
      ZSEND_RETURN_IF_ERROR(channel_.ReadExact(control_.data() + kFrameHeaderSize + got_, left));
      ++next_control_;
      part_ = Part::kHeader;
      got_ = 0;
      Result<size_t> opened = opener_.Open(control_.data(), current_);
      if (!opened.ok()) return opened.status();
      if (current_.type == FrameType::kClose) return Status::Ok();
      if (current_.type != FrameType::kHeartbeat && current_.type != FrameType::kError &&
          current_.type != FrameType::kEnd) {
        return DataLoss(std::string("unexpected ") + FrameTypeName(current_.type) +
                        " frame from the sender");
      }
    }
  }

 private:
  Status Explain(const Status& s) {
    if (s.code() == StatusCode::kDeadlineExceeded) {
      return DeadlineExceeded("the sender sent nothing for " + std::to_string(int(timeout_)) +
                              " s (stalled or unreachable; --timeout)");
    }
    if (s.code() == StatusCode::kUnavailable) {
      return DataLoss("the stream ended before its end frame (" + s.message() + ")");
    }
    return s;
  }
  static Status OutOfOrder(const FrameHeader& h, uint64_t expected) {
    return DataLoss(std::string(FrameTypeName(h.type)) + " frame " + std::to_string(h.sequence) +
                    " arrived where " + std::to_string(expected) +
                    " was due (dropped, repeated or reordered frames)");
  }

  // Where the reader is inside the current frame: its header (got_ bytes of head_ read), or
  // the body of current_ (got_ bytes read). A read stopped mid-frame keeps its place here.
  // kLost: a header that did not decode or came out of order; where the next frame starts is
  // unknown.
  enum class Part { kHeader, kDataBody, kControlBody, kLost };
  Status Lost(Status why) {
    part_ = Part::kLost;
    return why;
  }
  void Begin(const FrameHeader& header, Part part) {
    current_ = header;
    part_ = part;
    got_ = 0;
  }
  // Reads the rest of the current part (from got_ to n) into `buf`, counting in got_; the part
  // after it starts at 0 once the whole part is in.
  Status ReadOn(ByteSource& source, std::byte* buf, size_t n, const char* what) {
    while (got_ < n) {
      Result<size_t> got = source.Read(buf + got_, n - got_);
      if (!got.ok()) return got.status();
      if (*got == 0) {
        return Unavailable(source.Describe() + ": connection closed in the middle of " + what);
      }
      got_ += *got;
    }
    got_ = 0;
    part_ = Part::kHeader;
    return Status::Ok();
  }

  Channel& channel_;
  FrameCipher opener_;
  double timeout_;
  TransferOutcome& outcome_;
  std::vector<std::byte> control_;
  uint64_t next_data_ = 0;
  uint64_t next_control_;
  EndPayload end_;
  bool peer_error_ = false;
  Part part_ = Part::kHeader;
  size_t got_ = 0;
  FrameHeader current_{};
  std::byte head_[kFrameHeaderSize] = {};
};

// Authenticates and opens each data frame in place; a compressed frame is decoded into the
// worker's scratch buffer and copied back (the raw size never exceeds the block). A frame with
// dedup references is marked for the ExpandTransform.
class OpenTransform : public BlockTransform {
 public:
  OpenTransform(const Session& session, int workers) : dedup_(session.dedup_window > 0) {
    for (int i = 0; i < std::max(1, workers); ++i) {
      ciphers_.push_back(std::make_unique<FrameCipher>(session.cipher, session.receive_key));
      decompressors_.push_back(std::make_unique<FrameDecompressor>(session.block_size));
    }
  }
  Status Apply(Block& block, int worker) override {
    Result<FrameHeader> header = DecodeFrameHeader(block.data, UINT32_MAX);
    if (!header.ok()) return header.status();
    Result<size_t> size = ciphers_[static_cast<size_t>(worker)]->Open(block.data, *header);
    if (!size.ok()) return size.status();
    size_t raw = *size;
    if ((header->flags & kFlagCompressed) != 0) {
      Result<size_t> decoded = decompressors_[static_cast<size_t>(worker)]->Apply(
          block.data + kFrameHeaderSize, *size, header->codec);
      if (!decoded.ok()) {
        return DataLoss("data frame " + std::to_string(header->sequence) + ": " +
                        decoded.status().message());
      }
      raw = *decoded;
    }
    if ((header->flags & kFlagDedup) != 0 && !dedup_) {
      return DataLoss("data frame " + std::to_string(header->sequence) +
                      " has dedup references, but the session agreed on no dedup window");
    }
    block.out = block.data + kFrameHeaderSize;
    block.out_size = raw;
    block.out_flags = header->flags;
    return Status::Ok();
  }

 private:
  const bool dedup_;
  std::vector<std::unique_ptr<FrameCipher>> ciphers_;
  std::vector<std::unique_ptr<FrameDecompressor>> decompressors_;
};

// Resolves dedup references in stream order against the window of stream already written.
class ExpandTransform : public OrderedTransform {
 public:
  explicit ExpandTransform(const Session& session)
      : history_(session.dedup_window, session.block_size) {}
  Status Apply(Block& block) override {
    if ((block.out_flags & kFlagDedup) != 0) {
      Result<std::span<const std::byte>> raw = history_.Expand(block.out, block.out_size);
      if (!raw.ok()) {
        return DataLoss("data frame " + std::to_string(block.sequence) + ": " +
                        raw.status().message());
      }
      block.out = raw->data();
      block.out_size = raw->size();
    }
    history_.Append(block.out, block.out_size);
    return Status::Ok();
  }

 private:
  DedupHistory history_;
};

// Counts and hashes what reaches the consumer; finishes it only when the end frame agrees.
class VerifyingSink : public ByteSink {
 public:
  VerifyingSink(Consumer& consumer, FrameReader& reader, std::unique_ptr<Digest> digest)
      : consumer_(consumer), reader_(reader), digest_(std::move(digest)) {}
  Status Write(const std::byte* buf, size_t len) override {
    digest_->Update(buf, len);
    ZSEND_RETURN_IF_ERROR(consumer_.Write(buf, len));
    written_ += len;
    return Status::Ok();
  }
  Status Finish() override {
    digest_hex_ = digest_->FinishHex();
    const EndPayload& end = reader_.end();
    if (end.total_bytes != written_) {
      return DataLoss("the sender sent " + std::to_string(end.total_bytes) + " bytes, " +
                      std::to_string(written_) + " arrived");
    }
    if (noise::ToHex(noise::ByteSpan(reinterpret_cast<const uint8_t*>(end.digest.data()),
                                     end.digest.size())) != digest_hex_) {
      return DataLoss("the stream's XXH3-128 digest does not match the sender's");
    }
    verified_ = true;
    Status finished = consumer_.Finish();
    if (!finished.ok()) consumer_failed_ = true;
    return finished;
  }
  std::string Describe() const override { return consumer_.Describe(); }
  uint64_t written() const { return written_; }
  bool verified() const { return verified_; }
  bool consumer_failed() const { return consumer_failed_; }
  const std::string& digest_hex() const { return digest_hex_; }

 private:
  Consumer& consumer_;
  FrameReader& reader_;
  std::unique_ptr<Digest> digest_;
  uint64_t written_ = 0;
  bool verified_ = false;
  bool consumer_failed_ = false;
  std::string digest_hex_;
};

TransferFailure ClassifyReceive(const PipelineResult& r, const VerifyingSink& sink) {
  switch (r.failed_stage) {
    case PipelineStage::kInput:
    case PipelineStage::kTransform:
      if (r.status.code() == StatusCode::kResourceExhausted) return TransferFailure::kInternal;
      return ClassifyStatus(r.status);
    case PipelineStage::kOutput:
      if (sink.consumer_failed() || r.status.code() == StatusCode::kAborted) {
        return TransferFailure::kConsumer;
      }
      return r.status.code() == StatusCode::kDataLoss ? TransferFailure::kIntegrity
                                                      : TransferFailure::kOutput;
    case PipelineStage::kWatchdog:
      return TransferFailure::kTimeout;
    case PipelineStage::kStopped:
      return TransferFailure::kStopped;
    default:
      return TransferFailure::kInternal;
  }
}

// After our last frame: half-close and read until the sender closes (bounded), so that unread
// bytes in our socket buffer cannot turn our close into a reset that eats the last frame.
void Drain(Channel& channel) {
  channel.CloseWrite();
  channel.SetDeadline(5);
  std::byte sink[16384];
  for (;;) {
    Result<size_t> n = channel.ReadSome(sink, sizeof sink);
    if (!n.ok() || *n == 0) return;
  }
}

}  // namespace

TransferReport RunReceiveTransfer(Channel& channel, const Session& session, Consumer& consumer,
                                  const TransferOptions& options) {
  TransferReport report;
  TransferOutcome outcome;
  Result<std::unique_ptr<Digest>> digest = Digest::Create(kStreamDigest);
  if (!digest.ok()) {
    report.failure = TransferFailure::kInternal;
    report.status = digest.status();
    return report;
  }
  const uint64_t first_control = options.session_stream ? 2 : 1;
  FrameReader reader(channel, session, options.timeout_seconds, outcome, first_control);
  OpenTransform opener(session, options.workers);
  std::optional<ExpandTransform> expander;
  if (session.dedup_window > 0) expander.emplace(session);
  VerifyingSink sink(consumer, reader, std::move(*digest));
  FrameWriter writer(channel, FrameCipher(session.cipher, session.send_key), first_control);
  ChannelSource source(channel);

  PipelineOptions pipeline = options.pipeline;
  pipeline.ring.block_size = session.block_size + kFrameHeaderSize + kFrameTagSize;
  pipeline.block_reader = &reader;
  pipeline.transform = &opener;
  pipeline.workers = std::max(1, options.workers);
  // --timeout also covers a consumer that takes nothing (zfs receive under SIGSTOP): the
  // receiver's heartbeats would otherwise keep the sender waiting for the final status for ever.
  // The link's idle timeout covers the input side, so a slow link is no stall.
  if (pipeline.watchdog_seconds <= 0) {
    pipeline.watchdog_seconds = options.timeout_seconds;
    pipeline.watchdog_scope = PipelineOptions::WatchdogScope::kOutput;
  }
  if (expander) {
    pipeline.ordered_transform = &*expander;
    // The window and the expansion buffer come out of --memory; the handshake agreed on a
    // window that leaves room for four blocks (DedupWindowThatFits).
    const uint64_t held = session.dedup_window + session.block_size;
    pipeline.ring.memory = pipeline.ring.memory > held ? pipeline.ring.memory - held : 0;
  }
  auto outer_stop = options.pipeline.stop_requested;
  pipeline.stop_requested = [&] { return outer_stop && outer_stop(); };

  PipelineResult result;
  {
    Heartbeat heartbeat(writer, options.heartbeat_seconds);
    result = Pipeline(pipeline).Run(source, sink);
    if (!result.status.ok()) {
      outcome.Fail(ClassifyReceive(result, sink), result.status);
    }
    StatusPayload status;
    status.bytes_written = sink.written();
    if (!outcome.failed() || outcome.failure() == TransferFailure::kConsumer) {
      if (outcome.failed() && !sink.consumer_failed()) consumer.Abandon();
      status.consumer_exit = outcome.failed() ? consumer.exit_code() : 0;
      if (outcome.failed() && status.consumer_exit == 0) status.consumer_exit = 1;
      status.stderr_tail = consumer.stderr_tail();
      (void)writer.SendControl(FrameType::kStatus, EncodeStatus(status));
    } else {
      consumer.Abandon();
      const TransferFailure f = outcome.failure();
      // A session stream's sender waits for our last word whenever it told us why it gave up
      // (the reason may read as a network failure) and when its producer failed.
      const bool peer_said = options.session_stream && reader.peer_error();
      if (((f != TransferFailure::kNetwork && f != TransferFailure::kTimeout) || peer_said) &&
          (f != TransferFailure::kProducer || options.session_stream)) {
        channel.SetDeadline(2);
        (void)writer.SendControl(FrameType::kError,
                                 EncodeError({ToErrorReason(f), outcome.status().message()}));
      }
    }
  }
  const TransferFailure f = outcome.failure();
  const bool link_alive = (options.session_stream && reader.peer_error()) ||
                          (f != TransferFailure::kTimeout && f != TransferFailure::kNetwork &&
                           f != TransferFailure::kStopped);
  if (options.session_stream) {
    // A frame this side found forged or corrupt ends the link too, not only the stream.
    const bool corrupt = f == TransferFailure::kIntegrity && !reader.peer_error();
    report.link_reusable =
        link_alive && !corrupt && reader.SkipToClose(session.block_size + kMaxDataOverhead).ok();
  } else if (link_alive || f == TransferFailure::kStopped) {
    Drain(channel);
  }
  report.failure = outcome.failure();
  report.status = outcome.status();
  report.stream_bytes = sink.written();
  report.wire_bytes = result.bytes_in;
  report.seconds = result.seconds;
  report.stream_digest_hex = sink.digest_hex();
  report.pipeline = result;
  return report;
}

}  // namespace zsend
