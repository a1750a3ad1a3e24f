// zsend-engine send --exec 'zfs send ...' over loopback into recv --exec 'zfs recv ...' on real
// zfs-fuse pools: files compared byte for byte; a missing snapshot fails both sides with zfs's
// own message; a failing zfs recv fails the sender with its stderr.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/transfer_fixture.h"
#include "tests/support/zfs_pool.h"

namespace zsend::test {
namespace {

class ZfsFuseTransfer : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string problem = ZfsFuseProblem();
    ZSEND_REQUIRE(problem.empty(), problem);
    std::string error;
    source_pool_ = ZfsPool::Create("zsend_wttransfer_src", 128, &error);
    ASSERT_NE(source_pool_, nullptr) << error;
    target_pool_ = ZfsPool::Create("zsend_wttransfer_dst", 128, &error);
    ASSERT_NE(target_pool_, nullptr) << error;
    source_ = source_pool_->CreateDataset("data", &error);
    ASSERT_FALSE(source_.empty()) << error;
    target_ = target_pool_->name() + "/data";
    source_dir_ = source_pool_->Mountpoint(source_);
    ASSERT_FALSE(source_dir_.empty());
    ASSERT_TRUE(CopyTree("/etc", source_dir_, &error)) << error;
    ASSERT_TRUE(source_pool_->Snapshot(source_, "one", &error)) << error;
    sender_pub_ = dir_.Keygen("sender");
    receiver_pub_ = dir_.Keygen("receiver");
  }

  // recv listens (--exec RECV), send connects (--exec SEND); both finished on return.
  void Transfer(const std::string& send_cmd, const std::string& recv_cmd, Side* send, Side* recv) {
    int port = 0;
    *recv = dir_.StartListener("recv",
                               {"recv", "--once", "--key", dir_.Path("receiver"), "--authorize",
                                sender_pub_, "-q", "-m", "32M", "--exec", recv_cmd},
                               &port);
    ASSERT_GT(port, 0) << TransferDir::Read(recv->err_path);
    *send = dir_.Start("send", {"send", "--connect", "127.0.0.1:" + std::to_string(port), "--peer",
                                receiver_pub_, "--key", dir_.Path("sender"), "-q", "-m", "32M",
                                "-s", "256K", "--exec", send_cmd});
    send->Finish();
    recv->Finish();
  }

  TransferDir dir_;
  std::unique_ptr<ZfsPool> source_pool_, target_pool_;
  std::string source_, target_, source_dir_, sender_pub_, receiver_pub_;
};

TEST_F(ZfsFuseTransfer, FullStreamArrivesWithIdenticalFiles) {
  Side send, recv;
  ASSERT_NO_FATAL_FAILURE(
      Transfer("zfs send " + source_ + "@one", "zfs recv " + target_, &send, &recv));
  EXPECT_EQ(send.result.exit_code, 0) << send.err;
  EXPECT_EQ(recv.result.exit_code, 0) << recv.err;
  const std::string target_dir = target_pool_->Mountpoint(target_);
  ASSERT_FALSE(target_dir.empty()) << target_ << " was not received";
  EXPECT_EQ(CompareTrees(source_dir_, target_dir), "");
  EXPECT_EQ(target_pool_->Snapshots(target_), std::vector<std::string>{target_ + "@one"});
}

TEST_F(ZfsFuseTransfer, MissingSnapshotFailsBothSidesWithZfsMessage) {
  Side send, recv;
  ASSERT_NO_FATAL_FAILURE(
      Transfer("zfs send " + source_ + "@missing", "zfs recv " + target_, &send, &recv));
  EXPECT_EQ(send.result.exit_code, 12) << send.err;
  EXPECT_EQ(recv.result.exit_code, 12) << recv.err;
  EXPECT_NE(send.err.find("missing"), std::string::npos) << send.err;
  EXPECT_NE(recv.err.find("producer"), std::string::npos) << recv.err;
  EXPECT_TRUE(target_pool_->Snapshots(target_).empty());
}

TEST_F(ZfsFuseTransfer, FailingZfsRecvFailsTheSenderWithItsStderr) {
  Side send, recv;
  // The target's parent does not exist: zfs recv refuses.
  ASSERT_NO_FATAL_FAILURE(Transfer("zfs send " + source_ + "@one",
                                   "zfs recv " + target_pool_->name() + "/no/such/parent", &send,
                                   &recv));
  EXPECT_EQ(send.result.exit_code, 11) << send.err;
  EXPECT_EQ(recv.result.exit_code, 11) << recv.err;
  EXPECT_NE(send.err.find("dataset does not exist"), std::string::npos) << send.err;
}

}  // namespace
}  // namespace zsend::test
