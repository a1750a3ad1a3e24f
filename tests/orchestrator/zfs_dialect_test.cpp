// ZfsDialect: reading the usage text, and the send/recv argv for each dialect.
#include "orchestrator/zfs/zfs_dialect.h"

#include <gtest/gtest.h>

#include "tests/support/fake_zfs_usage.h"
#include "tests/support/zfs_golden.h"

namespace zsend::orchestrator {
namespace {

using Argv = std::vector<std::string>;

TEST(ZfsDialect, OpenZfsUsageHasEveryModernFeature) {
  Result<ZfsDialect> d = DialectFromUsage(test::RecordedOpenZfsUsage());
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->family, "openzfs");
  EXPECT_TRUE(d->list_parsable);
  EXPECT_TRUE(d->get_types);
  EXPECT_TRUE(d->snapshot_multiple);
  EXPECT_TRUE(d->destroy_batched);
  EXPECT_TRUE(d->holds_list);
  EXPECT_TRUE(d->bookmarks);
  EXPECT_TRUE(d->recv_unmounted);
  EXPECT_TRUE(d->recv_resumable);
  EXPECT_TRUE(d->recv_set_properties);
  EXPECT_TRUE(d->recv_exclude_properties);
  EXPECT_TRUE(d->send_raw);
  EXPECT_TRUE(d->send_compressed);
  EXPECT_TRUE(d->send_large_blocks);
  EXPECT_TRUE(d->send_embedded);
  EXPECT_TRUE(d->send_parsable);
}

TEST(ZfsDialect, LegacyUsageHasNone) {
  Result<ZfsDialect> d = DialectFromUsage(test::kLegacyUsage);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->family, "legacy");
  EXPECT_FALSE(d->list_parsable || d->get_types || d->snapshot_multiple || d->destroy_batched ||
               d->holds_list || d->bookmarks || d->recv_unmounted || d->recv_resumable ||
               d->recv_set_properties || d->recv_exclude_properties || d->send_raw ||
               d->send_compressed || d->send_large_blocks || d->send_embedded || d->send_parsable);
}

TEST(ZfsDialect, UsageFlagsIncludeBracketedAndAlternativeForms) {
  auto flags = ParseUsageFlags(test::kLegacyUsage);
  EXPECT_EQ(flags["send"], (std::set<char>{'R', 'D', 'p', 'i', 'I'}));  // "[-[iI] snapshot]"
  EXPECT_EQ(flags["receive"], (std::set<char>{'v', 'n', 'F', 'd'}));
  auto modern = ParseUsageFlags(test::RecordedOpenZfsUsage());
  EXPECT_TRUE(modern["receive"].count('A'));  // "receive -A <filesystem|volume>"
  EXPECT_TRUE(modern["receive"].count('e'));  // "[-d | -e]"
  EXPECT_TRUE(modern["list"].count('S'));     // continuation line
  EXPECT_FALSE(modern["send"].count('r'));    // "--redact" is a long option
}

TEST(ZfsDialect, AliasesInUsageCountForBothNames) {
  Result<ZfsDialect> d = DialectFromUsage(
      "\tsnapshot|snap [-r] [-o property=value] ... <filesystem|volume>@<snap> ...\n"
      "\tlist [-Hp] [-r|-d max]\n\tsend [-c] <snapshot>\n"
      "\treceive|recv [-FnsuvA] <filesystem>\n\tsend [-v] -t <token>\n");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->snapshot_multiple);
  EXPECT_TRUE(d->recv_unmounted);
  EXPECT_TRUE(d->recv_resumable);
  EXPECT_FALSE(d->recv_set_properties);
}

TEST(ZfsDialect, NotZfsIsAnError) {
  EXPECT_FALSE(DialectFromUsage("bash: zfs: command not found\n").ok());
}

TEST(ZfsDialect, ModernSendCommandLines) {
  ZfsDialect d = ZfsDialect::OpenZfs();
  SendSpec full;
  full.snapshot = "tank/fs@g-1";
  EXPECT_EQ(*BuildSendArgv(d, full), (Argv{"zfs", "send", "-p", "-L", "-e", "-c", "tank/fs@g-1"}));
  SendSpec incremental = full;
  incremental.snapshot = "tank/fs@g-3";
  incremental.from = "tank/fs@g-1";
  incremental.intermediates = true;
  incremental.parsable_progress = true;
  EXPECT_EQ(*BuildSendArgv(d, incremental), (Argv{"zfs", "send", "-p", "-L", "-e", "-c", "-P", "-I",
                                                  "tank/fs@g-1", "tank/fs@g-3"}));
  SendSpec clone;
  clone.snapshot = "tank/clone@g-1";
  clone.from = "tank/base@img";
  EXPECT_EQ(*BuildSendArgv(d, clone),
            (Argv{"zfs", "send", "-p", "-L", "-e", "-c", "-i", "tank/base@img", "tank/clone@g-1"}));
  SendSpec raw = full;
  raw.raw = true;
  EXPECT_EQ(*BuildSendArgv(d, raw), (Argv{"zfs", "send", "-w", "-p", "-L", "-e", "tank/fs@g-1"}));
  SendSpec resume;
  resume.resume_token = "1-abc-def";
  EXPECT_EQ(*BuildSendArgv(d, resume), (Argv{"zfs", "send", "-t", "1-abc-def"}));
}

TEST(ZfsDialect, LegacySendCommandLines) {
  ZfsDialect d = ZfsDialect::Legacy();
  SendSpec incremental;
  incremental.snapshot = "pool/fs@g-3";
  incremental.from = "pool/fs@g-1";
  incremental.intermediates = true;
  incremental.parsable_progress = true;
  EXPECT_EQ(*BuildSendArgv(d, incremental),
            (Argv{"zfs", "send", "-p", "-I", "pool/fs@g-1", "pool/fs@g-3"}));
  SendSpec raw = incremental;
  raw.raw = true;
  EXPECT_EQ(BuildSendArgv(d, raw).status().code(), StatusCode::kFailedPrecondition);
  SendSpec resume;
  resume.resume_token = "1-abc";
  EXPECT_EQ(BuildSendArgv(d, resume).status().code(), StatusCode::kFailedPrecondition);
  SendSpec not_a_snapshot;
  not_a_snapshot.snapshot = "pool/fs";
  EXPECT_EQ(BuildSendArgv(d, not_a_snapshot).status().code(), StatusCode::kInvalidArgument);
}

TEST(ZfsDialect, ModernReceivePutsPropertiesOnTheCommandLine) {
  RecvSpec spec;
  spec.target = "backup/tank/fs";
  spec.set_properties = {{"compression", "zstd"}};
  spec.filter_properties = {"xattr", "acltype"};
  spec.clear_mountpoint = true;
  spec.readonly = true;
  RecvCommand command = BuildRecvCommand(ZfsDialect::OpenZfs(), spec);
  EXPECT_EQ(command.argv,
            (Argv{"zfs", "receive", "-u", "-s", "-o", "compression=zstd", "-o", "canmount=noauto",
                  "-o", "readonly=on", "-x", "xattr", "-x", "acltype", "backup/tank/fs"}));
  EXPECT_TRUE(command.set_after.empty());
  EXPECT_TRUE(command.inherit_after.empty());
}

TEST(ZfsDialect, LegacyReceiveSetsPropertiesAfterwards) {
  RecvSpec spec;
  spec.target = "backup/fs";
  spec.force = true;
  spec.filter_properties = {"xattr"};
  spec.clear_refreservation = true;
  RecvCommand command = BuildRecvCommand(ZfsDialect::Legacy(), spec);
  EXPECT_EQ(command.argv, (Argv{"zfs", "receive", "-F", "backup/fs"}));
  EXPECT_EQ(command.set_after,
            (std::vector<std::pair<std::string, std::string>>{{"refreservation", "none"}}));
  EXPECT_EQ(command.inherit_after, (Argv{"xattr"}));
}

TEST(ZfsDialect, ForceOnlyWhenAsked) {
  RecvSpec spec;
  spec.target = "b/fs";
  for (const ZfsDialect& d : {ZfsDialect::OpenZfs(), ZfsDialect::Legacy()}) {
    Argv argv = BuildRecvCommand(d, spec).argv;
    EXPECT_EQ(std::find(argv.begin(), argv.end(), "-F"), argv.end()) << d.family;
  }
}

// `zfs send -nP` on OpenZFS: a "full" or "incremental" line, then "size\t<bytes>".
TEST(ZfsDialect, ParsesTheSizeOfASendDryRun) {
  EXPECT_EQ(ParseSendEstimate("full\ttank/fs@a\t3145728\nsize\t3145728\n"), 3145728u);
  EXPECT_EQ(ParseSendEstimate("incremental\ta\ttank/fs@b\t8192\nsize\t8192\n"), 8192u);
  EXPECT_EQ(ParseSendEstimate(""), 0u);
  EXPECT_EQ(ParseSendEstimate("size\t99999999999999999999999\n"), 0u);  // not a size
  EXPECT_EQ(ParseSendEstimate("size\t-5\nsize\t\n"), 0u);
}

}  // namespace
}  // namespace zsend::orchestrator
