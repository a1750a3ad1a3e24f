// Mail messages: the email a run sends (smartcopy's rule: on failure always, on success when
// asked), built as a proper MIME message.
//
// Subject: "[zsend] HOST BACKUP: OK (3 datasets)" or "[zsend] HOST BACKUP: FAILED (1 of 3
// datasets failed)"; a run that failed before any dataset: "[zsend] HOST BACKUP: FAILED: REASON".
// Body: multipart/alternative with a text/plain part (the per-dataset table
// and each error's full stderr) and a text/html part (the HTML report of report_html.h), both
// UTF-8 and base64-encoded. Headers: From, To, Subject (RFC 2047 when not ASCII), Date
// (RFC 5322), Message-ID, MIME-Version.
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "orchestrator/report/history.h"

namespace zsend::orchestrator {

enum class MailOn { kFailure, kAlways, kNever };
Result<MailOn> ParseMailOn(const std::string& text);
// Whether a run with `failed` failures sends mail under `policy`.
bool ShouldSendMail(MailOn policy, int failed);

// What a run reports: its record and its transfers.
struct RunSummary {
  std::string host;  // the machine zsend ran on
  RunRecord run;
  std::vector<TransferRecord> transfers;
  std::vector<std::string> notes;  // extra lines (rotation results, warnings)

  int failed() const;
};

struct MailMessage {
  std::string from;
  std::vector<std::string> to;
  std::string subject;
  std::string text;  // the plain-text part
  std::string html;  // the HTML part
};

std::string MailSubject(const RunSummary& summary);
std::string MailTextBody(const RunSummary& summary);
MailMessage BuildRunMail(const RunSummary& summary, const std::string& from,
                         const std::vector<std::string>& to);

// The RFC 5322 message (CRLF line ends) with the given Date and Message-ID domain.
std::string RenderMime(const MailMessage& message, double now, const std::string& domain);

// "Sat, 04 Jan 2024 12:00:00 +0000".
std::string Rfc5322Date(double epoch_seconds);
std::string Base64Lines(const std::string& data);  // 76-character lines, CRLF

}  // namespace zsend::orchestrator
