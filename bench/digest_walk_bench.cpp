// zsend verify's digest walk (orchestrator/verify/digest_tree.h) over trees in /dev/shm (tmpfs:
// the data is in memory, as a page-cached snapshot would be): 100k small files (files/s, the
// per-entry cost of stat, open and read) and one 2 GiB file (MB/s, the read and XXH3 cost).
// The trees are made once per process under /dev/shm/zsend-digest-bench.PID and removed at exit.
//   build/bin/digest_walk_bench --benchmark_min_time=3
// Needs about 2.5 GiB free in /dev/shm.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "orchestrator/verify/digest_tree.h"

namespace zsend {
namespace {

constexpr int kSmallFiles = 100000;
constexpr size_t kSmallFileBytes = 4096;
constexpr size_t kBigFileBytes = size_t{2} << 30;

// Not a std::string: the atexit handler runs after static strings are destroyed.
char bench_dir[64];

void RemoveBenchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(bench_dir, ignored);
}

std::string BenchDir() {
  if (bench_dir[0] == '\0') {
    std::snprintf(bench_dir, sizeof bench_dir, "/dev/shm/zsend-digest-bench.%d", getpid());
    std::filesystem::create_directories(bench_dir);
    std::atexit(RemoveBenchDir);
  }
  return bench_dir;
}

void WriteFile(const std::string& path, size_t size, char fill) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  std::vector<char> chunk(std::min<size_t>(size, size_t{1} << 20), fill);
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(fill + i * 131);
  for (size_t done = 0; done < size;) {
    size_t n = std::min(chunk.size(), size - done);
    if (write(fd, chunk.data(), n) != static_cast<ssize_t>(n)) std::abort();
    done += n;
  }
  close(fd);
}

// 100k files of 4 KiB in 100 directories.
const std::string& SmallTree() {
  static const std::string dir = [] {
    std::string root = BenchDir() + "/small";
    for (int d = 0; d < 100; ++d) {
      std::string sub = root + "/d" + std::to_string(d);
      std::filesystem::create_directories(sub);
      for (int f = 0; f < kSmallFiles / 100; ++f) {
        WriteFile(sub + "/f" + std::to_string(f), kSmallFileBytes, static_cast<char>(f));
      }
    }
    return root;
  }();
  return dir;
}

const std::string& BigTree() {
  static const std::string dir = [] {
    std::string root = BenchDir() + "/big";
    std::filesystem::create_directories(root);
    WriteFile(root + "/file", kBigFileBytes, 7);
    return root;
  }();
  return dir;
}

void Walk(benchmark::State& state, const std::string& root) {
  orchestrator::DigestOptions options;
  uint64_t entries = 0, bytes = 0;
  for (auto _ : state) {
    auto walked = orchestrator::WalkDigestTree(
        root, options, [](std::string_view line) { benchmark::DoNotOptimize(line.data()); });
    if (!walked.ok()) {
      state.SkipWithError(walked.status().message().c_str());
      return;
    }
    entries += walked->entries;
    bytes += walked->bytes_read;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(entries));
}

void BM_DigestWalk100kSmallFiles(benchmark::State& state) {
  Walk(state, SmallTree());
}
BENCHMARK(BM_DigestWalk100kSmallFiles)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_DigestWalkOne2GiBFile(benchmark::State& state) {
  Walk(state, BigTree());
}
BENCHMARK(BM_DigestWalkOne2GiBFile)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace zsend

BENCHMARK_MAIN();
