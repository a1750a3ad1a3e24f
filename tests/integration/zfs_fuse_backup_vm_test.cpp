// `zsend backup --vm UUID` with a stand-in `vmadm` on PATH that prints SmartOS-format
// `vmadm get` JSON for datasets on a zfs-fuse pool really named `zones` (SmartOS's pool name).
// Only one test at a time may own a pool called zones: a lock file serialises them, and the
// pool is destroyed afterwards, pass or fail.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/backup_fixture.h"

namespace zsend::test {
namespace {

constexpr char kUuid[] = "70a4f69b-b45b-420c-8d32-51ed45c1638a";

class ZfsFuseBackupVm : public BackupFixture {
 protected:
  void SetUp() override {
    BackupFixture::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    lock_fd_ = open("/tmp/zsend-test-zones-pool.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    ASSERT_GE(lock_fd_, 0);
    ASSERT_EQ(flock(lock_fd_, LOCK_EX), 0);
    ASSERT_NE(Shell("zpool list -H -o name zones").exit_code, 0)
        << "a pool named zones exists already; this test needs that name for itself";
    std::string error;
    zones_ = ZfsPool::CreateNamed("zones", 96, &error);
    ASSERT_NE(zones_, nullptr) << error;
    dir_ = zones_->dir();
  }
  void TearDown() override {
    zones_.reset();  // destroys the pool (retrying a busy mount) before the lock is released
    if (lock_fd_ >= 0) close(lock_fd_);
    BackupFixture::TearDown();
  }
  std::unique_ptr<ZfsPool> zones_;
  std::string dir_;
  int lock_fd_ = -1;
};

TEST_F(ZfsFuseBackupVm, BacksUpTheVmsDatasetsAndHonoursSmartcopyExclude) {
  const std::string vm = std::string("zones/") + kUuid;
  Sh("zfs create " + vm);
  // zfs-fuse has no volumes ("Function not implemented"): the disks are filesystems here.
  Sh("zfs create " + vm + "-disk0");
  Sh("zfs create " + vm + "-disk1");
  Sh("zfs create zones/unrelated");
  std::ofstream(dir_ + "/mnt/" + kUuid + "-disk0/disk.img") << std::string(100000, 'd');
  std::ofstream(dir_ + "/mnt/" + kUuid + "/config") << "vm config\n";
  std::ofstream(dir_ + "/vm.json")
      << "{\n  \"uuid\": \"" << kUuid << "\",\n  \"brand\": \"kvm\",\n  \"zfs_filesystem\": \""
      << vm << "\",\n  \"zonepath\": \"/" << vm << "\",\n  \"disks\": [\n    {\"path\": "
      << "\"/dev/zvol/rdsk/" << vm << "-disk0\", \"boot\": true, \"zfs_filesystem\": \"" << vm
      << "-disk0\", \"size\": 8},\n    {\"path\": \"/dev/zvol/rdsk/" << vm
      << "-disk1\", \"zfs_filesystem\": \"" << vm << "-disk1\", \"size\": 8}\n  ],\n"
      << "  \"internal_metadata\": {\"smartcopy_exclude\": \"" << vm << "-disk1\"}\n}\n";
  std::filesystem::create_directories(dir_ + "/bin");
  std::ofstream(dir_ + "/bin/vmadm") << "#!/bin/sh\n[ \"$1\" = get ] && [ \"$2\" = " << kUuid
                                     << " ] && exec cat " << dir_ << "/vm.json\n"
                                     << "echo \"vmadm: no such VM $2\" >&2; exit 1\n";
  std::filesystem::permissions(dir_ + "/bin/vmadm", std::filesystem::perms::owner_all);
  SpawnOptions options;
  options.env["PATH"] = dir_ + "/bin:" + std::string(getenv("PATH"));
  RunResult r = Zsend({"vms", dst_, "--vm", kUuid, "--transport", "pipe"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Property(dst_ + "/" + vm, "type"), "filesystem") << r.out;
  EXPECT_EQ(SnapshotNames(dst_ + "/" + vm + "-disk0").size(), 1u) << r.out;
  EXPECT_EQ(Property(dst_ + "/" + vm + "-disk1", "type"), "");  // excluded
  EXPECT_EQ(Property(dst_ + "/zones/unrelated", "type"), "");   // not the VM's
  EXPECT_EQ(CompareTrees(dir_ + "/mnt/" + kUuid, target_->Mountpoint(dst_ + "/" + vm)), "");
  RunResult unknown = Zsend({"vms", dst_, "--vm", "no-such-uuid"}, options);
  EXPECT_EQ(unknown.exit_code, 255);
}

}  // namespace
}  // namespace zsend::test
