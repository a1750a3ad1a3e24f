#include "tests/support/zfs_pool.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace zsend::test {
namespace {

namespace fs = std::filesystem;

std::string JoinArgs(const std::vector<std::string>& argv) {
  std::string text;
  for (const std::string& a : argv) text += (text.empty() ? "" : " ") + a;
  return text;
}

std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  return line.empty() ? "(no message)" : line;
}

// The entries of `dir`, sorted by name.
std::vector<std::string> SortedNames(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// "" when the two regular files hold the same bytes.
std::string CompareContents(const std::string& left, const std::string& right) {
  std::ifstream a(left, std::ios::binary), b(right, std::ios::binary);
  if (!a || !b) return "cannot open " + (a ? right : left);
  std::vector<char> buf_a(1 << 16), buf_b(1 << 16);
  uint64_t offset = 0;
  for (;;) {
    a.read(buf_a.data(), static_cast<std::streamsize>(buf_a.size()));
    b.read(buf_b.data(), static_cast<std::streamsize>(buf_b.size()));
    const std::streamsize na = a.gcount(), nb = b.gcount();
    if (na != nb || !std::equal(buf_a.begin(), buf_a.begin() + na, buf_b.begin())) {
      return left + " and " + right + " differ near byte " + std::to_string(offset);
    }
    if (na == 0) return "";
    offset += static_cast<uint64_t>(na);
  }
}

std::string CompareEntry(const std::string& left, const std::string& right) {
  struct stat l {
  }, r{};
  if (lstat(left.c_str(), &l) != 0) return "cannot stat " + left;
  if (lstat(right.c_str(), &r) != 0) return right + " is missing";
  if ((l.st_mode & S_IFMT) != (r.st_mode & S_IFMT)) return left + ": file type differs";
  if ((l.st_mode & 07777) != (r.st_mode & 07777)) return left + ": mode differs";
  if (l.st_uid != r.st_uid || l.st_gid != r.st_gid) return left + ": owner differs";
  if (S_ISLNK(l.st_mode)) {
    std::error_code ec1, ec2;
    if (fs::read_symlink(left, ec1) != fs::read_symlink(right, ec2) || ec1 || ec2) {
      return left + ": symlink target differs";
    }
  } else if (S_ISREG(l.st_mode)) {
    if (l.st_size != r.st_size) return left + ": size differs";
    return CompareContents(left, right);
  } else if (S_ISDIR(l.st_mode)) {
    std::vector<std::string> ln = SortedNames(left), rn = SortedNames(right);
    if (ln != rn) {
      for (const std::string& n : ln) {
        if (!std::binary_search(rn.begin(), rn.end(), n)) return right + "/" + n + " is missing";
      }
      for (const std::string& n : rn) {
        if (!std::binary_search(ln.begin(), ln.end(), n)) return right + "/" + n + " is extra";
      }
    }
    for (const std::string& n : ln) {
      std::string d = CompareEntry(left + "/" + n, right + "/" + n);
      if (!d.empty()) return d;
    }
  } else if (l.st_rdev != r.st_rdev) {
    return left + ": device number differs";
  }
  return "";
}

}  // namespace

std::string ZfsFuseProblem() {
  if (!HaveProgram("zpool") || !HaveProgram("zfs")) return "zfs-fuse (zpool, zfs) not installed";
  RunResult up = Run({std::string(ZSEND_SOURCE_DIR) + "/scripts/zfs-fuse-up.sh"});
  if (up.exit_code != 0) return "zfs-fuse does not answer: " + FirstLine(up.err);
  return "";
}

bool RunChecked(const std::vector<std::string>& argv, std::string* error) {
  RunResult r = Run(argv);
  if (r.exit_code == 0) return true;
  if (error != nullptr) {
    *error =
        "'" + JoinArgs(argv) + "' exited " + std::to_string(r.exit_code) + ": " + FirstLine(r.err);
  }
  return false;
}

std::unique_ptr<ZfsPool> ZfsPool::Create(const std::string& prefix, uint64_t size_mib,
                                         std::string* error, Mount mount) {
  static std::atomic<int> counter{0};
  return CreateNamed(prefix + std::to_string(getpid()) + "_" + std::to_string(counter.fetch_add(1)),
                     size_mib, error, mount);
}

std::unique_ptr<ZfsPool> ZfsPool::CreateNamed(const std::string& name, uint64_t size_mib,
                                              std::string* error, Mount mount) {
  std::string templ = (fs::temp_directory_path() / "zsend-pool.XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    *error = "mkdtemp failed";
    return nullptr;
  }
  // From here the destructor cleans up, whatever fails next.
  std::unique_ptr<ZfsPool> pool(new ZfsPool(name, templ));
  const std::string file = templ + "/pool.img";
  { std::ofstream f(file, std::ios::binary); }
  std::error_code ec;
  fs::resize_file(file, size_mib << 20, ec);
  if (ec) {
    *error = "cannot size " + file + ": " + ec.message();
    return nullptr;
  }
  const std::string mountpoint = mount == Mount::kNone ? "none" : templ + "/mnt";
  if (!RunChecked({"zpool", "create", "-m", mountpoint, name, file}, error)) {
    pool->name_.clear();  // nothing to destroy
    return nullptr;
  }
  return pool;
}

ZfsPool::~ZfsPool() {
  if (!name_.empty()) {
    // Busy mounts (a file still open) make the first attempt fail now and then.
    std::string error;
    bool destroyed = false;
    for (int attempt = 0; attempt < 10 && !destroyed; ++attempt) {
      destroyed = RunChecked({"zpool", "destroy", "-f", name_}, &error);
      if (!destroyed) usleep(300 * 1000);
    }
    if (!destroyed) {
      // Removing the backing file of an imported pool would fault it in the shared daemon.
      std::fprintf(stderr, "zfs_pool: cannot destroy %s, leaving %s: %s\n", name_.c_str(),
                   dir_.c_str(), error.c_str());
      return;
    }
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string ZfsPool::CreateDataset(const std::string& relative, std::string* error) {
  const std::string dataset = name_ + "/" + relative;
  if (!RunChecked({"zfs", "create", dataset}, error)) return "";
  return dataset;
}

std::string ZfsPool::Mountpoint(const std::string& dataset) const {
  RunResult r = Run({"zfs", "get", "-H", "-o", "value", "mountpoint", dataset});
  if (r.exit_code != 0) return "";
  return r.out.substr(0, r.out.find('\n'));
}

bool ZfsPool::Snapshot(const std::string& dataset, const std::string& snapshot,
                       std::string* error) {
  return RunChecked({"zfs", "snapshot", dataset + "@" + snapshot}, error);
}

std::vector<std::string> ZfsPool::Snapshots(const std::string& dataset) const {
  RunResult r = Run({"zfs", "list", "-H", "-t", "snapshot", "-o", "name", "-r", dataset});
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(dataset + "@", 0) == 0) names.push_back(line);
  }
  return names;
}

bool CopyTree(const std::string& source_dir, const std::string& dest_dir, std::string* error) {
  return RunChecked({"cp", "-a", "--", source_dir + "/.", dest_dir + "/"}, error);
}

std::string CompareTrees(const std::string& left, const std::string& right) {
  return CompareEntry(left, right);
}

TreeStats StatTree(const std::string& dir) {
  TreeStats stats;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      ++stats.files;
      stats.bytes += it->file_size(ec);
    }
  }
  return stats;
}

}  // namespace zsend::test
