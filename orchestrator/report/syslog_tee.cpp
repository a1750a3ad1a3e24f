#include "orchestrator/report/syslog_tee.h"

#include <syslog.h>

#include <iostream>

namespace zsend::orchestrator {

// Forwards every character to the original buffer and collects lines for the sink.
class SyslogTee::Buffer : public std::streambuf {
 public:
  Buffer(std::streambuf* inner, bool from_stderr, LineSink sink)
      : inner_(inner), from_stderr_(from_stderr), sink_(std::move(sink)) {}
  ~Buffer() override { FlushLine(); }
  std::streambuf* inner() const { return inner_; }

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    std::lock_guard<std::mutex> lock(mutex_);
    Take(traits_type::to_char_type(c));
    return inner_->sputc(traits_type::to_char_type(c));
  }
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::streamsize i = 0; i < n; ++i) Take(data[i]);
    return inner_->sputn(data, n);
  }
  int sync() override { return inner_->pubsync(); }

 private:
  void Take(char c) {
    if (c != '\n') {
      line_ += c;
      return;
    }
    Emit();
  }
  void Emit() {
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    if (!line_.empty()) sink_(SyslogPriority(from_stderr_, line_), line_);
    line_.clear();
  }
  void FlushLine() {
    std::lock_guard<std::mutex> lock(mutex_);
    Emit();
  }

  std::streambuf* inner_;
  bool from_stderr_;
  LineSink sink_;
  std::mutex mutex_;
  std::string line_;  // guarded by mutex_
};

int SyslogPriority(bool from_stderr, const std::string& line) {
  if (from_stderr) return line.rfind("zsend ", 0) == 0 ? LOG_ERR : LOG_NOTICE;
  if (line.find(": FAILED") != std::string::npos || line.find("error:") != std::string::npos) {
    return LOG_ERR;
  }
  return LOG_INFO;
}

LineSink SystemSyslogSink() {
  ::openlog("zsend", LOG_PID, LOG_USER);
  return [](int priority, const std::string& line) { ::syslog(priority, "%s", line.c_str()); };
}

SyslogTee::SyslogTee(LineSink sink)
    : SyslogTee(std::cout, std::cerr, sink ? std::move(sink) : SystemSyslogSink()) {}

SyslogTee::SyslogTee(std::ostream& out, std::ostream& err, LineSink sink)
    : out_(out),
      err_(err),
      out_buffer_(std::make_unique<Buffer>(out.rdbuf(), false, sink)),
      err_buffer_(std::make_unique<Buffer>(err.rdbuf(), true, sink)) {
  out_.flush();
  err_.flush();
  out_.rdbuf(out_buffer_.get());
  err_.rdbuf(err_buffer_.get());
}

SyslogTee::~SyslogTee() {
  out_.flush();
  err_.flush();
  out_.rdbuf(out_buffer_->inner());
  err_.rdbuf(err_buffer_->inner());
}

}  // namespace zsend::orchestrator
