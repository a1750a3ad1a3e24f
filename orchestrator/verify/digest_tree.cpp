#include "orchestrator/verify/digest_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "base/unique_fd.h"

namespace zsend::orchestrator {
namespace {

std::string Hex(XXH128_hash_t hash) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, hash);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[2 * i] = kDigits[canonical.digest[i] >> 4];
    out[2 * i + 1] = kDigits[canonical.digest[i] & 15];
  }
  return out;
}

std::string Octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777);
  return text;
}

struct StateDeleter {
  void operator()(XXH3_state_t* state) const { XXH3_freeState(state); }
};
using StatePtr = std::unique_ptr<XXH3_state_t, StateDeleter>;

class Walker {
 public:
  Walker(std::string root, const DigestOptions& options,
         const std::function<void(std::string_view)>& emit)
      : root_(std::move(root)),
        options_(options),
        emit_(emit),
        buffer_(std::max<size_t>(options.buffer_size, 4096)),
        file_state_(XXH3_createState()),
        root_state_(XXH3_createState()) {}

  Result<DigestSummary> Run() {
    if (!file_state_ || !root_state_) return Internal("XXH3_createState failed");
    XXH3_128bits_reset(root_state_.get());
    struct stat root_st;
    // A volume's device node appears a moment after its clone is made (udev): wait for it.
    for (int i = 0; i < 300 && root_.rfind("/dev/zvol/", 0) == 0 &&
                    stat(root_.c_str(), &root_st) != 0 && errno == ENOENT;
         ++i) {
      usleep(100 * 1000);
    }
    if (stat(root_.c_str(), &root_st) == 0 && S_ISBLK(root_st.st_mode)) return Volume();
    UniqueFd fd(open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus("opening the tree " + root_, errno);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return ErrnoStatus("reading " + root_, errno);
    device_ = st.st_dev;
    EmitHeader();
    EmitEntry(Fields('d', st, "-", "-"), ".", "");
    if (Status s = Directory(fd.get(), ""); !s.ok()) return s;
    return EmitEnd();
  }

 private:
  void EmitHeader() {
    char header[96];
    std::snprintf(header, sizeof header, "zsend-digest-tree %d %g %llu", kDigestTreeVersion,
                  options_.sample_percent, static_cast<unsigned long long>(options_.seed));
    emit_(header);
  }

  DigestSummary EmitEnd() {
    summary_.root_digest = Hex(XXH3_128bits_digest(root_state_.get()));
    emit_("end " + summary_.root_digest + " " + std::to_string(summary_.entries) + " " +
          std::to_string(summary_.files_read) + " " + std::to_string(summary_.bytes_read));
    return summary_;
  }

  // A volume (ROOT is its block device): one "r" entry per kVolumeRangeBytes, path
  // "bytes:START-END" (END inclusive), size the range's length, digest of its bytes.
  Result<DigestSummary> Volume() {
    UniqueFd fd(open(root_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus("opening the volume " + root_, errno);
    const off_t size = lseek(fd.get(), 0, SEEK_END);
    if (size < 0) return ErrnoStatus("reading the size of " + root_, errno);
    (void)posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    EmitHeader();
    const auto total = static_cast<uint64_t>(size);
    for (uint64_t start = 0; start < total; start += kVolumeRangeBytes) {
      const uint64_t length = std::min<uint64_t>(kVolumeRangeBytes, total - start);
      const std::string path =
          "bytes:" + std::to_string(start) + "-" + std::to_string(start + length - 1);
      std::string digest = "-";
      if (SampledForContents(path, options_)) {
        XXH3_128bits_reset(file_state_.get());
        for (uint64_t done = 0; done < length;) {
          const size_t want =
              static_cast<size_t>(std::min<uint64_t>(buffer_.size(), length - done));
          ssize_t n = pread(fd.get(), buffer_.data(), want, static_cast<off_t>(start + done));
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return ErrnoStatus("reading " + root_ + " at " + path, errno);
          if (n == 0) return DataLoss(root_ + " ended early at " + path);
          XXH3_128bits_update(file_state_.get(), buffer_.data(), static_cast<size_t>(n));
          done += static_cast<uint64_t>(n);
        }
        summary_.bytes_read += length;
        ++summary_.files_read;
        digest = Hex(XXH3_128bits_digest(file_state_.get()));
      }
      EmitEntry("r 0000 0 0 " + std::to_string(length) + " " + digest, path, "");
    }
    return EmitEnd();
  }

  static std::string Fields(char type, const struct stat& st, const std::string& size,
                            const std::string& digest) {
    return std::string(1, type) + " " + Octal(st.st_mode) + " " + std::to_string(st.st_uid) + " " +
           std::to_string(st.st_gid) + " " + size + " " + digest;
  }

  void EmitEntry(const std::string& fields, const std::string& path, const std::string& target) {
    std::string line = fields + " " + path;
    if (!target.empty()) line += " " + target;
    XXH3_128bits_update(root_state_.get(), line.data(), line.size());
    XXH3_128bits_update(root_state_.get(), "\n", 1);
    ++summary_.entries;
    emit_(line);
  }

  Status Fail(const std::string& what, const std::string& path, int err) {
    return ErrnoStatus(what + " " + root_ + "/" + path, err);
  }

  Result<std::string> FileDigest(int dir, const std::string& name, const std::string& path) {
    int fd = openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) fd = openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Fail("opening", path, errno);
    UniqueFd file(fd);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    XXH3_128bits_reset(file_state_.get());
    for (;;) {
      ssize_t n = read(fd, buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail("reading", path, errno);
      if (n == 0) break;
      XXH3_128bits_update(file_state_.get(), buffer_.data(), static_cast<size_t>(n));
      summary_.bytes_read += static_cast<uint64_t>(n);
    }
    ++summary_.files_read;
    return Hex(XXH3_128bits_digest(file_state_.get()));
  }

  Status Directory(int dir, const std::string& prefix) {
    int copy = dup(dir);
    if (copy < 0) return Fail("reading", prefix, errno);
    DIR* stream = fdopendir(copy);
    if (stream == nullptr) {
      int err = errno;
      close(copy);
      return Fail("reading", prefix, err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = readdir(stream)) {
      std::string name = entry->d_name;
      if (name == "." || name == ".." || (prefix.empty() && name == ".zfs")) continue;
      names.push_back(std::move(name));
    }
    int err = errno;
    closedir(stream);
    if (err != 0) return Fail("reading", prefix, err);
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string path =
          prefix.empty() ? EscapeDigestPath(name) : prefix + "/" + EscapeDigestPath(name);
      struct stat st;
      if (fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return Fail("reading", path, errno);
      }
      if (S_ISREG(st.st_mode)) {
        std::string digest = "-";
        if (SampledForContents(path, options_)) {
          Result<std::string> read = FileDigest(dir, name, path);
          if (!read.ok()) return read.status();
          digest = *read;
        }
        EmitEntry(Fields('f', st, std::to_string(st.st_size), digest), path, "");
      } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
        ssize_t n = readlinkat(dir, name.c_str(), target.data(), target.size());
        if (n < 0) return Fail("reading the link", path, errno);
        target.resize(static_cast<size_t>(n));
        EmitEntry(
            Fields('l', st, std::to_string(n), Hex(XXH3_128bits(target.data(), target.size()))),
            path, EscapeDigestPath(target));
      } else if (S_ISDIR(st.st_mode)) {
        EmitEntry(Fields('d', st, "-", "-"), path, "");
        if (st.st_dev != device_) continue;  // a mount point: not ours to walk
        UniqueFd sub(openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) return Fail("opening", path, errno);
        if (Status s = Directory(sub.get(), path); !s.ok()) return s;
      } else {
        char type = S_ISBLK(st.st_mode)    ? 'b'
                    : S_ISCHR(st.st_mode)  ? 'c'
                    : S_ISFIFO(st.st_mode) ? 'p'
                                           : 's';
        std::string size = "-";
        if (type == 'b' || type == 'c') {
          size = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
        }
        EmitEntry(Fields(type, st, size, "-"), path, "");
      }
    }
    return Status::Ok();
  }

  const std::string root_;
  const DigestOptions& options_;
  const std::function<void(std::string_view)>& emit_;
  std::vector<char> buffer_;
  StatePtr file_state_;
  StatePtr root_state_;
  dev_t device_ = 0;
  DigestSummary summary_;
};

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= line.size()) {
    size_t space = line.find(' ', start);
    if (space == std::string::npos) space = line.size();
    out.push_back(line.substr(start, space - start));
    start = space + 1;
  }
  return out;
}

}  // namespace

std::string EscapeDigestPath(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '%') {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

bool SampledForContents(std::string_view escaped_path, const DigestOptions& options) {
  if (options.sample_percent >= 100) return true;
  const uint64_t hash =
      XXH3_64bits_withSeed(escaped_path.data(), escaped_path.size(), options.seed);
  return static_cast<double>(hash % 10000) < options.sample_percent * 100;
}

Result<DigestSummary> WalkDigestTree(const std::string& root, const DigestOptions& options,
                                     const std::function<void(std::string_view)>& emit) {
  if (!(options.sample_percent > 0 && options.sample_percent <= 100)) {
    return InvalidArgument("the sample percentage must be above 0 and at most 100");
  }
  Walker walker(root, options, emit);
  return walker.Run();
}

Result<ParsedDigestTree> ParseDigestTree(const std::string& text) {
  ParsedDigestTree tree;
  std::istringstream in(text);
  std::string line;
  bool header = false, end = false;
  while (std::getline(in, line)) {
    if (!header) {
      if (line.rfind("zsend-digest-tree ", 0) != 0) continue;  // a startup file's output
      std::vector<std::string> f = Split(line);
      if (f.size() != 4 || f[1] != std::to_string(kDigestTreeVersion)) {
        return FailedPrecondition("digest tree format '" + line + "' is not version " +
                                  std::to_string(kDigestTreeVersion) +
                                  "; install the same zsend version on both hosts");
      }
      tree.sample_percent = std::strtod(f[2].c_str(), nullptr);
      tree.seed = std::strtoull(f[3].c_str(), nullptr, 10);
      header = true;
      continue;
    }
    std::vector<std::string> f = Split(line);
    if (f.size() == 5 && f[0] == "end") {
      tree.summary.root_digest = f[1];
      tree.summary.entries = std::strtoull(f[2].c_str(), nullptr, 10);
      tree.summary.files_read = std::strtoull(f[3].c_str(), nullptr, 10);
      tree.summary.bytes_read = std::strtoull(f[4].c_str(), nullptr, 10);
      end = true;
      break;
    }
    if (f.size() != 7 && f.size() != 8) {
      return DataLoss("malformed digest tree line '" + line.substr(0, 200) + "'");
    }
    DigestEntry entry;
    entry.path = f[6];
    entry.fields = f[0] + " " + f[1] + " " + f[2] + " " + f[3] + " " + f[4] + " " + f[5];
    if (f.size() == 8) entry.fields += " " + f[7];
    tree.entries.push_back(std::move(entry));
  }
  if (!header) return DataLoss("no digest tree in the output (no 'zsend-digest-tree' line)");
  if (!end || tree.summary.entries != tree.entries.size()) {
    return DataLoss("the digest tree output was cut short (no complete 'end' line)");
  }
  return tree;
}

namespace {

std::string Describe(const std::string& source, const std::string& target) {
  std::vector<std::string> s = Split(source), t = Split(target);
  s.resize(7);
  t.resize(7);
  static constexpr const char* kNames[] = {"type", "mode", "uid", "gid", "size", "", "link target"};
  std::string out;
  auto add = [&out](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
  if (s[0] != t[0]) return "type " + s[0] + " on the source, " + t[0] + " on the target";
  if (s[5] != t[5] && s[0] == "f") add("contents differ");
  for (int i : {6, 4, 1, 2, 3}) {
    if (s[i] != t[i]) {
      add(std::string(kNames[i]) + " " + s[i] + " on the source, " + t[i] + " on the target");
    }
  }
  if (out.empty()) add("entries differ");
  return out;
}

}  // namespace

TreeComparison CompareDigestTrees(const ParsedDigestTree& source, const ParsedDigestTree& target,
                                  size_t limit) {
  TreeComparison result;
  auto note = [&result, limit](const std::string& path, std::string what) {
    ++result.total;
    if (result.differences.size() < limit) result.differences.push_back({path, std::move(what)});
  };
  // Entry by entry, never trusting the reported root digests alone.
  std::unordered_map<std::string, const DigestEntry*> on_target;
  on_target.reserve(target.entries.size());
  for (const DigestEntry& e : target.entries) on_target.emplace(e.path, &e);
  std::unordered_map<std::string, bool> on_source;
  on_source.reserve(source.entries.size());
  for (const DigestEntry& e : source.entries) {
    on_source.emplace(e.path, true);
    auto found = on_target.find(e.path);
    if (found == on_target.end()) {
      note(e.path, "only on the source");
    } else if (found->second->fields != e.fields) {
      note(e.path, Describe(e.fields, found->second->fields));
    }
  }
  for (const DigestEntry& e : target.entries) {
    if (!on_source.count(e.path)) note(e.path, "only on the target");
  }
  return result;
}

}  // namespace zsend::orchestrator
