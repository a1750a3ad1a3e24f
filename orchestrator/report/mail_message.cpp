#include "orchestrator/report/mail_message.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <random>

#include "base/units.h"
#include "orchestrator/report/report_html.h"
#include "orchestrator/report/status_table.h"

namespace zsend::orchestrator {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(const std::string& data) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (i + 1 == data.size()) {
    uint32_t n = static_cast<unsigned char>(data[i]) << 16;
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t n = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8);
    out += {kAlphabet[n >> 18], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

bool IsAscii(const std::string& text) {
  for (unsigned char c : text) {
    if (c >= 0x80 || c == '\r' || c == '\n') return false;
  }
  return true;
}

// RFC 2047 encoded-word for a header value that is not plain ASCII.
std::string HeaderText(const std::string& text) {
  return IsAscii(text) ? text : "=?UTF-8?B?" + Base64(text) + "?=";
}

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

}  // namespace

Result<MailOn> ParseMailOn(const std::string& text) {
  if (text == "failure") return MailOn::kFailure;
  if (text == "always") return MailOn::kAlways;
  if (text == "never") return MailOn::kNever;
  return InvalidArgument("--mail-on: '" + text + "' is not failure, always or never");
}

bool ShouldSendMail(MailOn policy, int failed) {
  return policy == MailOn::kAlways || (policy == MailOn::kFailure && failed > 0);
}

int RunSummary::failed() const {
  int failed = 0;
  for (const TransferRecord& t : transfers) failed += t.result == "failed";
  return std::max(failed, run.datasets_failed);
}

std::string MailSubject(const RunSummary& summary) {
  const int total = static_cast<int>(summary.transfers.size());
  const int failed = summary.failed();
  std::string subject = "[zsend] " + summary.host + " " + summary.run.backup_name + ": ";
  if (total == 0 && summary.run.result == "failed") {
    // Nothing reached the datasets (a host unreachable...): the reason is the news.
    std::string why = summary.run.error.substr(0, summary.run.error.find('\n'));
    if (why.size() > 120) why = why.substr(0, 117) + "...";
    subject += "FAILED" + (why.empty() ? std::string() : ": " + why);
  } else if (failed > 0 || summary.run.result == "failed") {
    subject += "FAILED (" + std::to_string(failed) + " of " + std::to_string(total) + " dataset" +
               (total == 1 ? "" : "s") + " failed)";
  } else {
    subject += "OK (" + std::to_string(total) + " dataset" + (total == 1 ? "" : "s") + ")";
  }
  return subject;
}

std::string MailTextBody(const RunSummary& summary) {
  const RunRecord& run = summary.run;
  std::string text = "zsend " + run.command + " '" + run.backup_name + "' on " + summary.host +
                     "\n" + "source " + run.source_host + " -> target " + run.target_host + "\n" +
                     "started " + FormatUtc(run.started) + ", ended " + FormatUtc(run.ended) +
                     " (" + FormatAge(run.ended - run.started) + ")\n";
  const int failed = summary.failed();
  const int ok = std::max(0, static_cast<int>(summary.transfers.size()) - failed);
  text += "result: " + std::string(failed > 0 ? "FAILED" : "OK") + ", " + std::to_string(ok) +
          " ok, " + std::to_string(failed) + " failed\n";
  if (!run.error.empty()) text += "error: " + run.error + "\n";
  text += "\n";
  std::vector<TransferRecord> rows = summary.transfers;
  text += "DATASET / RESULT / KIND / SNAPSHOT / SIZE / TIME / RATE / TRANSPORT\n";
  for (const TransferRecord& t : rows) {
    double rate = t.seconds > 0 ? static_cast<double>(t.stream_bytes) / t.seconds : 0;
    text += t.source_dataset + " -> " + t.target_dataset + "  " + t.result + "  " +
            (t.kind.empty() ? "-" : t.kind) + "  " + (t.to_snapshot.empty() ? "-" : t.to_snapshot) +
            "  " + FormatBytes(static_cast<double>(t.stream_bytes)) + "  " +
            FormatDuration(t.seconds) + "  " + (rate > 0 ? FormatRate(rate) : "-") + "  " +
            (t.transport.empty() ? "-" : t.transport) + "\n";
  }
  for (const TransferRecord& t : rows) {
    if (t.error.empty() || t.result == "ok") continue;
    text += "\n--- " + t.source_dataset + " (" + t.result + ") ---\n" + t.error;
    if (t.error.back() != '\n') text += "\n";
  }
  for (const std::string& note : summary.notes) text += "\nnote: " + note + "\n";
  return text;
}

MailMessage BuildRunMail(const RunSummary& summary, const std::string& from,
                         const std::vector<std::string>& to) {
  MailMessage message;
  message.from = from;
  message.to = to;
  message.subject = MailSubject(summary);
  message.text = MailTextBody(summary);
  const int failed = summary.failed();
  const int ok = std::max(0, static_cast<int>(summary.transfers.size()) - failed);
  std::string line = std::to_string(ok) + " ok, " + std::to_string(failed) + " failed; " +
                     summary.run.source_host + " -> " + summary.run.target_host + "; started " +
                     FormatUtc(summary.run.started);
  message.html = RenderHtmlReport(message.subject, line, summary.transfers);
  return message;
}

std::string Rfc5322Date(double epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm utc{};
  gmtime_r(&t, &utc);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::string Base64Lines(const std::string& data) {
  std::string encoded = Base64(data), out;
  for (size_t i = 0; i < encoded.size(); i += 76) out += encoded.substr(i, 76) + "\r\n";
  return out;
}

std::string RenderMime(const MailMessage& message, double now, const std::string& domain) {
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  const std::string unique = std::to_string(static_cast<long long>(now)) + "." +
                             std::to_string(::getpid()) + "." + std::to_string(++counter) + "." +
                             std::to_string(random());
  const std::string boundary = "zsend-" + unique;
  std::string mime;
  mime += "From: " + message.from + "\r\n";
  mime += "To: " + Join(message.to, ", ") + "\r\n";
  mime += "Subject: " + HeaderText(message.subject) + "\r\n";
  mime += "Date: " + Rfc5322Date(now) + "\r\n";
  mime += "Message-ID: <" + unique + "@" + domain + ">\r\n";
  mime += "MIME-Version: 1.0\r\n";
  mime += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
  mime += "\r\nThis is a MIME message; your mail reader shows the text or the HTML part.\r\n";
  for (const auto& [type, body] :
       {std::pair<const char*, const std::string*>{"text/plain", &message.text},
        {"text/html", &message.html}}) {
    mime += "\r\n--" + boundary + "\r\n";
    mime += std::string("Content-Type: ") + type + "; charset=utf-8\r\n";
    mime += "Content-Transfer-Encoding: base64\r\n\r\n";
    mime += Base64Lines(*body);
  }
  mime += "\r\n--" + boundary + "--\r\n";
  return mime;
}

}  // namespace zsend::orchestrator
