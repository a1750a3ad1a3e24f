// BenchLoopbackTransfer (stage_bench.h): the real send and receive code over a socketpair.
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "engine/transfer/transfer_receiver.h"
#include "engine/transfer/transfer_sender.h"
#include "engine/wire/channel.h"
#include "tools/engine/bench/stage_bench.h"
#include "transports/fd_channel.h"

namespace zsend {
namespace {

using Clock = std::chrono::steady_clock;

// The sample over and over until the deadline, then the end of the stream.
class RepeatSource : public ByteSource {
 public:
  RepeatSource(const std::vector<std::byte>& sample, double seconds)
      : sample_(sample),
        deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds))) {}
  Result<size_t> Read(std::byte* buf, size_t len) override {
    if (Clock::now() >= deadline_) return size_t{0};
    const size_t n = std::min(len, sample_.size() - at_);
    std::memcpy(buf, sample_.data() + at_, n);
    at_ = (at_ + n) % sample_.size();
    return n;
  }
  std::string Describe() const override { return "bench sample"; }

 private:
  const std::vector<std::byte>& sample_;
  Clock::time_point deadline_;
  size_t at_ = 0;
};

class DiscardConsumer : public Consumer {
 public:
  Status Write(const std::byte*, size_t) override { return Status::Ok(); }
  void Abandon() override {}
  std::string Describe() const override { return "discard"; }
};

}  // namespace

Result<LoopbackFigure> BenchLoopbackTransfer(const std::vector<std::byte>& sample, double seconds,
                                             int workers) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus("socketpair", errno);
  }
  FdChannel send_side(UniqueFd(fds[0]), "loopback sender");
  FdChannel recv_side(UniqueFd(fds[1]), "loopback receiver");
  Session sender;
  sender.cipher = CpuHasAes() ? BulkCipher::kAesGcm : BulkCipher::kChaChaPoly;
  sender.block_size = 1 << 20;
  std::mt19937_64 rng(std::random_device{}());
  for (size_t i = 0; i < noise::CipherKey::size(); ++i) {
    sender.send_key.data()[i] = static_cast<uint8_t>(rng());
    sender.receive_key.data()[i] = static_cast<uint8_t>(rng());
  }
  Session receiver = sender;
  std::swap(receiver.send_key, receiver.receive_key);

  TransferOptions options;
  options.workers = std::max(1, workers);
  options.pipeline.ring.memory = 32 << 20;
  options.pipeline.ring.block_size = sender.block_size;
  options.timeout_seconds = seconds + 30;
  options.heartbeat_seconds = 1;
  DiscardConsumer discard;
  TransferReport received;
  std::thread receive_thread(
      [&] { received = RunReceiveTransfer(recv_side, receiver, discard, options); });
  RepeatSource source(sample, seconds);
  TransferReport sent = RunSendTransfer(send_side, sender, source, nullptr, options);
  // A sender process would exit here; its FIN ends the receiver's drain after the last frame.
  send_side.CloseWrite();
  if (!sent.ok()) recv_side.Stop();
  receive_thread.join();
  if (!sent.ok()) return sent.status;
  if (!received.ok()) return received.status;
  LoopbackFigure figure;
  figure.bytes = sent.stream_bytes;
  figure.seconds = sent.seconds;
  figure.rate = sent.seconds > 0 ? static_cast<double>(sent.stream_bytes) / sent.seconds : 0;
  figure.cipher = BulkCipherName(sender.cipher);
  return figure;
}

}  // namespace zsend
