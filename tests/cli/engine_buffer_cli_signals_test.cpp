// End-to-end: SIGINT and SIGTERM stop `zsend-engine buffer` promptly with 130 and 143, with a
// one-line message (so the program caught the signal and did not just die of it), both while
// data is flowing and while it is blocked on an idle input.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <ostream>
#include <string>
#include <thread>

#include "tests/support/engine_cli.h"

namespace zsend::test {
namespace {

struct SignalCase {
  int signal_number;
  int exit_code;
};

// Names the case in test listings ("SIGINT -> 130") instead of dumping its bytes.
void PrintTo(const SignalCase& c, std::ostream* os) {
  *os << (c.signal_number == SIGINT ? "SIGINT" : "SIGTERM") << " -> " << c.exit_code;
}

class EngineBufferCliSignals : public ::testing::TestWithParam<SignalCase> {};

// Waits until the program has installed its handler, so the signal reaches the program's
// own stop path rather than the default action (which would also yield 128 + signal).
void AwaitHandler(pid_t pid, int signal_number) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!CatchesSignal(pid, signal_number) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(CatchesSignal(pid, signal_number)) << "the program never caught the signal";
}

void ExpectStoppedBySignal(EngineChild& child, const SignalCase& c) {
  kill(child.pid(), c.signal_number);
  const auto start = std::chrono::steady_clock::now();
  bool timed_out = false;
  RunResult r = child.Wait(10, &timed_out);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(timed_out) << "the signal did not stop the program";
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_NE(r.err.find("signal"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 5) << "stopping took too long";
}

TEST_P(EngineBufferCliSignals, StopsWhileDataFlows) {
  EngineChild child({"buffer", "-q", "-i", "/dev/zero", "-m", "16M"}, EngineChild::kPipeOut);
  // Keep the output drained and make sure bytes are really moving before the signal.
  std::promise<void> flowing;
  std::thread drain([&] {
    std::vector<char> buf(1 << 20);
    uint64_t total = 0;
    bool told = false;
    for (;;) {
      ssize_t n = read(child.out_fd, buf.data(), buf.size());
      if (n <= 0) break;
      total += static_cast<uint64_t>(n);
      if (!told && total >= (32u << 20)) {
        flowing.set_value();
        told = true;
      }
    }
    if (!told) flowing.set_value();
    close(child.out_fd);
  });
  flowing.get_future().wait();
  AwaitHandler(child.pid(), GetParam().signal_number);
  ExpectStoppedBySignal(child, GetParam());
  drain.join();
}

TEST_P(EngineBufferCliSignals, StopsWhileBlockedOnAnIdleInput) {
  EngineChild child({"buffer", "-q"}, EngineChild::kPipeIn);
  AwaitHandler(child.pid(), GetParam().signal_number);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it block in read
  ExpectStoppedBySignal(child, GetParam());
  close(child.in_fd);
}

TEST_P(EngineBufferCliSignals, StopsWhileBlockedOnAStuckOutput) {
  EngineChild child({"buffer", "-q", "-i", "/dev/zero", "-m", "8M"}, EngineChild::kPipeOut);
  AwaitHandler(child.pid(), GetParam().signal_number);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the ring and pipe fill
  ExpectStoppedBySignal(child, GetParam());
  close(child.out_fd);
}

INSTANTIATE_TEST_SUITE_P(EngineBufferCli, EngineBufferCliSignals,
                         ::testing::Values(SignalCase{SIGINT, 130}, SignalCase{SIGTERM, 143}),
                         [](const ::testing::TestParamInfo<SignalCase>& param_info) {
                           return std::string(param_info.param.signal_number == SIGINT ? "Sigint"
                                                                                       : "Sigterm");
                         });

}  // namespace
}  // namespace zsend::test
