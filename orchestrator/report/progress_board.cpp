#include "orchestrator/report/progress_board.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/units.h"

namespace zsend::orchestrator {
namespace {

constexpr size_t kMaxLabelWidth = 40;

std::string Padded(const std::string& text, size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

std::string Percent(double part, double whole) {
  char text[16];
  std::snprintf(text, sizeof text, "%.0f%%", std::min(100.0, 100.0 * part / whole));
  return text;
}

}  // namespace

std::vector<std::string> FormatProgressBlock(const std::vector<TransferLine>& running,
                                             const ProgressTotals& totals) {
  size_t width = 0;
  for (const TransferLine& t : running) width = std::max(width, t.label.size());
  width = std::min(width, kMaxLabelWidth);
  std::vector<std::string> lines;
  for (const TransferLine& t : running) {
    const double rate = t.seconds > 0 ? static_cast<double>(t.bytes) / t.seconds : 0;
    std::string line = Padded(t.label, width) + "  " + FormatBytes(static_cast<double>(t.bytes)) +
                       "  " + FormatRate(rate) + "  " + FormatDuration(t.seconds);
    if (t.expected_bytes > 0) {
      const double left = static_cast<double>(t.expected_bytes) - static_cast<double>(t.bytes);
      line += "  " + Percent(static_cast<double>(t.bytes), static_cast<double>(t.expected_bytes));
      if (rate > 0) line += "  ETA " + FormatDuration(std::max(0.0, left) / rate);
    }
    lines.push_back(line);
  }
  const double rate = totals.seconds > 0 ? static_cast<double>(totals.bytes) / totals.seconds : 0;
  std::string total = "total  " + std::to_string(totals.done);
  if (totals.expected > 0) total += " of " + std::to_string(totals.expected);
  total += " datasets done  " + FormatBytes(static_cast<double>(totals.bytes)) + "  " +
           FormatRate(rate) + "  " + FormatDuration(totals.seconds);
  lines.push_back(total);
  return lines;
}

double ProgressBoard::SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressBoard::ProgressBoard(std::ostream& out, Mode mode, int width, std::function<double()> now)
    : out_(out), mode_(mode), width_(std::max(20, width)), now_(std::move(now)) {}

void ProgressBoard::Expect(int datasets) {
  std::lock_guard<std::mutex> lock(mutex_);
  expected_ = datasets;
}

int ProgressBoard::Begin(const std::string& label, uint64_t expected_bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_ < 0) started_ = now_();
  const int id = next_id_++;
  running_[id] = {label, 0, 0, expected_bytes};
  DrawIfDue();
  return id;
}

void ProgressBoard::Update(int id, uint64_t stream_bytes, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = running_.find(id);
  if (it == running_.end()) return;
  it->second.bytes = stream_bytes;
  it->second.seconds = seconds;
  DrawIfDue();
}

void ProgressBoard::End(int id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = running_.find(id);
  if (it == running_.end()) return;
  ended_bytes_ += it->second.bytes;
  ended_.insert(it->second.label);
  running_.erase(it);
  DrawIfDue();
}

void ProgressBoard::Print(const std::string& line) {
  std::lock_guard<std::mutex> lock(mutex_);
  ClearBlock();
  if (log_) {
    out_ << std::flush;
    *log_ << line << "\n" << std::flush;
  } else {
    out_ << line << "\n";
  }
  if (!finished_ && mode_ == Mode::kTerminal && started_ >= 0) {
    Draw();
  } else {
    out_ << std::flush;
  }
}

void ProgressBoard::Finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  ClearBlock();
  out_ << std::flush;
  finished_ = true;
}

void ProgressBoard::DrawIfDue() {
  if (finished_) return;
  const double now = now_();
  const double interval = mode_ == Mode::kTerminal ? kTerminalInterval : kLinesInterval;
  if (last_draw_ >= 0 && now - last_draw_ < interval) return;
  ClearBlock();
  Draw();
}

void ProgressBoard::Draw() {
  const double now = now_();
  last_draw_ = now;
  std::vector<TransferLine> running;
  ProgressTotals totals;
  totals.expected = expected_;
  totals.bytes = ended_bytes_;
  totals.seconds = started_ >= 0 ? now - started_ : 0;
  for (const auto& [id, line] : running_) {
    running.push_back(line);
    totals.bytes += line.bytes;
  }
  int done = 0;
  for (const std::string& label : ended_) {
    bool still = std::any_of(running.begin(), running.end(),
                             [&](const TransferLine& t) { return t.label == label; });
    if (!still) ++done;
  }
  totals.done = done;
  std::string text;
  std::vector<std::string> lines = FormatProgressBlock(running, totals);
  for (std::string& line : lines) {
    if (mode_ == Mode::kTerminal) {
      if (line.size() >= static_cast<size_t>(width_)) line.resize(static_cast<size_t>(width_ - 1));
      text += "\x1b[2K";
    }
    text += line + "\n";
  }
  out_ << text << std::flush;
  drawn_lines_ = mode_ == Mode::kTerminal ? static_cast<int>(lines.size()) : 0;
}

void ProgressBoard::ClearBlock() {
  if (drawn_lines_ == 0) return;
  std::string text;
  for (int i = 0; i < drawn_lines_; ++i) text += "\x1b[1A\x1b[2K";
  out_ << text;
  drawn_lines_ = 0;
}

}  // namespace zsend::orchestrator
