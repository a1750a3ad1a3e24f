// The mbuffer personality: zsend-engine invoked through a link named "mbuffer".
//
// Accepts mbuffer's own syntax for the options replication tools use (syncoid, zfs_autobackup,
// znapzend, smartcopy) with mbuffer's meanings. Options for tapes, volumes, file-backed buffers
// and multiple outputs stop the program with a one-line error naming the option: they are never
// silently ignored. -I/-O speak mbuffer's raw TCP stream (bytes, end = connection closed).
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/engine_contract.h"
#include "base/units.h"
#include "tools/engine/buffer_job.h"
#include "tools/engine/commands.h"
#include "tools/engine/exit_codes.h"

namespace zsend::tool {
namespace {

constexpr const char* kUsage =
    "usage: mbuffer [options]   (zsend-engine's mbuffer personality)\n"
    "  -i FILE      read from FILE ('-' = stdin)\n"
    "  -o FILE      write to FILE ('-' = stdout); one output only\n"
    "  -I [HOST:]PORT  read mbuffer's raw TCP stream on PORT (only from HOST if given)\n"
    "  -O HOST:PORT    send the stream as raw TCP to HOST:PORT\n"
    "  -m SIZE      buffer memory (b, k, M, G or % of RAM; default 256M)\n"
    "  -s SIZE      block size (default 1M)     -b NUM  number of blocks\n"
    "  -P PCT       start writing once the buffer is PCT full\n"
    "  -p PCT       resume reading once the buffer is below PCT\n"
    "  -r RATE      limit the read rate          -R RATE  limit the write rate\n"
    "  -W SECONDS   watchdog: fail when no data moved for SECONDS\n"
    "  -H, --md5    print the MD5 of the stream  --hash ALG  sha256, sha512, blake2b, md5\n"
    "  -q           no status line or summary    -Q  no summary in the log file\n"
    "  -v LEVEL     0 = errors only              -l FILE  also log messages to FILE\n"
    "  -f           overwrite an existing output file\n"
    "  -e           stop on any error (always so here)\n"
    "  -L           lock the buffer in memory\n"
    "  -4, -6, -0   IPv4 only, IPv6 only, either\n"
    "  --tcpbuffer SIZE  socket buffer size\n";

// Options we refuse, with what they are for, so the message tells the user what was asked.
const std::map<std::string, std::string>& Unsupported() {
  static const std::map<std::string, std::string> kOptions = {
      {"-t", "memory-mapped temporary file buffer"},
      {"-T", "file-backed buffer"},
      {"-n", "multiple input volumes"},
      {"-a", "tape autoloader"},
      {"-A", "volume change command"},
      {"-d", "device block size"},
      {"-D", "output device size"},
      {"-u", "pause after each write"},
      {"-c", "synchronous writes"},
      {"--append", "appending to the output file"},
      {"--truncate", "truncating output files"},
      {"--tapeaware", "tape end handling"},
      {"--direct", "O_DIRECT temporary file"},
      {"--no-direct", "O_DIRECT control"},
      {"--tcptimeo", "TCP time-out"},
      {"--pid", "printing the process id"},
      {"-Z", "file-backed buffer"},
      {"-B", "file-backed buffer"},
  };
  return kOptions;
}

class ArgReader {
 public:
  ArgReader(int argc, char** argv) : args_(argv + 1, argv + argc) {}
  bool done() const { return i_ >= args_.size(); }
  const std::string& current() const { return args_[i_]; }
  void next() { ++i_; }
  // The value of option `name`: attached ("-s128k") or the following argument.
  std::optional<std::string> Value(const std::string& name) {
    const std::string& arg = args_[i_];
    if (arg.size() > name.size()) return arg.substr(name.size());
    if (i_ + 1 >= args_.size()) return std::nullopt;
    return args_[++i_];
  }

 private:
  std::vector<std::string> args_;
  size_t i_ = 0;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "mbuffer: %s\n", message.c_str());
  return kExitUsage;
}

}  // namespace

int MbufferMain(int argc, char** argv) {
  BufferJob job;
  job.program = "mbuffer";
  job.overwrite_output = false;
  std::string memory = "256M", block_size, blocks;
  int outputs = 0;
  ArgReader args(argc, argv);
  for (; !args.done(); args.next()) {
    const std::string arg = args.current();
    auto takes = [&](const std::string& name) -> bool {
      return arg.rfind(name, 0) == 0 && (name.size() == 2 || arg.size() == name.size());
    };
    auto value = [&](const std::string& name) { return args.Value(name); };
    auto need = [&](const std::string& name, std::string* out) -> bool {
      std::optional<std::string> v = value(name);
      if (!v) return false;
      *out = *v;
      return true;
    };
    std::string v;
    auto missing = [&](const std::string& name) {
      return UsageError("option " + name + " needs a value; see 'mbuffer -h'");
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::fputs(kExitCodeHelp, stdout);
      return kExitOk;
    } else if (arg == "-V" || arg == "--version") {
      std::printf("mbuffer personality of zsend-engine %s\n", engine_contract::kProgramVersion);
      return kExitOk;
    } else if (arg == "--md5" || arg == "-H") {
      job.pipeline.digest = "md5";
    } else if (arg == "--hash") {
      if (!need("--hash", &v)) return missing("--hash");
      if (v != "md5" && v != "sha256" && v != "sha512" && v != "blake2b") {
        return UsageError("--hash takes md5, sha256, sha512 or blake2b, got '" + v + "'");
      }
      job.pipeline.digest = v;
    } else if (arg == "--tcpbuffer") {
      if (!need("--tcpbuffer", &v)) return missing("--tcpbuffer");
      Result<uint64_t> n = ParseSize(v, "--tcpbuffer", {.min = 1024, .max = 1u << 30});
      if (!n.ok()) return UsageError(n.status().message());
      job.tcp_buffer = static_cast<int>(*n);
    } else if (Unsupported().count(arg.substr(0, arg.rfind('-') == 0 ? 2 : arg.size())) != 0) {
      std::string name = arg.substr(0, arg.rfind('-') == 0 ? 2 : arg.size());
      return UsageError("option " + name + " (" + Unsupported().at(name) +
                        ") is not supported by zsend-engine; remove it");
    } else if (takes("-i")) {
      if (!need("-i", &v)) return missing("-i");
      if (job.input.kind != Endpoint::Kind::kStdio || !job.input.path.empty()) {
        return UsageError("only one input is supported (-i or -I given twice)");
      }
      if (v != "-") job.input = {Endpoint::Kind::kFile, v};
    } else if (takes("-I")) {
      if (!need("-I", &v)) return missing("-I");
      if (job.input.kind != Endpoint::Kind::kStdio) {
        return UsageError("only one input is supported (-i or -I given twice)");
      }
      job.input = {Endpoint::Kind::kTcpListen, v};
    } else if (takes("-o") || takes("-O")) {
      const bool network = arg[1] == 'O';
      if (!need(arg.substr(0, 2), &v)) return missing(arg.substr(0, 2));
      if (++outputs > 1) {
        return UsageError(
            "multiple outputs (-o/-O given more than once) are not supported; use one");
      }
      if (network)
        job.output = {Endpoint::Kind::kTcpConnect, v};
      else if (v != "-")
        job.output = {Endpoint::Kind::kFile, v};
    } else if (takes("-m")) {
      if (!need("-m", &memory)) return missing("-m");
    } else if (takes("-s")) {
      if (!need("-s", &block_size)) return missing("-s");
    } else if (takes("-b")) {
      if (!need("-b", &blocks)) return missing("-b");
      if (blocks.empty()) return UsageError("-b takes a number of blocks from 2 to 16777216");
    } else if (takes("-P") || takes("-p")) {
      const std::string name = arg.substr(0, 2);
      if (!need(name, &v)) return missing(name);
      Result<double> pct = ParsePercent(v, name);
      if (!pct.ok()) return UsageError(pct.status().message());
      (name == "-P" ? job.pipeline.ring.start_write_percent
                    : job.pipeline.ring.resume_read_percent) = *pct;
    } else if (takes("-r") || takes("-R")) {
      const std::string name = arg.substr(0, 2);
      if (!need(name, &v)) return missing(name);
      Result<uint64_t> rate = ParseSize(v, name, {.min = 1});
      if (!rate.ok()) return UsageError(rate.status().message());
      (name == "-r" ? job.pipeline.read_rate : job.pipeline.write_rate) = *rate;
    } else if (takes("-W")) {
      if (!need("-W", &v)) return missing("-W");
      Result<double> secs = ParseSeconds(v, "-W");
      if (!secs.ok()) return UsageError(secs.status().message());
      job.pipeline.watchdog_seconds = *secs;
    } else if (takes("-v")) {
      if (!need("-v", &v)) return missing("-v");
      if (v.empty() || v.find_first_not_of("0123456") != std::string::npos || v.size() > 1) {
        return UsageError("-v takes a level from 0 to 6, got '" + v + "'");
      }
      if (v == "0") job.summary = job.summary_in_log = false;
    } else if (takes("-l")) {
      if (!need("-l", &job.log_path)) return missing("-l");
    } else if (arg == "-q") {
      // As in mbuffer: no status line and no summary on stderr (the log file still gets it).
      job.progress = BufferJob::Progress::kOff;
      job.summary = false;
    } else if (arg == "-Q") {
      job.summary_in_log = false;
    } else if (arg == "-f") {
      job.overwrite_output = true;
    } else if (arg == "-e") {
      // Any error already stops the transfer.
    } else if (arg == "-L") {
      job.pipeline.ring.lock = true;
    } else if (arg == "-4") {
      job.address_family = AF_INET;
    } else if (arg == "-6") {
      job.address_family = AF_INET6;
    } else if (arg == "-0") {
      job.address_family = 0;
    } else {
      return UsageError("unknown option '" + arg + "'; see 'mbuffer -h'");
    }
  }

  // mbuffer's sizing: -m total, -s block, -b count; any two decide the third.
  Result<uint64_t> mem = ParseSize(memory, "-m", {.allow_percent_of_ram = true, .min = 8192});
  if (!mem.ok()) return UsageError(mem.status().message());
  // Without -s, small -m values get smaller blocks (at least 16 of them, 4 KiB or more), as
  // mbuffer adjusts its block size: `mbuffer -m 1M` must work.
  uint64_t block = 1 << 20;
  while (block > 4096 && *mem / block < 16) block >>= 1;
  if (!block_size.empty()) {
    Result<uint64_t> b = ParseSize(block_size, "-s", {.min = 512, .max = 1ull << 30});
    if (!b.ok()) return UsageError(b.status().message());
    block = *b;
  }
  uint64_t total = *mem;
  if (!blocks.empty()) {
    if (blocks.size() > 8 || blocks.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(blocks) < 2 || std::stoul(blocks) > (1ul << 24)) {
      return UsageError("-b takes a number of blocks from 2 to 16777216, got '" + blocks + "'");
    }
    const uint64_t n = std::stoul(blocks);
    if (block_size.empty()) block = std::max<uint64_t>(512, *mem / n);
    total = block * n;
  }
  job.pipeline.ring.memory = total;
  job.pipeline.ring.block_size = block;
  job.io.pipe_size = std::min<uint64_t>(block, 1 << 20);
  return RunBufferJob(job);
}

}  // namespace zsend::tool
