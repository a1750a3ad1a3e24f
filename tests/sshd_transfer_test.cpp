// zsend-engine send --ssh through a real sshd on 127.0.0.1 (the SshdServer fixture): the far
// side is `zsend-engine recv --stdio` started by sshd; the stream must arrive byte for byte,
// encrypted by default and with --cipher none (checksums and end marker kept).
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/sshd.h"
#include "tests/support/subprocess.h"
#include "tests/support/transfer_fixture.h"

namespace zsend::test {
namespace {

class SshdTransfer : public ::testing::Test {
 protected:
  void SetUp() override {
    ZSEND_REQUIRE(HaveProgram("sshd") || std::filesystem::exists("/usr/sbin/sshd"),
                  "OpenSSH server (sshd)");
    sshd_ = std::make_unique<SshdServer>();
    ASSERT_TRUE(sshd_->ok()) << sshd_->error();
    input_ = dir_.MakeFile("in.bin", 3 * 1024 * 1024 + 5);
    output_ = dir_.Path("out.bin");
  }
  Side Send(std::vector<std::string> before_dashdash, std::vector<std::string> recv_args) {
    std::vector<std::string> args = {"send",
                                     "--ssh",
                                     sshd_->destination(),
                                     "--ssh-port",
                                     std::to_string(sshd_->port()),
                                     "--remote-engine",
                                     BinPath("zsend-engine"),
                                     "-q",
                                     "-i",
                                     input_};
    for (const std::string& o : sshd_->SshOptionValues()) {
      args.insert(args.end(), {"--ssh-option", o});
    }
    args.insert(args.end(), {"--ssh-option", "IdentityFile=" + sshd_->identity_file()});
    args.insert(args.end(), before_dashdash.begin(), before_dashdash.end());
    args.push_back("--");
    args.insert(args.end(), recv_args.begin(), recv_args.end());
    return dir_.Start("send", args);
  }

  TransferDir dir_;
  std::unique_ptr<SshdServer> sshd_;
  std::string input_, output_;
};

TEST_F(SshdTransfer, EncryptedFramesThroughSshArriveByteExact) {
  Side send = Send({"--json-stats", dir_.Path("s.json")}, {"-q", "-o", output_});
  send.Finish();
  ASSERT_EQ(send.result.exit_code, 0) << send.err;
  EXPECT_TRUE(TransferDir::Read(output_) == TransferDir::Read(input_));
  EXPECT_EQ(TransferDir::Read(dir_.Path("s.json")).find("\"cipher\": \"none\""), std::string::npos);
}

TEST_F(SshdTransfer, CipherNoneThroughSshArrivesByteExact) {
  Side send = Send({"--cipher", "none", "--codec", "lz4"}, {"-q", "-o", output_});
  send.Finish();
  ASSERT_EQ(send.result.exit_code, 0) << send.err;
  EXPECT_TRUE(TransferDir::Read(output_) == TransferDir::Read(input_));
}

TEST_F(SshdTransfer, RemoteConsumerFailureComesBackThroughSsh) {
  Side send = Send({}, {"--exec", "sh -c 'head -c 100 >/dev/null; echo pool is full >&2; exit 1'"});
  send.Finish();
  EXPECT_EQ(send.result.exit_code, 11) << send.err;
  EXPECT_NE(send.err.find("pool is full"), std::string::npos) << send.err;
}

TEST_F(SshdTransfer, UnauthorizedSshKeyFailsCleanly) {
  std::vector<std::string> args = {"send",
                                   "--ssh",
                                   sshd_->destination(),
                                   "--ssh-port",
                                   std::to_string(sshd_->port()),
                                   "--remote-engine",
                                   BinPath("zsend-engine"),
                                   "-q",
                                   "-i",
                                   input_};
  for (const std::string& o : sshd_->SshOptionValues())
    args.insert(args.end(), {"--ssh-option", o});
  args.insert(args.end(), {"--ssh-option", "IdentityFile=" + sshd_->MakeUnauthorizedKey("stranger"),
                           "--", "-o", output_});
  Side send = dir_.Start("send", args);
  send.Finish();
  EXPECT_EQ(send.result.exit_code, 5) << send.err;
  EXPECT_NE(send.err.find("ssh failed"), std::string::npos) << send.err;
  EXPECT_FALSE(std::filesystem::exists(output_));
}

}  // namespace
}  // namespace zsend::test
