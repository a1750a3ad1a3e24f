#include "tools/engine/bench/link_bench.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <vector>

#include "engine/wire/frame.h"

namespace zsend {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

constexpr size_t kChunk = 256 * 1024;

// Sealed messages in both directions.
class Messenger {
 public:
  Messenger(Channel& channel, const Session& session)
      : channel_(channel),
        out_(session.cipher, session.send_key),
        in_(session.cipher, session.receive_key) {}

  Status Send(const std::string& text) {
    Result<std::string> frame = BuildControlFrame(out_, FrameType::kStatus, next_out_++, text);
    if (!frame.ok()) return frame.status();
    return channel_.WriteAll(frame->data(), frame->size());
  }

  Result<std::string> Receive() {
    std::vector<std::byte> frame(kFrameHeaderSize);
    ZSEND_RETURN_IF_ERROR(channel_.ReadExact(frame.data(), kFrameHeaderSize));
    Result<FrameHeader> header = DecodeFrameHeader(frame.data(), kMaxControlBody);
    if (!header.ok()) return header.status();
    if (header->type != FrameType::kStatus || header->sequence != next_in_) {
      return DataLoss("bench: unexpected frame from the peer (" +
                      std::string(FrameTypeName(header->type)) + " #" +
                      std::to_string(header->sequence) + ")");
    }
    frame.resize(kFrameHeaderSize + header->length);
    ZSEND_RETURN_IF_ERROR(channel_.ReadExact(frame.data() + kFrameHeaderSize, header->length));
    Result<size_t> plain = in_.Open(frame.data(), *header);
    if (!plain.ok()) return plain.status();
    ++next_in_;
    return std::string(reinterpret_cast<const char*>(frame.data()) + kFrameHeaderSize, *plain);
  }

  Result<std::string> Expect(const std::string& word) {
    Result<std::string> m = Receive();
    if (!m.ok()) return m.status();
    if (m->rfind(word, 0) != 0) return DataLoss("bench: expected '" + word + "' from the peer");
    return m->substr(std::min(m->size(), word.size() + 1));
  }

 private:
  Channel& channel_;
  FrameCipher out_, in_;
  uint64_t next_out_ = 1, next_in_ = 1;
};

Status StreamFiller(Channel& channel, double seconds) {
  std::vector<std::byte> chunk(4 + kChunk, std::byte{0x33});
  const uint32_t n = kChunk;
  const uint8_t len[4] = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                          static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  std::memcpy(chunk.data(), len, 4);
  const Clock::time_point start = Clock::now();
  while (Since(start) < seconds)
    ZSEND_RETURN_IF_ERROR(channel.WriteAll(chunk.data(), chunk.size()));
  const uint8_t end[4] = {0, 0, 0, 0};
  return channel.WriteAll(end, 4);
}

// Reads filler to its end marker; the rate counts the chunks after the first one, timed from the
// first chunk's arrival, so the connection's slow start and the sender's burst weigh less.
Result<double> DrainFiller(Channel& channel) {
  std::vector<std::byte> buf(kChunk);
  uint64_t bytes = 0;
  Clock::time_point first{};
  bool started = false;
  for (;;) {
    uint8_t len[4];
    ZSEND_RETURN_IF_ERROR(channel.ReadExact(len, 4));
    const uint32_t n =
        (uint32_t{len[0]} << 24) | (uint32_t{len[1]} << 16) | (uint32_t{len[2]} << 8) | len[3];
    if (n == 0) break;
    if (n > kChunk) return DataLoss("bench: filler chunk larger than expected");
    ZSEND_RETURN_IF_ERROR(channel.ReadExact(buf.data(), n));
    if (!started) {
      first = Clock::now();
      started = true;
    } else {
      bytes += n;
    }
  }
  const double elapsed = started ? Since(first) : 0;
  return elapsed > 0 ? static_cast<double>(bytes) / elapsed : 0;
}

Result<double> ParseRate(const std::string& text) {
  try {
    return std::stod(text);
  } catch (...) {
    return DataLoss("bench: malformed rate from the peer");
  }
}

}  // namespace

Result<LinkBenchResult> RunLinkBench(Channel& channel, const Session& session, bool initiator,
                                     const CpuFigures& local, double seconds,
                                     const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& phase) {
    if (progress) progress(phase);
  };
  Messenger m(channel, session);
  LinkBenchResult result;
  channel.SetDeadline(seconds * 4 + 30);
  say("cpu figures");
  ZSEND_RETURN_IF_ERROR(m.Send("cpu " + EncodeCpuFigures(local)));
  Result<std::string> peer = m.Expect("cpu");
  if (!peer.ok()) return peer.status();
  Result<CpuFigures> peer_cpu = DecodeCpuFigures(*peer);
  if (!peer_cpu.ok()) return peer_cpu.status();
  result.peer = *peer_cpu;

  say("round trips");
  std::vector<double> rtts;
  if (initiator) {
    const Clock::time_point start = Clock::now();
    while (rtts.size() < 50 && (rtts.size() < 3 || Since(start) < std::min(seconds, 1.0))) {
      const Clock::time_point sent = Clock::now();
      ZSEND_RETURN_IF_ERROR(m.Send("ping " + std::to_string(rtts.size())));
      Result<std::string> pong = m.Expect("pong");
      if (!pong.ok()) return pong.status();
      rtts.push_back(Since(sent));
    }
    std::sort(rtts.begin(), rtts.end());
    result.link.rtt_seconds = rtts[rtts.size() / 2];
    result.link.pings = static_cast<int>(rtts.size());
    ZSEND_RETURN_IF_ERROR(m.Send("rtt " + std::to_string(result.link.rtt_seconds) + " " +
                                 std::to_string(result.link.pings)));
  } else {
    for (;;) {
      Result<std::string> msg = m.Receive();
      if (!msg.ok()) return msg.status();
      if (msg->rfind("ping ", 0) == 0) {
        ZSEND_RETURN_IF_ERROR(m.Send("pong " + msg->substr(5)));
        continue;
      }
      if (msg->rfind("rtt ", 0) != 0) return DataLoss("bench: expected 'rtt' from the peer");
      std::istringstream fields(msg->substr(4));
      fields >> result.link.rtt_seconds >> result.link.pings;
      break;
    }
  }

  // Upload (initiator -> responder), then download; the receiving side reports the rate.
  for (const bool upload : {true, false}) {
    say(upload ? "upload" : "download");
    const bool we_stream = upload == initiator;
    double& rate = upload ? result.link.upload_rate : result.link.download_rate;
    if (we_stream) {
      ZSEND_RETURN_IF_ERROR(StreamFiller(channel, seconds));
      Result<std::string> got = m.Expect("rate");
      if (!got.ok()) return got.status();
      Result<double> r = ParseRate(*got);
      if (!r.ok()) return r.status();
      rate = *r;
    } else {
      Result<double> r = DrainFiller(channel);
      if (!r.ok()) return r.status();
      rate = *r;
      std::ostringstream text;
      text.precision(17);
      text << "rate " << rate;
      ZSEND_RETURN_IF_ERROR(m.Send(text.str()));
    }
  }
  channel.SetDeadline(0);
  return result;
}

}  // namespace zsend
