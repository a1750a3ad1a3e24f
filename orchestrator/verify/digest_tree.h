// DigestTree: a directory tree reduced to one line per entry, so that two hosts can compare a
// snapshot by content while only digests cross the network (`zsend verify`).
//
// WalkDigestTree walks ROOT depth first, children in bytewise order of their names, without
// following symbolic links and without crossing into another file system (a mount point is
// listed as a directory, its contents are not). Each entry becomes one line:
//
//   TYPE MODE UID GID SIZE DIGEST PATH [TARGET]
//
//   TYPE    f file, d directory, l symbolic link, b/c block/character device, p fifo, s socket,
//           r a byte range of a volume (below)
//   MODE    the permission bits (st_mode & 07777) in octal, four digits
//   SIZE    bytes for files and links; "-" for directories; "MAJOR:MINOR" for devices
//   DIGEST  XXH3-128 (32 hex digits, canonical big-endian) of a file's contents or a link's
//           target; "-" for other types and for files left out by sampling
//   PATH    relative to ROOT ("." for ROOT itself), TARGET a link's target; in both, bytes up
//           to 0x20, 0x7f and '%' are written %XX, so fields never contain spaces
//
// The first line is "zsend-digest-tree 1 SAMPLE SEED" (format version, sample percentage, seed)
// and the last "end ROOT_DIGEST ENTRIES FILES BYTES": ROOT_DIGEST is XXH3-128 of every entry
// line (with its newline) in order, FILES the files whose contents were read, BYTES their total.
// A ".zfs" directory right under ROOT (snapdir=visible) is left out.
//
// A volume: when ROOT is a block device (a zvol's /dev/zvol/... node, waited for up to 30 s
// since udev makes it a moment after the volume appears), the entries are its byte ranges of
// kVolumeRangeBytes (the last one shorter): "r 0000 0 0 LENGTH DIGEST bytes:START-END", END
// inclusive, so a difference names the range; FILES counts the ranges read.
//
// Sampling: with SAMPLE below 100 every entry is still listed with its metadata, but a file's
// contents are read only when XXH3-64(PATH, SEED) mod 10000 < SAMPLE * 100; the same seed picks
// the same files on both hosts.
//
// Files are read with 1 MiB read() calls into one reused buffer (posix_fadvise SEQUENTIAL,
// O_NOATIME where allowed). Thread-safety: functions with no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace zsend::orchestrator {

inline constexpr int kDigestTreeVersion = 1;
inline constexpr uint64_t kVolumeRangeBytes = uint64_t{64} << 20;  // 64 MiB per volume entry

struct DigestOptions {
  double sample_percent = 100;  // (0, 100]
  uint64_t seed = 0;
  size_t buffer_size = size_t{1} << 20;
};

struct DigestSummary {
  std::string root_digest;  // 32 hex digits
  uint64_t entries = 0;
  uint64_t files_read = 0;
  uint64_t bytes_read = 0;
};

// Walks `root` and hands each output line (without its newline), header and end line
// included, to `emit`. An error names the path that could not be read.
Result<DigestSummary> WalkDigestTree(const std::string& root, const DigestOptions& options,
                                     const std::function<void(std::string_view)>& emit);

// Whether sampling reads the contents of the file at `escaped_path`.
bool SampledForContents(std::string_view escaped_path, const DigestOptions& options);

// PATH and TARGET escaping (see above).
std::string EscapeDigestPath(std::string_view raw);

struct DigestEntry {
  std::string path;    // escaped, as in the line
  std::string fields;  // TYPE MODE UID GID SIZE DIGEST [TARGET]: what must be equal
};

struct ParsedDigestTree {
  double sample_percent = 100;
  uint64_t seed = 0;
  std::vector<DigestEntry> entries;  // in walk order
  DigestSummary summary;
};

// Reads a walk's output; lines before the header (a far shell's startup noise) are ignored. An
// error when the header or the end line is missing or a line is malformed (a cut output).
Result<ParsedDigestTree> ParseDigestTree(const std::string& text);

struct TreeDifference {
  std::string path;  // escaped
  std::string what;  // "only on the source", "contents differ", "mode 0644 on the source, ..."
};

// The first `limit` differences between two walks (source order first, then what only the
// target has) and their total count.
struct TreeComparison {
  std::vector<TreeDifference> differences;
  uint64_t total = 0;
  bool equal() const { return total == 0; }
};
TreeComparison CompareDigestTrees(const ParsedDigestTree& source, const ParsedDigestTree& target,
                                  size_t limit);

}  // namespace zsend::orchestrator
