#include "tests/support/zsend_cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/subprocess.h"

namespace zsend::test {

std::string SystemPython() {
  return "/usr/bin/python3";
}

bool PythonHas(const std::string& module) {
  return access(SystemPython().c_str(), X_OK) == 0 &&
         Run({SystemPython(), "-c", "import " + module}).exit_code == 0;
}

std::string SupportPath(const std::string& name) {
  return std::string(ZSEND_SOURCE_DIR) + "/tests/support/" + name;
}

std::string CompareGolden(const std::string& name, const std::string& actual) {
  const std::string path = std::string(ZSEND_SOURCE_DIR) + "/tests/golden/" + name;
  const char* update = std::getenv("ZSEND_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path) << actual;
    return "";
  }
  std::ifstream in(path);
  if (!in) return "missing golden file " + path + " (run with ZSEND_UPDATE_GOLDEN=1 to create)";
  std::ostringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) return "";
  return "differs from " + path + "\n--- expected\n" + expected.str() + "--- actual\n" + actual;
}

namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// "dddd-dd-dd dd:dd:ddZ" at text[i] (no std::regex: GCC 12 warns inside it under ASan).
bool IsUtcStamp(const std::string& text, size_t i) {
  static const char kShape[] = "dddd-dd-dd dd:dd:ddZ";
  if (i + sizeof kShape - 1 > text.size()) return false;
  for (size_t k = 0; k + 1 < sizeof kShape; ++k) {
    char c = text[i + k];
    if (kShape[k] == 'd' ? !IsDigit(c) : c != kShape[k]) return false;
  }
  return true;
}

}  // namespace

std::string NormaliseTimes(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (IsUtcStamp(text, i)) {
      out += "<TIME>";
      i += 20;
      continue;
    }
    bool replaced = false;
    for (const char* key : {"\"last_success\": ", "\"age_seconds\": "}) {
      const std::string k = key;
      if (text.compare(i, k.size(), k) == 0 && i + k.size() < text.size() &&
          IsDigit(text[i + k.size()])) {
        out += k + "<N>";
        i += k.size();
        while (i < text.size() &&
               (IsDigit(text[i]) || text[i] == '.' || text[i] == 'e' || text[i] == '+')) {
          ++i;
        }
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

bool WaitForPort(int port, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace zsend::test
