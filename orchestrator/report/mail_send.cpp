#include "orchestrator/report/mail_send.h"

#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>

namespace zsend::orchestrator {
namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  Upload* upload = static_cast<Upload*>(user);
  size_t room = size * count;
  size_t left = upload->data->size() - upload->offset;
  size_t n = left < room ? left : room;
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace

std::string MailAddress(const std::string& text) {
  size_t open = text.find('<');
  size_t close = text.find('>', open == std::string::npos ? 0 : open);
  if (open != std::string::npos && close != std::string::npos) {
    return text.substr(open + 1, close - open - 1);
  }
  return text;
}

Result<std::string> SmtpPassword(const SmtpOptions& options) {
  if (!options.password_file.empty()) {
    std::ifstream in(options.password_file);
    if (!in) {
      return Status(StatusCode::kNotFound,
                    "--smtp-password-file " + options.password_file + ": cannot read it");
    }
    std::string password;
    std::getline(in, password);
    while (!password.empty() && (password.back() == '\r' || password.back() == ' ')) {
      password.pop_back();
    }
    return password;
  }
  const char* env = std::getenv(kSmtpPasswordEnv);
  if (env != nullptr) return std::string(env);
  return InvalidArgument("--smtp-user " + options.user +
                         " needs a password: give --smtp-password-file FILE or set " +
                         kSmtpPasswordEnv);
}

Status SendViaSmtp(const MailMessage& message, const std::string& mime,
                   const SmtpOptions& options) {
  if (options.url.rfind("smtp://", 0) != 0 && options.url.rfind("smtps://", 0) != 0) {
    return InvalidArgument("--smtp-url '" + options.url + "' must start with smtp:// or smtps://");
  }
  if (message.to.empty()) return InvalidArgument("no --mail-to recipient");
  std::string password;
  if (!options.user.empty()) {
    Result<std::string> got = SmtpPassword(options);
    if (!got.ok()) return got.status();
    password = *got;
  }
  InitCurlOnce();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("libcurl could not start a transfer");
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* recipients = nullptr;
  for (const std::string& to : message.to) {
    recipients = curl_slist_append(recipients, ("<" + MailAddress(to) + ">").c_str());
  }
  const std::string from = "<" + MailAddress(message.from) + ">";
  Upload upload{&mime, 0};
  curl_easy_setopt(curl, CURLOPT_URL, options.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options.timeout_seconds);
  // smtps:// is TLS from the first byte. smtp://: without credentials STARTTLS when the server
  // offers it; with credentials STARTTLS must succeed, so a password never travels in the clear
  // (a server, or someone on the path, that offers no STARTTLS ends the attempt before AUTH).
  const bool credentials = !options.user.empty();
  curl_easy_setopt(curl, CURLOPT_USE_SSL,
                   static_cast<long>(credentials ? CURLUSESSL_ALL : CURLUSESSL_TRY));
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, options.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return Status::Ok();
  if (rc == CURLE_USE_SSL_FAILED) {
    return Status(StatusCode::kFailedPrecondition,
                  "sending mail through " + options.url +
                      " refused: --smtp-user needs TLS and the server offers no STARTTLS (the "
                      "password was not sent); use an smtps:// URL or a server with STARTTLS");
  }
  std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
  StatusCode code =
      rc == CURLE_LOGIN_DENIED ? StatusCode::kPermissionDenied : StatusCode::kUnavailable;
  return Status(code, "sending mail through " + options.url + " failed: " + why);
}

Status SendViaSendmail(CommandRunner& local, const std::string& command, const MailMessage& message,
                       const std::string& mime) {
  std::vector<std::string> argv = Words(command);
  if (argv.empty()) return InvalidArgument("--sendmail: empty command");
  if (message.to.empty()) return InvalidArgument("no --mail-to recipient");
  argv.insert(argv.end(), {"-oi", "--"});
  for (const std::string& to : message.to) argv.push_back(MailAddress(to));
  // sendmail wants LF line ends on stdin.
  std::string input;
  input.reserve(mime.size());
  for (size_t i = 0; i < mime.size(); ++i) {
    if (mime[i] == '\r' && i + 1 < mime.size() && mime[i + 1] == '\n') continue;
    input += mime[i];
  }
  Result<CommandOutput> output = local.Run({argv, Effect::kMutates, input});
  if (!output.ok()) return output.status().WithContext("sending mail through " + argv[0]);
  if (!output->ok()) {
    return Unavailable("sending mail through " + argv[0] + " failed (exit " +
                       std::to_string(output->exit_code) + "): " + output->FirstErrorLine());
  }
  return Status::Ok();
}

std::string HostName() {
  char name[256] = {0};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

std::string DefaultMailFrom() {
  return "zsend@" + HostName();
}

Status SendMail(const MailOptions& options, const MailMessage& message) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string mime = RenderMime(message, now, HostName());
  if (!options.smtp_url.empty()) {
    SmtpOptions smtp;
    smtp.url = options.smtp_url;
    smtp.user = options.smtp_user;
    smtp.password_file = options.smtp_password_file;
    smtp.ca_file = options.smtp_ca_file;
    return SendViaSmtp(message, mime, smtp);
  }
  LocalRunner local;
  return SendViaSendmail(local, options.sendmail.empty() ? "/usr/sbin/sendmail" : options.sendmail,
                         message, mime);
}

}  // namespace zsend::orchestrator
