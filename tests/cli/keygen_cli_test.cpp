// zsend-engine keygen as a user runs it: files, modes, stdout, refusals and exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "engine/crypto/keys.h"
#include "tests/support/subprocess.h"

namespace zsend {
namespace {

using test::BinPath;
using test::RunResult;

class KeygenCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "zsend-keygen-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    key_ = (dir_ / "id").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  RunResult Keygen(std::vector<std::string> args) {
    args.insert(args.begin(), {BinPath("zsend-engine"), "keygen"});
    return test::Run(args);
  }
  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static unsigned ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::filesystem::path dir_;
  std::string key_;
};

TEST_F(KeygenCli, WritesKeyAndPubWithModesAndPrintsThePublicKey) {
  RunResult r = Keygen({"-o", key_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ModeOf(key_), 0600u);
  EXPECT_EQ(ModeOf(key_ + ".pub"), 0644u);
  EXPECT_EQ(ReadAll(key_ + ".pub"), r.out);
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  std::string line = r.out.substr(0, r.out.size() - 1);
  Result<noise::PublicKey> printed = ParsePublicKey(line);
  ASSERT_TRUE(printed.ok()) << printed.status().message();
  Result<noise::KeyPair> loaded = LoadPrivateKeyFile(key_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->public_key, *printed);  // the private key really belongs to it

  RunResult shown = Keygen({"-y", key_});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out, r.out);
}

TEST_F(KeygenCli, TwoRunsMakeDifferentKeys) {
  RunResult first = Keygen({"-o", key_});
  RunResult second = Keygen({"-o", key_ + "2"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(first.out, second.out);
}

TEST_F(KeygenCli, RefusesToOverwriteWithoutForce) {
  ASSERT_EQ(Keygen({"-o", key_}).exit_code, 0);
  const std::string private_before = ReadAll(key_), public_before = ReadAll(key_ + ".pub");
  RunResult again = Keygen({"-o", key_});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_TRUE(again.out.empty());
  EXPECT_EQ(ReadAll(key_), private_before);
  EXPECT_EQ(ReadAll(key_ + ".pub"), public_before);

  RunResult forced = Keygen({"-o", key_, "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(ReadAll(key_), private_before);
  EXPECT_EQ(ReadAll(key_ + ".pub"), forced.out);
  EXPECT_EQ(ModeOf(key_), 0600u);
}

TEST_F(KeygenCli, RefusesWhenOnlyThePubFileExists) {
  { std::ofstream(key_ + ".pub") << "something else\n"; }
  RunResult r = Keygen({"-o", key_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(key_ + ".pub"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(key_));
}

TEST_F(KeygenCli, GroupReadableKeyIsRefusedWhenLoaded) {
  ASSERT_EQ(Keygen({"-o", key_}).exit_code, 0);
  ASSERT_EQ(::chmod(key_.c_str(), 0640), 0);
  RunResult r = Keygen({"-y", key_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find(key_), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0640"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chmod 600 " + key_), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(KeygenCli, UsageErrorsExitTwo) {
  EXPECT_EQ(Keygen({}).exit_code, 2);
  EXPECT_EQ(Keygen({"-o", key_, "-y", key_}).exit_code, 2);
  RunResult missing = Keygen({"-y", key_ + "-missing"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find(key_ + "-missing"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace zsend
