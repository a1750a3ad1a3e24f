// zsend-engine send --ssh (push) and recv --ssh (pull) through a real sshd on 127.0.0.1 (the
// SshdServer fixture): the far side is `zsend-engine recv --stdio` or `send --stdio` started by
// sshd; the stream must arrive byte for byte, encrypted by default and with --cipher none
// (checksums and end marker kept), and a failure on either far end must come back.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/peers/sshd.h"
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
  // `role` --ssh ... BEFORE -- FAR: the near side of a push ("send") or a pull ("recv").
  Side Start(const std::string& role, std::vector<std::string> before_dashdash,
             std::vector<std::string> far_args) {
    std::vector<std::string> args = {role,
                                     "--ssh",
                                     sshd_->destination(),
                                     "--ssh-port",
                                     std::to_string(sshd_->port()),
                                     "--remote-engine",
                                     BinPath("zsend-engine"),
                                     "-q"};
    for (const std::string& o : sshd_->SshOptionValues()) {
      args.insert(args.end(), {"--ssh-option", o});
    }
    args.insert(args.end(), {"--ssh-option", "IdentityFile=" + sshd_->identity_file()});
    args.insert(args.end(), before_dashdash.begin(), before_dashdash.end());
    args.push_back("--");
    args.insert(args.end(), far_args.begin(), far_args.end());
    return dir_.Start(role, args);
  }
  Side Send(std::vector<std::string> before_dashdash, std::vector<std::string> recv_args) {
    before_dashdash.insert(before_dashdash.begin(), {"-i", input_});
    return Start("send", before_dashdash, recv_args);
  }
  Side Pull(std::vector<std::string> before_dashdash, std::vector<std::string> send_args) {
    return Start("recv", before_dashdash, send_args);
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

TEST_F(SshdTransfer, PullThroughSshArrivesByteExactWithTheFarSendersCodec) {
  // The far sender compresses (lz4) and dedups; the near receiver decodes and writes the file.
  const std::string repeats = dir_.Path("repeats.bin");
  const std::string piece = TransferDir::Read(input_);
  std::ofstream(repeats, std::ios::binary) << piece << piece;
  Side recv = Pull({"-o", output_, "--json-stats", dir_.Path("r.json")},
                   {"-q", "-i", repeats, "--codec", "lz4"});
  recv.Finish();
  ASSERT_EQ(recv.result.exit_code, 0) << recv.err;
  EXPECT_TRUE(TransferDir::Read(output_) == piece + piece);
  const std::string stats = TransferDir::Read(dir_.Path("r.json"));
  EXPECT_NE(stats.find("\"role\": \"recv\""), std::string::npos) << stats;
  // The repeat went as references: far fewer bytes crossed than the stream holds.
  const size_t at = stats.find("\"wire_bytes\": ");
  ASSERT_NE(at, std::string::npos) << stats;
  EXPECT_LT(std::atoll(stats.c_str() + at + 14), static_cast<long long>(piece.size() * 3 / 2));
}

TEST_F(SshdTransfer, PullCipherNoneArrivesByteExact) {
  Side recv = Pull({"--cipher", "none", "-o", output_}, {"-q", "-i", input_});
  recv.Finish();
  ASSERT_EQ(recv.result.exit_code, 0) << recv.err;
  EXPECT_TRUE(TransferDir::Read(output_) == TransferDir::Read(input_));
}

TEST_F(SshdTransfer, PullFarProducerFailureComesBackAndNothingIsWritten) {
  Side recv = Pull({"-o", output_}, {"-q", "--exec",
                                     "sh -c 'head -c 300000 /dev/zero; echo dataset is busy >&2; "
                                     "exit 1'"});
  recv.Finish();
  EXPECT_EQ(recv.result.exit_code, 12) << recv.err;
  EXPECT_NE(recv.err.find("dataset is busy"), std::string::npos) << recv.err;
  EXPECT_FALSE(std::filesystem::exists(output_));
  EXPECT_FALSE(std::filesystem::exists(output_ + ".partial"));
}

TEST_F(SshdTransfer, PullNearConsumerFailureStopsTheFarProducer) {
  Side recv = Pull({"--exec", "sh -c 'head -c 100 >/dev/null; echo target full >&2; exit 3'"},
                   {"-q", "-i", input_});
  recv.Finish();
  EXPECT_EQ(recv.result.exit_code, 11) << recv.err;
  EXPECT_NE(recv.err.find("target full"), std::string::npos) << recv.err;
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
