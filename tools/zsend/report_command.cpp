// zsend report [BACKUP_NAME] --since 7d [--html FILE] [mail options]: the HTML replication
// report (bzman's) from the history, written to a file or stdout, and mailed when asked.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "orchestrator/report/mail_message.h"
#include "orchestrator/report/mail_send.h"
#include "orchestrator/report/metrics.h"
#include "orchestrator/report/report_html.h"
#include "orchestrator/report/status_table.h"
#include "tools/zsend/commands.h"
#include "tools/zsend/common_options.h"
#include "tools/zsend/exit_codes.h"
#include "tools/zsend/history_access.h"
#include "tools/zsend/mail_options.h"

namespace zsend::cli {
namespace {

using namespace orchestrator;

struct ReportArgs {
  std::string backup_name;
  std::string state_dir;
  std::string since = "7d";
  std::string html_file;
  MailOptions mail;
};

int Fail(const Status& status) {
  std::fprintf(stderr, "zsend report: %s\n", status.message().c_str());
  return kExitFatal;
}

int RunReport(const ReportArgs& args) {
  Result<double> window = ParseDuration(args.since, "--since");
  if (!window.ok()) return Fail(window.status());
  auto history = OpenHistoryForReading(args.state_dir);
  if (!history.ok()) return Fail(history.status());
  const double now = Now();
  auto transfers = (*history)->Transfers(args.backup_name, now - *window);
  if (!transfers.ok()) return Fail(transfers.status());
  int failed = 0;
  for (const TransferRecord& t : *transfers) failed += t.result == "failed";
  const std::string title = "zsend report" +
                            (args.backup_name.empty() ? "" : " for " + args.backup_name) +
                            ", last " + args.since;
  const std::string summary = std::to_string(transfers->size()) + " transfers, " +
                              std::to_string(failed) + " failed, since " + FormatUtc(now - *window);
  const std::string html = RenderHtmlReport(title, summary, *transfers);
  if (!args.html_file.empty()) {
    Status written = WriteFileAtomically(args.html_file, html);
    if (!written.ok()) return Fail(written);
  } else if (args.mail.to.empty()) {
    std::cout << html;
  }
  if (!args.mail.to.empty()) {
    MailMessage message;
    message.from = args.mail.from.empty() ? DefaultMailFrom() : args.mail.from;
    message.to = args.mail.to;
    message.subject = "[zsend] " + HostName() + " " + title + ": " +
                      (failed > 0 ? "FAILED (" + std::to_string(failed) + " failed)" : "OK");
    message.text = title + "\n" + summary + "\n";
    message.html = html;
    Status sent = SendMail(args.mail, message);
    if (!sent.ok()) return Fail(sent);
  }
  return kExitOk;
}

}  // namespace

void RegisterReportCommand(CLI::App& app, CommandRun* run) {
  auto args = std::make_shared<ReportArgs>();
  CLI::App* sub = app.add_subcommand("report", "HTML replication report from the history");
  sub->add_option("BACKUP_NAME", args->backup_name, "only this backup (default: all)");
  sub->add_option("--since", args->since, "how far back (default 7d)");
  sub->add_option("--html", args->html_file, "write the HTML here (default: stdout)");
  AddMailOptions(*sub, &args->mail);
  AddStateDirOption(*sub, &args->state_dir);
  sub->callback([args, run] { *run = [args] { return RunReport(*args); }; });
}

}  // namespace zsend::cli
