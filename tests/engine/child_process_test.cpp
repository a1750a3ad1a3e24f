// ChildProcess: exit status and stderr tail (the splitting of --exec: base/shell_words_test).
#include "engine/transfer/child_process.h"

#include <gtest/gtest.h>

namespace zsend {
namespace {

TEST(TransferChildProcess, ProducerThatFailsIsNotACleanEnd) {
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      {"sh", "-c", "printf data; echo broke >&2; exit 3"}, ChildProcess::Pipe::kStdout, false);
  ASSERT_TRUE(child.ok()) << child.status().message();
  ChildSource source(std::move(*child));
  std::byte buf[64];
  std::string got;
  Status final_status;
  for (;;) {
    Result<size_t> n = source.Read(buf, sizeof buf);
    if (!n.ok()) {
      final_status = n.status();
      break;
    }
    if (*n == 0) break;
    got.append(reinterpret_cast<const char*>(buf), *n);
  }
  EXPECT_EQ(got, "data");
  ASSERT_FALSE(final_status.ok()) << "a producer exiting 3 looked like a clean end";
  EXPECT_NE(final_status.message().find("exited with 3: broke"), std::string::npos)
      << final_status.message();
}

TEST(TransferChildProcess, ConsumerExitCodeAndKill) {
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(
      {"sh", "-c", "cat >/dev/null; exit 5"}, ChildProcess::Pipe::kStdin, false);
  ASSERT_TRUE(child.ok());
  ChildSink sink(std::move(*child));
  ASSERT_TRUE(sink.Write(reinterpret_cast<const std::byte*>("abc"), 3).ok());
  Status finished = sink.Finish();
  EXPECT_FALSE(finished.ok());
  EXPECT_EQ(sink.child().Wait(), 5);

  Result<std::unique_ptr<ChildProcess>> sleeper =
      ChildProcess::Start({"sleep", "30"}, ChildProcess::Pipe::kStdin, false);
  ASSERT_TRUE(sleeper.ok());
  (*sleeper)->Kill();
  EXPECT_EQ((*sleeper)->Wait(), 128 + 15);
}

TEST(TransferChildProcess, MissingProgramIsNotFound) {
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start({"zsend-no-such-program"}, ChildProcess::Pipe::kStdout, false);
  ASSERT_FALSE(child.ok());
  EXPECT_EQ(child.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace zsend
