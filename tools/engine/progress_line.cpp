#include "tools/engine/progress_line.h"

#include <cstdio>

#include "base/units.h"

namespace zsend::tool {

std::string ProgressLine::Format(const PipelineProgress& p, uint64_t expected_size,
                                 const std::string& extra) {
  char fill[16];
  std::snprintf(fill, sizeof fill, "%.0f%%", p.fill_percent);
  std::string line = FormatBytes(static_cast<double>(p.bytes_out)) + "  in " +
                     FormatRate(p.rate_in) + "  out " + FormatRate(p.rate_out) + "  buffer " +
                     fill + "  " + FormatDuration(p.elapsed_seconds);
  if (expected_size > 0) {
    double left = static_cast<double>(expected_size) - static_cast<double>(p.bytes_out);
    double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.bytes_out) / p.elapsed_seconds : 0;
    line += "  ETA " + (rate > 0 && left > 0 ? FormatDuration(left / rate) : std::string("0:00"));
  }
  if (!extra.empty()) line += "  " + extra;
  return line;
}

void ProgressLine::Update(const PipelineProgress& p, const std::string& extra) {
  std::string line = Format(p, expected_size_, extra);
  if (terminal_) {
    std::fprintf(stderr, "\r%-78s", line.c_str());
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (terminal_ && drawn_) std::fputc('\n', stderr);
}

}  // namespace zsend::tool
