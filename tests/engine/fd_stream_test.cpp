// FdSource/FdSink over pipes, files and /dev/full with both I/O backends: round trips, error
// messages, pipe growth, fsync on Finish() and interrupting a blocked call.
#include "engine/ring/fd_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <thread>

#include "engine/ring/interrupt.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_streams.h"

namespace zsend {
namespace {

using test::GeneratedBytes;

const IoBackend kBackends[] = {IoBackend::kUring, IoBackend::kSyscalls};

// Skips (fails in CI) when the io_uring backend silently fell back to system calls.
#define REQUIRE_BACKEND(stream, backend)                                                      \
  ZSEND_REQUIRE((backend) != IoBackend::kUring || std::string((stream).backend()) == "uring", \
                "io_uring (refused by the kernel or a seccomp filter here)")

std::string ReadAll(FdSource& source, size_t piece = 65536) {
  std::string out(piece, '\0');
  std::string all;
  for (;;) {
    Result<size_t> n = source.Read(reinterpret_cast<std::byte*>(out.data()), piece);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || *n == 0) return all;
    all.append(out.data(), *n);
  }
}

Status WriteString(FdSink& sink, const std::string& data) {
  return sink.Write(reinterpret_cast<const std::byte*>(data.data()), data.size());
}

TEST(FdStream, ParsesBackendNames) {
  EXPECT_EQ(*ParseIoBackend("auto"), IoBackend::kAuto);
  EXPECT_EQ(*ParseIoBackend("uring"), IoBackend::kUring);
  EXPECT_EQ(*ParseIoBackend("io_uring"), IoBackend::kUring);
  EXPECT_EQ(*ParseIoBackend("syscalls"), IoBackend::kSyscalls);
  Result<IoBackend> bad = ParseIoBackend("epoll");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'epoll'"), std::string::npos);
}

TEST(FdStream, ForcedSyscallsNeverUseUring) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  FdSource source(fds[0], "pipe", {.backend = IoBackend::kSyscalls}, UniqueFd(fds[0]));
  FdSink sink(fds[1], "pipe", {.backend = IoBackend::kSyscalls}, UniqueFd(fds[1]));
  EXPECT_STREQ(source.backend(), "syscalls");
  EXPECT_STREQ(sink.backend(), "syscalls");
}

TEST(FdStream, PipeRoundTripWithBothBackends) {
  for (IoBackend backend : kBackends) {
    SCOPED_TRACE(IoBackendName(backend));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const std::string data = GeneratedBytes(21, (3 << 20) + 7);
    FdSource source(fds[0], "input pipe", {.backend = backend}, UniqueFd(fds[0]));
    FdSink sink(fds[1], "output pipe", {.backend = backend}, UniqueFd(fds[1]));
    REQUIRE_BACKEND(source, backend);
    EXPECT_STREQ(sink.backend(), source.backend());
    auto writer = std::async(std::launch::async, [&] {
      Status status = WriteString(sink, data.substr(0, 12345));
      if (status.ok()) status = WriteString(sink, data.substr(12345));
      if (status.ok()) status = sink.Finish();  // closes the write end: the reader sees EOF
      return status;
    });
    const std::string got = ReadAll(source, 100000);
    Status written = writer.get();
    EXPECT_TRUE(written.ok()) << written.ToString();
    EXPECT_TRUE(got == data) << "got " << got.size() << " of " << data.size() << " bytes";
  }
}

std::string TempPath(const std::string& tag) {
  std::string path = std::string(ZSEND_BUILD_DIR) + "/fd_stream_test_" + tag + "_XXXXXX";
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  close(fd);
  return path;
}

TEST(FdStream, FileRoundTripWithBothBackends) {
  for (IoBackend backend : kBackends) {
    SCOPED_TRACE(IoBackendName(backend));
    const std::string path = TempPath("roundtrip");
    const std::string data = GeneratedBytes(22, (2 << 20) + 333);
    int out_fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(out_fd, 0);
    {
      FdSink sink(out_fd, "file " + path, {.backend = backend}, UniqueFd(out_fd));
      REQUIRE_BACKEND(sink, backend);
      ASSERT_TRUE(WriteString(sink, data).ok());
      ASSERT_TRUE(sink.Finish().ok());
      EXPECT_EQ(fcntl(out_fd, F_GETFD), -1) << "Finish() should close an owned fd";
    }
    int in_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(in_fd, 0);
    FdSource source(in_fd, "file " + path, {.backend = backend}, UniqueFd(in_fd));
    EXPECT_TRUE(ReadAll(source, 7777) == data);
    unlink(path.c_str());
  }
}

TEST(FdStream, WriteToAClosedPipeSaysBrokenPipe) {
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGPIPE, &ignore, &previous), 0);  // as zsend-engine does
  for (IoBackend backend : kBackends) {
    SCOPED_TRACE(IoBackendName(backend));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    close(fds[0]);
    FdSink sink(fds[1], "stdout", {.backend = backend}, UniqueFd(fds[1]));
    Status status = WriteString(sink, "hello");
    EXPECT_EQ(status.code(), StatusCode::kAborted);
    EXPECT_NE(status.message().find("broken pipe"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("stdout"), std::string::npos) << status.message();
  }
  sigaction(SIGPIPE, &previous, nullptr);
}

TEST(FdStream, DevFullIsNoSpaceLeft) {
  for (IoBackend backend : kBackends) {
    SCOPED_TRACE(IoBackendName(backend));
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ZSEND_REQUIRE(fd >= 0, "/dev/full");
    FdSink sink(fd, "/dev/full", {.backend = backend}, UniqueFd(fd));
    Status status = WriteString(sink, std::string(8192, 'x'));
    EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
    EXPECT_NE(status.message().find("No space left on device"), std::string::npos)
        << status.message();
    EXPECT_NE(status.message().find("/dev/full"), std::string::npos) << status.message();
  }
}

TEST(FdStream, PipesGrowToTheRequestedSize) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  const int before = fcntl(fds[0], F_GETPIPE_SZ);
  ASSERT_LT(before, 1 << 20) << "the default pipe is already 1 MiB";
  ZSEND_REQUIRE(geteuid() == 0 || test::Shell("test $(cat /proc/sys/fs/pipe-max-size) -ge "
                                              "1048576")
                                          .exit_code == 0,
                "root or fs.pipe-max-size >= 1 MiB");
  {
    FdSource untouched(fds[0], "pipe", {.pipe_size = 0}, UniqueFd());
    EXPECT_EQ(fcntl(fds[0], F_GETPIPE_SZ), before);
  }
  FdSource source(fds[0], "pipe", {}, UniqueFd());
  EXPECT_GE(fcntl(fds[0], F_GETPIPE_SZ), 1 << 20);
}

// Page cache state of a whole file (cachestat(2), Linux 6.5+), declared here because older
// kernel headers lack it.
struct CacheRange {
  uint64_t offset = 0, length = 0;
};
struct CacheStat {
  uint64_t cached, dirty, writeback, evicted, recently_evicted;
};
constexpr long kCachestatSyscall = 451;

bool FileCacheStat(int fd, CacheStat* stat) {
  CacheRange whole;
  return syscall(kCachestatSyscall, fd, &whole, stat, 0) == 0;
}

TEST(FdStream, FinishFsyncsRegularFiles) {
  const std::string path = TempPath("fsync");
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  UniqueFd watcher(dup(fd));  // survives the sink closing its fd
  CacheStat stat{};
  ZSEND_REQUIRE(FileCacheStat(watcher.get(), &stat), "cachestat(2) (Linux 6.5 or later)");
  FdSink sink(fd, "file " + path, {.backend = IoBackend::kSyscalls}, UniqueFd(fd));
  // Written pages stay dirty for seconds unless someone flushes them; the kernel's background
  // writeback may still get there first under load, so write until some are seen dirty.
  for (int attempt = 0; attempt < 16 && stat.dirty == 0; ++attempt) {
    ASSERT_TRUE(WriteString(sink, GeneratedBytes(23 + attempt, 1 << 20)).ok());
    ASSERT_TRUE(FileCacheStat(watcher.get(), &stat));
  }
  ASSERT_GT(stat.dirty, 0u) << "written pages should still be dirty before Finish()";
  ASSERT_TRUE(sink.Finish().ok());
  ASSERT_TRUE(FileCacheStat(watcher.get(), &stat));
  EXPECT_EQ(stat.dirty + stat.writeback, 0u) << "Finish() did not flush the file";
  unlink(path.c_str());
}

// Runs `blocking` on a new thread and interrupts it until it returns; returns its status.
template <typename F>
Status RunInterrupted(F blocking) {
  InstallInterruptHandler();
  std::promise<pthread_t> self;
  std::atomic<bool> done{false};
  Status result;
  std::thread thread([&] {
    ClearThisThreadInterrupt();
    self.set_value(pthread_self());
    result = blocking();
    done = true;
  });
  const pthread_t handle = self.get_future().get();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block (not required)
  for (int i = 0; i < 2000 && !done; ++i) {
    Interrupt(handle);  // repeated: one may land just before the call blocks
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  thread.join();
  return result;
}

TEST(FdStream, InterruptEndsAReadBlockedOnAnEmptyPipe) {
  for (IoBackend backend : kBackends) {
    SCOPED_TRACE(IoBackendName(backend));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    UniqueFd write_end(fds[1]);  // open and silent: read() blocks
    FdSource source(fds[0], "input pipe", {.backend = backend}, UniqueFd(fds[0]));
    Status status = RunInterrupted([&]() -> Status {
      std::byte buf[4096];
      Result<size_t> n = source.Read(buf, sizeof buf);
      return n.ok() ? Internal("read returned " + std::to_string(*n)) : n.status();
    });
    EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
    // The pipe still works afterwards: a cancelled io_uring read left nothing behind.
    ASSERT_EQ(write(fds[1], "z", 1), 1);
    std::byte byte{};
    Result<size_t> n = source.Read(&byte, 1);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1u);
    EXPECT_EQ(byte, std::byte{'z'});
  }
}

TEST(FdStream, InterruptEndsAWriteBlockedOnAFullPipe) {
  for (IoBackend backend : kBackends) {
    SCOPED_TRACE(IoBackendName(backend));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    UniqueFd read_end(fds[0]);  // open and unread: write() blocks once the pipe is full
    FdSink sink(fds[1], "output pipe", {.backend = backend}, UniqueFd(fds[1]));
    const std::string data(8 << 20, 'w');
    Status status = RunInterrupted([&] { return WriteString(sink, data); });
    EXPECT_EQ(status.code(), StatusCode::kCancelled) << status.ToString();
  }
}

}  // namespace
}  // namespace zsend
