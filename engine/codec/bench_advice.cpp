#include "engine/codec/bench_advice.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/wire/session_handshake.h"

namespace zsend {

double CpuFigures::SealRate() const {
  return CpuHasAes() && seal_aes_rate > 0 ? seal_aes_rate : seal_chacha_rate;
}
namespace {

const CodecFigure* FindCodec(const CpuFigures& cpu, const std::string& spec) {
  for (const CodecFigure& c : cpu.codecs) {
    if (c.spec == spec) return &c;
  }
  return nullptr;
}

// Seconds of one core per stream byte; "none" costs nothing beyond sealing.
double Cost(double rate) {
  return rate > 0 ? 1.0 / rate : 0;
}

uint64_t RoundUpMiB(double bytes) {
  uint64_t mib = 1;
  while (static_cast<double>(mib << 20) < bytes && mib < 4096) mib <<= 1;
  return mib << 20;
}

}  // namespace

Advice Recommend(const CpuFigures& sender, const CpuFigures& receiver, double link_rate,
                 double rtt_seconds) {
  Advice advice;
  const int threads = std::max(1, std::min(sender.cores, receiver.cores));
  for (const CodecFigure& c : sender.codecs) {
    const CodecFigure* far = FindCodec(receiver, c.spec);
    const double decompress = far != nullptr ? far->decompress_rate : c.decompress_rate;
    const bool none = c.spec == "none";
    const double r = std::max(c.ratio, 1e-3);
    const double send_cost = (none ? 0 : Cost(c.compress_rate)) + Cost(sender.SealRate()) / r;
    const double recv_cost = (none ? 0 : Cost(decompress)) + Cost(receiver.SealRate()) / r;
    CodecExpectation e{c.spec, c.ratio, link_rate * r, "link"};
    auto bound = [&](double rate, const char* why) {
      if (rate > 0 && rate < e.stream_rate) {
        e.stream_rate = rate;
        e.limit = why;
      }
    };
    if (send_cost > 0) bound(threads / send_cost, "sender cpu");
    if (recv_cost > 0) bound(threads / recv_cost, "receiver cpu");
    bound(sender.pipe_read_rate, "pipe");
    advice.choices.push_back(e);
  }
  // The fastest choice; among choices within 3% of it, the one that compresses most.
  double best = 0;
  for (const CodecExpectation& e : advice.choices) best = std::max(best, e.stream_rate);
  const CodecExpectation* pick = nullptr;
  for (const CodecExpectation& e : advice.choices) {
    if (e.stream_rate >= 0.97 * best && (pick == nullptr || e.ratio > pick->ratio)) pick = &e;
  }
  if (pick == nullptr) return advice;
  advice.codec = pick->spec;
  advice.expected_rate = pick->stream_rate;
  advice.limit = pick->limit;
  // Threads: enough cores to keep up with what the link can carry, no more than both have.
  const CodecFigure* chosen = FindCodec(sender, pick->spec);
  const double r = std::max(pick->ratio, 1e-3);
  const double per_thread =
      1.0 / std::max(1e-12, (pick->spec == "none" ? 0 : Cost(chosen->compress_rate)) +
                                Cost(sender.SealRate()) / r);
  const double wanted = link_rate * r;
  advice.threads = std::clamp(static_cast<int>(std::ceil(wanted / per_thread)), 1, threads);
  // Block size: 1 MiB, bigger for fast links (fewer frames), smaller for very slow ones.
  const double wire = advice.expected_rate / r;
  advice.block_size = wire > 500e6 ? (4u << 20) : wire < 2e6 ? (256u << 10) : (1u << 20);
  // Memory: four bandwidth-delay products, a quarter second of the stream (at most 256 MiB) to
  // smooth the bursts of zfs send, at least 8 blocks; 16 MiB..1 GiB.
  const double bdp = wire * rtt_seconds;
  const double want = std::max({4 * bdp, std::min(0.25 * advice.expected_rate, 256.0 * (1 << 20)),
                                8.0 * static_cast<double>(advice.block_size), 16.0 * (1 << 20)});
  advice.memory = std::min<uint64_t>(RoundUpMiB(want), 1ull << 30);
  return advice;
}

std::string EncodeCpuFigures(const CpuFigures& cpu) {
  std::ostringstream out;
  out.precision(17);
  out << "cores " << cpu.cores << "\npipe " << cpu.pipe_read_rate << "\naes " << cpu.seal_aes_rate
      << "\nchacha " << cpu.seal_chacha_rate << "\n";
  for (const CodecFigure& c : cpu.codecs) {
    out << "codec " << c.spec << " " << c.ratio << " " << c.compress_rate << " "
        << c.decompress_rate << "\n";
  }
  return out.str();
}

Result<CpuFigures> DecodeCpuFigures(const std::string& text) {
  CpuFigures cpu;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "cores") {
      fields >> cpu.cores;
    } else if (key == "pipe") {
      fields >> cpu.pipe_read_rate;
    } else if (key == "aes") {
      fields >> cpu.seal_aes_rate;
    } else if (key == "chacha") {
      fields >> cpu.seal_chacha_rate;
    } else if (key == "codec") {
      CodecFigure c;
      fields >> c.spec >> c.ratio >> c.compress_rate >> c.decompress_rate;
      cpu.codecs.push_back(c);
    } else {
      continue;  // a later version's figure
    }
    if (fields.fail()) return DataLoss("bench: malformed CPU figures from the peer: " + line);
  }
  if (cpu.cores < 1 || cpu.codecs.empty()) return DataLoss("bench: the peer sent no CPU figures");
  return cpu;
}

}  // namespace zsend
