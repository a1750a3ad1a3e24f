#include "engine/transfer_sender.h"

#include <memory>
#include <thread>
#include <vector>

#include "engine/digest.h"

namespace zsend {
namespace {

// Fills each block with up to one frame's worth of stream, leaving room for the header in front
// and the tag behind, and hashes the stream in order (the reader is one thread).
class SenderReader : public BlockReader {
 public:
  SenderReader(uint32_t payload_max, std::unique_ptr<Digest> sha)
      : payload_max_(payload_max), sha_(std::move(sha)) {}

  Result<bool> Fill(ByteSource& source, Block& block) override {
    std::byte* payload = block.data + kFrameHeaderSize;
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
    sha_->Update(payload, n);
    total_ += n;
    block.size = n == 0 ? 0 : kFrameHeaderSize + n;
    if (eof) sha_hex_ = sha_->FinishHex();
    return eof;
  }

  // Valid once Fill() returned true (the ring orders this before the writer's Finish()).
  uint64_t total() const { return total_; }
  const std::string& sha_hex() const { return sha_hex_; }

 private:
  uint32_t payload_max_;
  std::unique_ptr<Digest> sha_;
  uint64_t total_ = 0;
  std::string sha_hex_;
};

// Turns a block into a data frame in place. Codec slot: once codecs are plugged in, a worker
// compresses the payload into its scratch buffer and, when smaller, copies it back and sets
// kFlagCompressed and the codec id; until then every frame travels raw.
class SealTransform : public BlockTransform {
 public:
  SealTransform(const Session& session, int workers) {
    for (int i = 0; i < std::max(1, workers); ++i) {
      ciphers_.push_back(std::make_unique<FrameCipher>(session.cipher, session.send_key));
    }
  }
  Status Apply(Block& block, int worker) override {
    const size_t n = block.size - kFrameHeaderSize;
    FrameHeader header{FrameType::kData, 0, 0, static_cast<uint32_t>(n + kFrameTagSize),
                       block.sequence};
    EncodeFrameHeader(header, block.data);
    ZSEND_RETURN_IF_ERROR(ciphers_[static_cast<size_t>(worker)]->Seal(block.data, n));
    block.out = block.data;
    block.out_size = kFrameHeaderSize + n + kFrameTagSize;
    return Status::Ok();
  }

 private:
  std::vector<std::unique_ptr<FrameCipher>> ciphers_;
};

// The pipeline's sink: frames to the FrameWriter, and the end frame on Finish().
class SenderSink : public ByteSink {
 public:
  SenderSink(FrameWriter& writer, SenderReader& reader) : writer_(writer), reader_(reader) {}
  Status Write(const std::byte* buf, size_t len) override { return writer_.Write(buf, len); }
  Status Finish() override {
    Result<noise::Bytes> raw = noise::FromHex(reader_.sha_hex());
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
void ControlLoop(Channel& channel, const Session& session, double timeout, TransferOutcome& outcome,
                 StatusPayload* remote, bool* got_status) {
  FrameCipher opener(session.cipher, session.receive_key);
  std::vector<std::byte> buf(kFrameHeaderSize + kMaxControlBody);
  for (uint64_t next = 1;; ++next) {
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
        return;
      }
      case FrameType::kStatus: {
        Result<StatusPayload> status = DecodeStatus(payload);
        if (!status.ok()) return (void)outcome.Fail(TransferFailure::kIntegrity, status.status());
        *remote = *status;
        *got_status = true;
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
  Result<std::unique_ptr<Digest>> sha = Digest::Create("sha256");
  if (!sha.ok()) {
    report.failure = TransferFailure::kInternal;
    report.status = sha.status();
    return report;
  }
  SenderReader reader(session.block_size, std::move(*sha));
  SealTransform sealer(session, options.workers);
  FrameWriter writer(channel, FrameCipher(session.cipher, session.send_key));
  SenderSink sink(writer, reader);

  PipelineOptions pipeline = options.pipeline;
  pipeline.ring.block_size = session.block_size + kFrameHeaderSize + kFrameTagSize;
  pipeline.block_reader = &reader;
  pipeline.transform = &sealer;
  pipeline.workers = std::max(1, options.workers);
  auto outer_stop = options.pipeline.stop_requested;
  pipeline.stop_requested = [&] { return outcome.failed() || (outer_stop && outer_stop()); };

  StatusPayload remote;
  bool got_status = false;
  std::thread control([&] {
    ControlLoop(channel, session, options.timeout_seconds, outcome, &remote, &got_status);
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
      if (f != TransferFailure::kNetwork && f != TransferFailure::kTimeout) {
        channel.SetDeadline(2);
        (void)writer.SendControl(FrameType::kError,
                                 EncodeError({ToErrorReason(f), outcome.status().message()}));
      }
      channel.Stop();
    }
    control.join();
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
  report.seconds = result.seconds;
  report.sha256_hex = reader.sha_hex();
  report.remote = remote;
  report.pipeline = result;
  return report;
}

}  // namespace zsend
