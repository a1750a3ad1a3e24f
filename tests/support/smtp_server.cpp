#include "tests/support/smtp_server.h"

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

std::string SmtpServer::Start(bool starttls) {
  if (!PythonHas("aiosmtpd")) return "python3-aiosmtpd";
  char pattern[] = "/tmp/zsend-smtp-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return "a temporary directory";
  dir_ = pattern;
  port_ = FreePort();
  if (port_ <= 0) return "a free port";
  std::vector<std::string> argv = {SystemPython(), "-m", "aiosmtpd",
                                   "-n",           "-l", "127.0.0.1:" + std::to_string(port_)};
  if (starttls) {
    if (!HaveProgram("openssl")) return "the openssl CLI";
    certificate_ = dir_ + "/cert.pem";
    const std::string key = dir_ + "/key.pem";
    RunResult made = Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                          key, "-out", certificate_, "-days", "1", "-subj", "/CN=127.0.0.1",
                          "-addext", "subjectAltName=IP:127.0.0.1"});
    if (made.exit_code != 0) return "a self-signed certificate from openssl: " + made.err;
    argv.insert(argv.end(), {"--tlscert", certificate_, "--tlskey", key});
  }
  const std::string mail_dir = dir_ + "/mail";
  std::filesystem::create_directories(mail_dir);
  argv.insert(argv.end(), {"-c", "smtp_sink.Sink", mail_dir});
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

int SmtpServer::Count() const {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/mail", ec)) {
    count += entry.path().extension() == ".json";
  }
  return count;
}

}  // namespace zsend::test
