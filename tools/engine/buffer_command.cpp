// zsend-engine buffer: stdin to stdout (or files) through the ring, like mbuffer.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>

#include "base/units.h"
#include "engine/codec/codec.h"
#include "engine/ring/digest.h"
#include "tools/engine/buffer_job.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"
#include "tools/engine/progress_fd.h"

namespace zsend::tool {
namespace {

struct BufferFlags {
  std::string input, output, memory = "256M", block_size = "1M", start_write = "0",
                             resume_read = "100", read_rate, write_rate, watchdog, hash, size,
                             json_stats, io = "auto", compress;
  int threads = 0;
  bool decompress = false;
  bool quiet = false, progress = false, lock = false;
  int progress_fd = -1;
};

// Turns the flags into a job, or returns the one-line usage error.
Result<BufferJob> BuildJob(const BufferFlags& f) {
  BufferJob job;
  if (!f.input.empty() && f.input != "-") job.input = {Endpoint::Kind::kFile, f.input};
  if (!f.output.empty() && f.output != "-") job.output = {Endpoint::Kind::kFile, f.output};
  Result<uint64_t> memory =
      ParseSize(f.memory, "--memory", {.allow_percent_of_ram = true, .min = 8192});
  if (!memory.ok()) return memory.status();
  Result<uint64_t> block = ParseSize(f.block_size, "--block-size", {.min = 512, .max = 1ull << 30});
  if (!block.ok()) return block.status();
  job.pipeline.ring.memory = *memory;
  job.pipeline.ring.block_size = *block;
  job.pipeline.ring.lock = f.lock;
  Result<double> start = ParsePercent(f.start_write, "-P");
  if (!start.ok()) return start.status();
  Result<double> resume = ParsePercent(f.resume_read, "-p");
  if (!resume.ok()) return resume.status();
  job.pipeline.ring.start_write_percent = *start;
  job.pipeline.ring.resume_read_percent = *resume;
  if (!f.read_rate.empty()) {
    Result<uint64_t> r = ParseSize(f.read_rate, "-r", {.min = 1});
    if (!r.ok()) return r.status();
    job.pipeline.read_rate = *r;
  }
  if (!f.write_rate.empty()) {
    Result<uint64_t> r = ParseSize(f.write_rate, "-R", {.min = 1});
    if (!r.ok()) return r.status();
    job.pipeline.write_rate = *r;
  }
  if (!f.watchdog.empty()) {
    Result<double> w = ParseSeconds(f.watchdog, "-W");
    if (!w.ok()) return w.status();
    job.pipeline.watchdog_seconds = *w;
  }
  if (!f.hash.empty()) {
    if (f.hash != "sha256" && f.hash != "sha512" && f.hash != "blake2b" && f.hash != "xxh3") {
      return InvalidArgument("--hash takes sha256, sha512, blake2b or xxh3, got '" + f.hash + "'");
    }
    job.pipeline.digest = f.hash;
  }
  if (!f.size.empty()) {
    Result<uint64_t> s = ParseSize(f.size, "--size");
    if (!s.ok()) return s.status();
    job.expected_size = *s;
  }
  Result<IoBackend> io = ParseIoBackend(f.io);
  if (!io.ok()) return io.status();
  job.io.backend = *io;
  job.io.pipe_size = std::min<uint64_t>(*block, 1 << 20);
  job.progress = f.progress ? BufferJob::Progress::kOn
                 : f.quiet  ? BufferJob::Progress::kOff
                            : BufferJob::Progress::kAuto;
  job.summary = !f.quiet;
  if (Status s = CheckProgressFd(f.progress_fd); !s.ok()) return s;
  job.progress_fd = f.progress_fd;
  job.json_stats_path = f.json_stats;
  if (!f.compress.empty() && f.decompress) {
    return InvalidArgument("--compress and --decompress exclude each other; pick one");
  }
  if (f.threads < 0) return InvalidArgument("--threads must be 0 (one per core) or more");
  if (!f.compress.empty()) {
    Result<CodecSpec> spec = ParseCodecSpec(f.compress);
    if (!spec.ok()) return spec.status();
    job.codec = CodecStageOptions{};
    job.codec->spec = *spec;
  } else if (f.decompress) {
    job.codec = CodecStageOptions{};
    job.codec->mode = CodecStageOptions::Mode::kDecompress;
  }
  if (job.codec) job.codec->threads = f.threads;
  return job;
}

}  // namespace

void RegisterBufferCommand(CLI::App& app, CommandRun* run) {
  auto flags = std::make_shared<BufferFlags>();
  CLI::App* cmd = app.add_subcommand(
      "buffer", "Copy stdin to stdout (or -i/-o files) through a large ring buffer");
  cmd->footer(kExitCodeHelp);
  cmd->add_option("-i,--input", flags->input, "Read from FILE instead of stdin");
  cmd->add_option("-o,--output", flags->output, "Write to FILE instead of stdout");
  cmd->add_option("-m,--memory", flags->memory,
                  "Buffer size: bytes with k/M/G suffix, or N% of RAM (default 256M)");
  cmd->add_option("-s,--block-size", flags->block_size, "Block size (default 1M)");
  cmd->add_option("-P", flags->start_write,
                  "Start writing once the buffer is PERCENT full (default 0)");
  cmd->add_option("-p", flags->resume_read,
                  "After the buffer ran full, resume reading below PERCENT (default 100)");
  cmd->add_option("-r,--read-rate", flags->read_rate, "Limit the read rate (bytes/s, k/M/G)");
  cmd->add_option("-R,--write-rate", flags->write_rate, "Limit the write rate (bytes/s, k/M/G)");
  cmd->add_option("-W,--watchdog", flags->watchdog,
                  "Fail if no byte moves for SECONDS (default off)");
  cmd->add_option("--hash", flags->hash,
                  "Print a digest of the stream: sha256, sha512, blake2b, xxh3 (XXH3-128)");
  cmd->add_option("--size", flags->size, "Expected stream size, for the ETA");
  cmd->add_option("--json-stats", flags->json_stats, "Write final figures as JSON to FILE");
  cmd->add_option("--io", flags->io, "I/O backend: auto (io_uring if allowed), uring, syscalls");
  cmd->add_option("--compress", flags->compress,
                  "Compress into a standard stream: zstd[:-5..19], gzip[:1..9], lz4, none, auto");
  cmd->add_flag("--decompress", flags->decompress,
                "Decompress zstd, gzip or lz4 input (detected by its magic bytes)");
  cmd->add_option("--threads", flags->threads, "Codec worker threads (default 0: one per core)");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress line and no summary");
  cmd->add_flag("--progress", flags->progress, "Show the progress line even when not a terminal");
  cmd->add_option("--progress-fd", flags->progress_fd,
                  "Write machine-readable progress lines (JSON) to descriptor N");
  cmd->add_flag("--lock", flags->lock, "Lock the buffer in memory (mlock)");
  cmd->callback([flags, run] {
    *run = [flags] {
      Result<BufferJob> job = BuildJob(*flags);
      if (!job.ok()) {
        std::fprintf(stderr, "zsend-engine buffer: %s\n", job.status().message().c_str());
        return static_cast<int>(kExitUsage);
      }
      return RunBufferJob(*job);
    };
  });
}

}  // namespace zsend::tool
