#include "tests/support/peers/smtp_server.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/subprocess.h"
#include "tests/support/zsend_cli.h"

namespace zsend::test {

SmtpServer::~SmtpServer() {
  if (server_ > 0) {
    kill(server_, SIGTERM);
    Wait(server_);
  }
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

namespace {

// A self-signed certificate for 127.0.0.1 in `dir`; "" or what is missing.
std::string MakeCertificate(const std::string& dir, std::string* certificate, std::string* key) {
  if (!HaveProgram("openssl")) return "the openssl CLI";
  *certificate = dir + "/cert.pem";
  *key = dir + "/key.pem";
  RunResult made = Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", *key,
                        "-out", *certificate, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"});
  if (made.exit_code != 0) return "a self-signed certificate from openssl: " + made.err;
  return "";
}

}  // namespace

std::string SmtpServer::Start(bool starttls) {
  return Launch(starttls ? "aiosmtpd-starttls" : "aiosmtpd");
}

std::string SmtpServer::StartWithAuth(const std::string& mode) {
  return Launch(mode);
}

std::string SmtpServer::Launch(const std::string& mode) {
  if (!PythonHas("aiosmtpd")) return "python3-aiosmtpd";
  char pattern[] = "/tmp/zsend-smtp-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return "a temporary directory";
  dir_ = pattern;
  port_ = FreePort();
  if (port_ <= 0) return "a free port";
  smtps_ = mode == "smtps";
  const std::string mail_dir = dir_ + "/mail";
  std::filesystem::create_directories(mail_dir);
  std::string key;
  if (mode != "aiosmtpd" && mode != "plain") {
    std::string problem = MakeCertificate(dir_, &certificate_, &key);
    if (!problem.empty()) return problem;
  }
  std::vector<std::string> argv;
  if (mode == "aiosmtpd" || mode == "aiosmtpd-starttls") {
    argv = {SystemPython(), "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_)};
    if (!key.empty()) argv.insert(argv.end(), {"--tlscert", certificate_, "--tlskey", key});
    argv.insert(argv.end(), {"-c", "smtp_sink.Sink", mail_dir});
  } else {
    argv = {SystemPython(), SupportPath("smtp_auth_server.py"), std::to_string(port_), mail_dir,
            mode};
    if (!key.empty()) argv.insert(argv.end(), {certificate_, key});
  }
  SpawnOptions options;
  options.env["PYTHONPATH"] = SupportPath("");
  options.stderr_fd = -1;
  server_ = Spawn(argv, options);
  if (!WaitForPort(port_, 20)) return "aiosmtpd listening on port " + std::to_string(port_);
  return "";
}

nlohmann::json SmtpServer::Stored(int n, double seconds) {
  const std::string base = dir_ + "/mail/" + std::to_string(n);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!std::filesystem::exists(base + ".json") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::ifstream envelope_file(base + ".json");
  if (!envelope_file) return nullptr;
  nlohmann::json envelope = nlohmann::json::parse(envelope_file);
  RunResult dumped = Run({SystemPython(), SupportPath("mail_dump.py"), base + ".eml"});
  if (dumped.exit_code != 0) return nullptr;
  nlohmann::json message = nlohmann::json::parse(dumped.out);
  message["envelope"] = envelope;
  return message;
}

nlohmann::json SmtpServer::Logins() const {
  nlohmann::json logins = nlohmann::json::array();
  for (int n = 1;; ++n) {
    std::ifstream in(dir_ + "/mail/auth-" + std::to_string(n) + ".json");
    if (!in) return logins;
    logins.push_back(nlohmann::json::parse(in));
  }
}

int SmtpServer::Count() const {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/mail", ec)) {
    count += entry.path().extension() == ".json" &&
             entry.path().filename().string().rfind("auth-", 0) != 0;
  }
  return count;
}

}  // namespace zsend::test
