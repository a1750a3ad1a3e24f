// The grammar a serving engine holds the far commands of a session to (far_command.h), and the
// open frame's word encoding.
#include "engine/transfer/far_command.h"

#include <gtest/gtest.h>

namespace zsend {
namespace {

const std::vector<std::string> kRoots = {"pool/backup"};

std::string Refusal(const std::vector<std::string>& words, FarRole role) {
  Result<std::vector<std::string>> checked = CheckFarCommand(words, role, kRoots);
  if (checked.ok()) return "accepted";
  EXPECT_EQ(checked.status().code(), StatusCode::kPermissionDenied);
  return checked.status().message();
}

TEST(FarCommand, AcceptsTheCommandsZsendSends) {
  for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{
           {"zfs", "receive", "-F", "-u", "-s", "-o", "canmount=noauto", "-x", "mountpoint",
            "pool/backup/a/b"},
           {"zfs", "recv", "pool/backup"},
           {"zfs", "receive", "-Fus", "-o", "origin=pool/backup/x@s1", "pool/backup/c"},
           {"zfs", "receive", "-o", "user:note=two words", "pool/backup/with space"}}) {
    Result<std::vector<std::string>> checked = CheckFarCommand(words, FarRole::kReceive, kRoots);
    ASSERT_TRUE(checked.ok()) << checked.status().message();
    EXPECT_EQ(*checked, words);
  }
  for (const std::vector<std::string>& words : std::vector<std::vector<std::string>>{
           {"zfs", "send", "-L", "-c", "-e", "-I", "@a", "pool/backup/x@b"},
           {"zfs", "send", "-w", "-i", "pool/backup/x#zsend5_x_s", "pool/backup/x@b"},
           {"zfs", "send", "-LceP", "pool/backup@s"}}) {
    EXPECT_EQ(Refusal(words, FarRole::kSend), "accepted");
  }
}

TEST(FarCommand, RefusesEverythingElseNamingTheWord) {
  struct Case {
    std::vector<std::string> words;
    FarRole role;
    std::string named;
  };
  const FarRole r = FarRole::kReceive, s = FarRole::kSend;
  for (const Case& c : std::vector<Case>{
           {{"sh", "-c", "id"}, r, "'sh'"},
           {{"/sbin/zfs", "receive", "pool/backup/a"}, r, "'/sbin/zfs'"},
           {{"zfs", "destroy", "pool/backup/a"}, r, "'zfs destroy'"},
           {{"zfs", "send", "pool/backup/a@s"}, r, "'zfs send'"},
           {{"zfs", "receive", "pool/backup/a"}, s, "'zfs receive'"},
           {{"zfs", "receive", "tank/other"}, r, "'tank/other'"},
           {{"zfs", "receive", "pool/backupx/a"}, r, "'pool/backupx/a'"},
           {{"zfs", "receive", "-d", "pool/backup/a"}, r, "'-d'"},
           {{"zfs", "receive", "-o", "mountpoint=/etc", "pool/backup/a"}, r, "'mountpoint'"},
           {{"zfs", "receive", "-o", "setuid=on", "pool/backup/a"}, r, "'setuid'"},
           {{"zfs", "receive", "-o", "canmount=on", "pool/backup/a"}, r, "'on'"},
           {{"zfs", "receive", "-Fd", "pool/backup/a"}, r, "'-Fd'"},
           {{"zfs", "receive", "-o", "origin=tank/x@s", "pool/backup/a"}, r, "'tank/x@s'"},
           {{"zfs", "receive", "-o", "noequals", "pool/backup/a"}, r, "'-o noequals'"},
           {{"zfs", "receive", "-Fpool/backup"}, r, "'-Fpool/backup'"},
           {{"zfs", "receive", "pool/backup/a", "pool/backup/b"}, r, "'pool/backup/a'"},
           {{"zfs", "receive"}, r, "no operand"},
           {{"zfs", "receive", "pool//backup"}, r, "'pool//backup'"},
           {{"zfs", "receive", "pool/backup/"}, r, "'pool/backup/'"},
           {{"zfs", "receive", "pool/backup/a;b"}, r, "'pool/backup/a;b'"},
           {{"zfs", "receive", "pool/backup/.."}, r, "'pool/backup/..'"},
           {{"zfs", "receive", "-o", std::string("a=b\0c", 5), "pool/backup/a"}, r, "NUL"},
           {{"zfs", "receive", "pool/backup/a\nb"}, r, "'pool/backup/a\\x0ab'"},
           {{"zfs", "receive", "pool/backup/" + std::string(250, 'a')}, r, "not a dataset"},
           {{"zfs", "send", "-t", "1-abc", "pool/backup/a@s"}, s, "resume tokens"},
           {{"zfs", "send", "-Lt", "1-abc", "pool/backup/a@s"}, s, "resume tokens"},
           {{"zfs", "send", "-I", "@a"}, s, "'-I'"},
           {{"zfs", "send", "-D", "pool/backup/a@s"}, s, "'-D'"},
           {{"zfs", "send", "-i", "tank/a@s", "pool/backup/a@t"}, s, "'tank/a@s'"},
           {{"zfs", "send", "pool/backup/a"}, s, "'pool/backup/a'"},
           {{"zfs", "send", "tank/a@s"}, s, "'tank/a@s'"},
       }) {
    const std::string message = Refusal(c.words, c.role);
    EXPECT_EQ(message.rfind("refused: ", 0), 0u) << message;
    EXPECT_NE(message.find(c.named), std::string::npos)
        << "'" << message << "' does not name " << c.named;
  }
  EXPECT_EQ(Refusal({"zfs", "receive", "tank/other"}, r),
            "refused: 'zfs receive' target 'tank/other' is not below the served root "
            "'pool/backup'");
  Result<std::vector<std::string>> none =
      CheckFarCommand({"zfs", "receive", "pool/backup/a"}, FarRole::kReceive, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no root"), std::string::npos);
}

TEST(FarCommand, SeveralRootsAndInvalidRoots) {
  const std::vector<std::string> roots = {"pool/a", "pool/b"};
  EXPECT_TRUE(CheckFarCommand({"zfs", "recv", "pool/b/x"}, FarRole::kReceive, roots).ok());
  Result<std::vector<std::string>> other =
      CheckFarCommand({"zfs", "recv", "pool/c"}, FarRole::kReceive, roots);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("any served root ('pool/a', 'pool/b')"),
            std::string::npos)
      << other.status().message();
  EXPECT_FALSE(CheckFarCommand({"zfs", "recv", "pool/b"}, FarRole::kReceive, {"pool/b/"}).ok());
}

TEST(FarCommand, RootsAreDatasetNames) {
  EXPECT_TRUE(IsValidDatasetName("pool"));
  EXPECT_TRUE(IsValidDatasetName("pool/backup/host 1"));
  EXPECT_FALSE(IsValidDatasetName("pool/backup@s"));
  EXPECT_FALSE(IsValidDatasetName("-pool"));
  EXPECT_FALSE(IsValidDatasetName("pool/"));
  EXPECT_FALSE(IsValidDatasetName(""));
}

TEST(FarCommandWords, RoundTripAndMalformedPayloads) {
  const std::vector<std::string> words = {"zfs", "receive", "", "with space", "pool/backup/a"};
  Result<std::vector<std::string>> back = DecodeCommandWords(EncodeCommandWords(words));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, words);

  const std::string good = EncodeCommandWords(words);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeCommandWords(good.substr(0, cut)).ok()) << "cut at " << cut;
  }
  EXPECT_FALSE(DecodeCommandWords(good + "x").ok());
  EXPECT_FALSE(DecodeCommandWords(EncodeCommandWords({})).ok());
  EXPECT_FALSE(DecodeCommandWords(EncodeCommandWords(std::vector<std::string>(65, "w"))).ok());
  EXPECT_FALSE(DecodeCommandWords(EncodeCommandWords({std::string(4097, 'w')})).ok());
  EXPECT_FALSE(DecodeCommandWords(EncodeCommandWords({std::string("a\0b", 3)})).ok());
  EXPECT_TRUE(DecodeCommandWords(EncodeCommandWords({std::string(4096, 'w')})).ok());
}

}  // namespace
}  // namespace zsend
