#include "tools/zsend/option_checks.h"

#include <unistd.h>

#include <cstring>
#include <utility>

#include "base/codec_spec.h"
#include "orchestrator/report/mail_send.h"

namespace zsend::cli {

Status CheckTransferValues(const std::string& codec, int ssh_port) {
  if (!codec.empty()) {
    Result<CodecSpec> spec = ParseCodecSpec(codec);
    if (!spec.ok()) {
      // The engine calls it --compress; here the option is --codec.
      std::string why = spec.status().message();
      constexpr const char* kEngineName = "--compress";
      if (why.rfind(kEngineName, 0) == 0) why = "--codec" + why.substr(std::strlen(kEngineName));
      return InvalidArgument(why);
    }
  }
  if (ssh_port < 0 || ssh_port > 65535) {
    return InvalidArgument("--ssh-port takes a port number from 1 to 65535, got " +
                           std::to_string(ssh_port));
  }
  return Status::Ok();
}

Status CheckNameValues(const std::string& group, const std::string& snapshot_name,
                       const std::string& ssh_identity) {
  for (const auto& [value, option] :
       {std::pair{&group, "--group"}, std::pair{&snapshot_name, "--snapshot-name"}}) {
    for (char c : *value) {
      if (c == '@' || c == '/' || c == '#' || c == '%' || static_cast<unsigned char>(c) < 0x20) {
        return InvalidArgument(std::string(option) + " '" + *value +
                               "': a snapshot name cannot contain '@', '/', '#', '%' or control "
                               "characters");
      }
    }
  }
  if (!ssh_identity.empty() && ::access(ssh_identity.c_str(), R_OK) != 0) {
    return InvalidArgument("--ssh-identity " + ssh_identity + ": cannot read it");
  }
  return Status::Ok();
}

Status CheckMailValues(const MailOptions& mail) {
  if (auto on = orchestrator::ParseMailOn(mail.on); !on.ok()) return on.status();
  if (!mail.smtp_url.empty() && mail.smtp_url.rfind("smtp://", 0) != 0 &&
      mail.smtp_url.rfind("smtps://", 0) != 0) {
    return InvalidArgument("--smtp-url '" + mail.smtp_url +
                           "' must start with smtp:// or smtps://");
  }
  if (!mail.smtp_user.empty() && !mail.smtp_url.empty() && !mail.to.empty()) {
    orchestrator::SmtpOptions smtp;
    smtp.user = mail.smtp_user;
    smtp.password_file = mail.smtp_password_file;
    Result<std::string> password = orchestrator::SmtpPassword(smtp);
    if (!password.ok()) return password.status();
  }
  return Status::Ok();
}

}  // namespace zsend::cli
