#include "tools/engine/bench/stage_bench.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "base/unique_fd.h"
#include "engine/wire/session_handshake.h"

namespace zsend {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::vector<std::byte> MakeSyntheticSample(size_t size) {
  static constexpr const char* kWords[] = {"dataset", "snapshot", "block",    "record",   "tank",
                                           "pool",    "object",   "dnode",    "indirect", "0x1f",
                                           "write",   "txg",      "checksum", "=",        "\n"};
  std::vector<std::byte> out(size);
  std::mt19937_64 rng(42);
  constexpr size_t kPiece = 64 * 1024;
  for (size_t at = 0, piece = 0; at < size; at += kPiece, ++piece) {
    const size_t n = std::min(kPiece, size - at);
    std::byte* p = out.data() + at;
    switch (piece % 3) {
      case 0:  // text-like
        for (size_t i = 0; i < n;) {
          const char* w = kWords[rng() % std::size(kWords)];
          for (; *w != '\0' && i < n; ++w) p[i++] = static_cast<std::byte>(*w);
          if (i < n) p[i++] = std::byte{' '};
        }
        break;
      case 1:  // zeros
        std::memset(p, 0, n);
        break;
      default:  // random
        for (size_t i = 0; i < n; ++i) p[i] = static_cast<std::byte>(rng() & 0xff);
    }
  }
  return out;
}

Result<std::vector<std::byte>> LoadSample(const std::string& path, size_t max_size) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("cannot open --sample " + path, errno);
  std::vector<std::byte> out(max_size);
  size_t got = 0;
  while (got < max_size) {
    const ssize_t n = read(fd.get(), out.data() + got, max_size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read --sample " + path, errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got == 0) return InvalidArgument("--sample " + path + " is empty; give a non-empty file");
  out.resize(got);
  return out;
}

std::vector<CodecSpec> BenchCodecSpecs() {
  return {{CodecFormat::kNone, 0}, {CodecFormat::kLz4, 0},  {CodecFormat::kZstd, 1},
          {CodecFormat::kZstd, 3}, {CodecFormat::kZstd, 9}, {CodecFormat::kGzip, 1},
          {CodecFormat::kGzip, 6}};
}

Result<CodecFigure> BenchCodec(const CodecSpec& spec, const std::vector<std::byte>& sample,
                               size_t block_size, double seconds) {
  Result<std::unique_ptr<Codec>> codec = MakeCodec(spec.format, spec.level);
  if (!codec.ok()) return codec.status();
  CodecFigure figure;
  figure.spec = CodecSpecName(spec);
  if (spec.format == CodecFormat::kNone) {  // no frames: a copy is all "none" costs
    std::vector<std::byte> copy(block_size);
    uint64_t bytes = 0;
    const Clock::time_point start = Clock::now();
    do {
      for (size_t at = 0; at < sample.size(); at += block_size) {
        const size_t n = std::min(block_size, sample.size() - at);
        std::memcpy(copy.data(), sample.data() + at, n);
        bytes += n;
      }
    } while (Since(start) < seconds);
    figure.compress_rate = figure.decompress_rate = static_cast<double>(bytes) / Since(start);
    return figure;
  }
  // Compress every block of the sample, as often as time allows.
  std::vector<std::vector<std::byte>> frames;
  std::vector<std::byte> scratch((*codec)->MaxCompressedSize(block_size));
  uint64_t in_bytes = 0, out_bytes = 0;
  Clock::time_point start = Clock::now();
  do {
    const bool keep = frames.empty();
    for (size_t at = 0; at < sample.size(); at += block_size) {
      const size_t n = std::min(block_size, sample.size() - at);
      Result<size_t> z = (*codec)->Compress(sample.data() + at, n, scratch.data(), scratch.size());
      if (!z.ok()) return z.status();
      if (keep) frames.emplace_back(scratch.begin(), scratch.begin() + *z);
      in_bytes += n;
      out_bytes += *z;
    }
  } while (Since(start) < seconds);
  figure.compress_rate = static_cast<double>(in_bytes) / Since(start);
  figure.ratio = out_bytes > 0 ? static_cast<double>(in_bytes) / out_bytes : 1;
  // Decompress the frames kept from the first pass.
  std::vector<std::byte> plain(block_size);
  in_bytes = 0;
  start = Clock::now();
  do {
    for (const std::vector<std::byte>& frame : frames) {
      Result<size_t> n =
          (*codec)->DecompressFrame(frame.data(), frame.size(), plain.data(), plain.size());
      if (!n.ok()) return n.status();
      in_bytes += *n;
    }
  } while (Since(start) < seconds);
  figure.decompress_rate = static_cast<double>(in_bytes) / Since(start);
  return figure;
}

Result<double> BenchSeal(BulkCipher cipher, double seconds) {
  constexpr size_t kBody = 1 << 20;
  noise::CipherKey key;
  std::mt19937_64 rng(std::random_device{}());
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(rng());
  FrameCipher sealer(cipher, key);
  std::vector<std::byte> frame(kFrameHeaderSize + kBody + kFrameTagSize, std::byte{0x5a});
  uint64_t bytes = 0, sequence = 0;
  const Clock::time_point start = Clock::now();
  do {
    FrameHeader header{FrameType::kData, 0, 0, kBody + kFrameTagSize, sequence++};
    EncodeFrameHeader(header, frame.data());
    ZSEND_RETURN_IF_ERROR(sealer.Seal(frame.data(), kBody));
    bytes += kBody;
  } while (Since(start) < seconds);
  return static_cast<double>(bytes) / Since(start);
}

Result<double> BenchPipeRead(double seconds) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd read_end(fds[0]);
  fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  std::atomic<bool> stop{false};
  // The writer closes its end once told to stop, so the reader drains to EOF (no SIGPIPE).
  std::thread writer([fd = UniqueFd(fds[1]), &stop] {
    std::vector<char> chunk(256 * 1024, 'z');
    while (!stop.load(std::memory_order_relaxed)) {
      if (write(fd.get(), chunk.data(), chunk.size()) < 0 && errno != EINTR) break;
    }
  });
  std::vector<char> buf(1 << 20);
  uint64_t bytes = 0;
  Clock::time_point start = Clock::now();
  double elapsed = 0;
  for (;;) {
    const ssize_t n = read(read_end.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!stop.load(std::memory_order_relaxed)) {
      bytes += static_cast<uint64_t>(n);
      elapsed = Since(start);
      if (elapsed >= seconds) stop.store(true);
    }
  }
  writer.join();
  return elapsed > 0 ? static_cast<double>(bytes) / elapsed : 0;
}

Result<CpuFigures> BenchCpu(const std::vector<std::byte>& sample, double seconds,
                            void (*progress)(const std::string& stage)) {
  CpuFigures cpu;
  cpu.cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto say = [&](const std::string& stage) {
    if (progress != nullptr) progress(stage);
  };
  say("pipe read");
  Result<double> pipe = BenchPipeRead(seconds);
  if (!pipe.ok()) return pipe.status();
  cpu.pipe_read_rate = *pipe;
  for (const CodecSpec& spec : BenchCodecSpecs()) {
    say("codec " + CodecSpecName(spec));
    Result<CodecFigure> figure = BenchCodec(spec, sample, 1 << 20, seconds);
    if (!figure.ok()) return figure.status();
    cpu.codecs.push_back(*figure);
  }
  say("seal aes-256-gcm");
  Result<double> aes = BenchSeal(BulkCipher::kAesGcm, seconds);
  if (!aes.ok()) return aes.status();
  cpu.seal_aes_rate = *aes;
  say("seal chacha20-poly1305");
  Result<double> chacha = BenchSeal(BulkCipher::kChaChaPoly, seconds);
  if (!chacha.ok()) return chacha.status();
  cpu.seal_chacha_rate = *chacha;
  return cpu;
}

}  // namespace zsend
