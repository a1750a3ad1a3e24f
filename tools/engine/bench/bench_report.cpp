#include "tools/engine/bench/bench_report.h"

#include <cstdio>

#include "engine/wire/session_handshake.h"

namespace zsend::tool {
namespace {

double Mb(double bytes_per_second) {
  return bytes_per_second / 1e6;
}

nlohmann::json CpuJson(const CpuFigures& cpu) {
  nlohmann::json codecs = nlohmann::json::array();
  for (const CodecFigure& c : cpu.codecs) {
    codecs.push_back({{"codec", c.spec},
                      {"ratio", c.ratio},
                      {"compress_mbps", Mb(c.compress_rate)},
                      {"decompress_mbps", Mb(c.decompress_rate)}});
  }
  return {
      {"cores", cpu.cores},
      {"pipe_read_mbps", Mb(cpu.pipe_read_rate)},
      {"seal_mbps",
       {{"aes-256-gcm", Mb(cpu.seal_aes_rate)}, {"chacha20-poly1305", Mb(cpu.seal_chacha_rate)}}},
      {"codecs", codecs}};
}

nlohmann::json AdviceJson(const Advice& a) {
  nlohmann::json choices = nlohmann::json::array();
  for (const CodecExpectation& e : a.choices) {
    choices.push_back({{"codec", e.spec},
                       {"ratio", e.ratio},
                       {"expected_mbps", Mb(e.stream_rate)},
                       {"limit", e.limit}});
  }
  return {{"codec", a.codec},
          {"threads", a.threads},
          {"memory", a.memory},
          {"block_size", a.block_size},
          {"expected_mbps", Mb(a.expected_rate)},
          {"limit", a.limit},
          {"choices", choices}};
}

void PrintCodecTable(const CpuFigures& cpu) {
  std::printf("  %-10s %7s %14s %16s\n", "codec", "ratio", "compress MB/s", "decompress MB/s");
  for (const CodecFigure& c : cpu.codecs) {
    std::printf("  %-10s %7.2f %14.1f %16.1f\n", c.spec.c_str(), c.ratio, Mb(c.compress_rate),
                Mb(c.decompress_rate));
  }
}

std::string Size(uint64_t bytes) {
  return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + "M"
                             : std::to_string(bytes >> 10) + "K";
}

void PrintAdvice(const char* title, const Advice& a) {
  std::printf("%s\n", title);
  std::printf("  %-10s %7s %14s  %s\n", "codec", "ratio", "expected MB/s", "limited by");
  for (const CodecExpectation& e : a.choices) {
    std::printf("  %-10s %7.2f %14.1f  %s\n", e.spec.c_str(), e.ratio, Mb(e.stream_rate),
                e.limit.c_str());
  }
  std::printf(
      "  recommended: --codec %s --threads %d --memory %s --block-size %s"
      " (expected %.1f MB/s, limited by %s)\n",
      a.codec.c_str(), a.threads, Size(a.memory).c_str(), Size(a.block_size).c_str(),
      Mb(a.expected_rate), a.limit.c_str());
}

}  // namespace

std::pair<std::string, double> Bottleneck(const LocalBench& b) {
  const bool aes = CpuHasAes() && b.cpu.seal_aes_rate > 0;
  std::pair<std::string, double> slowest{"pipe read", b.cpu.pipe_read_rate};
  const double seal = b.cpu.SealRate() * b.cpu.cores;
  if (seal < slowest.second) {
    slowest = {aes ? "seal aes-256-gcm" : "seal chacha20-poly1305", seal};
  }
  if (b.loopback.rate > 0 && b.loopback.rate < 0.8 * slowest.second) {
    slowest = {"send/recv path (framing, copies, socket)", b.loopback.rate};
  }
  return slowest;
}

nlohmann::json LocalJson(const LocalBench& b) {
  const auto [stage, rate] = Bottleneck(b);
  return {{"mode", "local"},
          {"seconds", b.seconds},
          {"sample", {{"source", b.sample_source}, {"bytes", b.sample_bytes}}},
          {"cpu", CpuJson(b.cpu)},
          {"loopback",
           {{"mbps", Mb(b.loopback.rate)},
            {"bytes", b.loopback.bytes},
            {"seconds", b.loopback.seconds},
            {"cipher", b.loopback.cipher}}},
          {"bottleneck", {{"stage", stage}, {"mbps", Mb(rate)}}}};
}

nlohmann::json LinkJson(const LinkBench& b) {
  return {{"mode", "link"},
          {"role", b.role},
          {"seconds", b.seconds},
          {"link",
           {{"send_mbps", Mb(b.send_rate)},
            {"receive_mbps", Mb(b.receive_rate)},
            {"rtt_ms", b.link.rtt_seconds * 1e3},
            {"pings", b.link.pings}}},
          {"local_cpu", CpuJson(b.local)},
          {"peer_cpu", CpuJson(b.peer)},
          {"recommendation",
           {{"sending", AdviceJson(b.sending)}, {"receiving", AdviceJson(b.receiving)}}}};
}

void PrintLocal(const LocalBench& b) {
  std::printf("zsend-engine bench --local: %d cores, sample %s (%.1f MB), %.1f s per stage\n",
              b.cpu.cores, b.sample_source.c_str(), b.sample_bytes / 1e6, b.seconds);
  std::printf("  %-34s %10.1f MB/s\n", "pipe read", Mb(b.cpu.pipe_read_rate));
  std::printf("  %-34s %10.1f MB/s (one core)\n", "seal aes-256-gcm", Mb(b.cpu.seal_aes_rate));
  std::printf("  %-34s %10.1f MB/s (one core)\n", "seal chacha20-poly1305",
              Mb(b.cpu.seal_chacha_rate));
  std::printf("  %-34s %10.1f MB/s (%s, %d threads)\n", "loopback send -> recv",
              Mb(b.loopback.rate), b.loopback.cipher.c_str(), b.cpu.cores);
  PrintCodecTable(b.cpu);
  const auto [stage, rate] = Bottleneck(b);
  std::printf(
      "bottleneck without compression: %s at %.1f MB/s; a codec whose compress MB/s x "
      "%d cores is below that becomes the bottleneck\n",
      stage.c_str(), Mb(rate), b.cpu.cores);
}

void PrintLink(const LinkBench& b) {
  std::printf(
      "zsend-engine bench (%s): link %.1f MB/s out, %.1f MB/s in, rtt %.2f ms "
      "(%d pings); cores here %d, peer %d\n",
      b.role.c_str(), Mb(b.send_rate), Mb(b.receive_rate), b.link.rtt_seconds * 1e3, b.link.pings,
      b.local.cores, b.peer.cores);
  std::printf("this host\n");
  PrintCodecTable(b.local);
  std::printf("peer\n");
  PrintCodecTable(b.peer);
  PrintAdvice("sending from this host:", b.sending);
  PrintAdvice("receiving on this host:", b.receiving);
}

}  // namespace zsend::tool
