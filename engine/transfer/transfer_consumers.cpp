#include "engine/transfer/transfer_consumers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/private_file.h"
#include "base/shell_words.h"

namespace zsend {
namespace {

class StdoutConsumer : public Consumer {
 public:
  explicit StdoutConsumer(const FdStreamOptions& io) : sink_(1, "stdout", io, UniqueFd()) {}
  Status Write(const std::byte* buf, size_t len) override { return sink_.Write(buf, len); }
  Status Finish() override { return sink_.Finish(); }
  void Abandon() override {}
  std::string Describe() const override { return "stdout"; }

 private:
  FdSink sink_;
};

class FileConsumer : public Consumer {
 public:
  // `direct`: write `path` itself (a device or fifo such as /dev/null), no rename.
  FileConsumer(std::string path, bool direct, int raw_fd, UniqueFd fd, const FdStreamOptions& io)
      : path_(std::move(path)),
        partial_(direct ? path_ : path_ + ".partial"),
        direct_(direct),
        sink_(raw_fd, "output " + partial_, io, std::move(fd)) {}
  Status Write(const std::byte* buf, size_t len) override { return sink_.Write(buf, len); }
  Status Finish() override {
    ZSEND_RETURN_IF_ERROR(sink_.Finish());
    if (!direct_ && std::rename(partial_.c_str(), path_.c_str()) != 0) {
      return ErrnoStatus("cannot rename " + partial_ + " to " + path_, errno);
    }
    done_ = true;
    return Status::Ok();
  }
  void Abandon() override {
    if (!done_ && !direct_) ::unlink(partial_.c_str());
  }
  ~FileConsumer() override { Abandon(); }
  std::string Describe() const override { return "output " + path_; }

 private:
  std::string path_, partial_;
  bool direct_;
  FdSink sink_;
  bool done_ = false;
};

class ProcessConsumer : public Consumer {
 public:
  explicit ProcessConsumer(std::unique_ptr<ChildProcess> child) : sink_(std::move(child)) {}
  Status Write(const std::byte* buf, size_t len) override { return sink_.Write(buf, len); }
  Status Finish() override { return sink_.Finish(); }
  void Abandon() override {
    // Killed before its stdin closes: `zfs recv` must see an abort, not an end of stream.
    sink_.child().Kill();
    sink_.child().ClosePipe();
    sink_.child().Wait();
  }
  int exit_code() const override { return const_cast<ChildSink&>(sink_).child().Wait(); }
  std::string stderr_tail() const override {
    return const_cast<ChildSink&>(sink_).child().stderr_tail();
  }
  std::string Describe() const override { return sink_.Describe(); }

 private:
  ChildSink sink_;
};

}  // namespace

Result<std::unique_ptr<Consumer>> MakeStdoutConsumer(const FdStreamOptions& io) {
  return std::unique_ptr<Consumer>(std::make_unique<StdoutConsumer>(io));
}

Result<std::unique_ptr<Consumer>> MakeFileConsumer(const std::string& path,
                                                   const FdStreamOptions& io) {
  // Devices and fifos (/dev/null) are written directly; regular files through FILE.partial.
  struct stat st;
  const bool direct = ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
  // FILE.partial is ours: created afresh, 0600, never through a symlink planted there.
  UniqueFd fd;
  if (direct) {
    fd = UniqueFd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
    if (!fd.valid()) return ErrnoStatus("cannot open output " + path, errno);
  } else {
    Result<UniqueFd> created = CreatePrivateFile(path + ".partial");
    if (!created.ok()) return created.status().WithContext("output");
    fd = std::move(*created);
  }
  return std::unique_ptr<Consumer>(
      std::make_unique<FileConsumer>(path, direct, fd.get(), std::move(fd), io));
}

Result<std::unique_ptr<Consumer>> MakeProcessConsumer(const std::string& command,
                                                      bool echo_stderr) {
  Result<std::vector<std::string>> argv = ShellSplit(command);
  if (!argv.ok()) return argv.status();
  return MakeProcessConsumer(*argv, echo_stderr);
}

Result<std::unique_ptr<Consumer>> MakeProcessConsumer(const std::vector<std::string>& argv,
                                                      bool echo_stderr) {
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(argv, ChildProcess::Pipe::kStdin, echo_stderr);
  if (!child.ok()) return child.status();
  return std::unique_ptr<Consumer>(std::make_unique<ProcessConsumer>(std::move(*child)));
}

}  // namespace zsend
