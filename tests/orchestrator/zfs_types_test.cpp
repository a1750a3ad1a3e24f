// Parsing zfs -H output: rows, property sources, numbers exact and human, dataset names.
#include "orchestrator/zfs/zfs_types.h"

#include <gtest/gtest.h>

namespace zsend::orchestrator {
namespace {

TEST(ZfsTypes, TabRowsKeepEmptyFieldsAndSkipBlankLines) {
  auto rows = ParseTabRows("a\tb\t\n\nc\t-\td\r\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", ""}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"c", "-", "d"}));
}

TEST(ZfsTypes, PropertySources) {
  std::string from;
  EXPECT_EQ(ParsePropertySource("inherited from tank/a b", &from), PropertySource::kInherited);
  EXPECT_EQ(from, "tank/a b");
  EXPECT_EQ(ParsePropertySource("local", nullptr), PropertySource::kLocal);
  EXPECT_EQ(ParsePropertySource("default", nullptr), PropertySource::kDefault);
  EXPECT_EQ(ParsePropertySource("received", nullptr), PropertySource::kReceived);
  EXPECT_EQ(ParsePropertySource("-", nullptr), PropertySource::kNone);
}

TEST(ZfsTypes, NumbersExactAndHuman) {
  EXPECT_EQ(ParseZfsNumber("18446744073709551557"), 18446744073709551557ULL);
  EXPECT_EQ(ParseZfsNumber("676K"), 676u * 1024);
  EXPECT_EQ(ParseZfsNumber("1.5M"), 1572864u);
  EXPECT_NEAR(static_cast<double>(*ParseZfsNumber("3.07E")), 3.07 * 1152921504606846976.0, 1e16);
  EXPECT_EQ(ParseZfsNumber("512B"), 512u);
  EXPECT_FALSE(ParseZfsNumber("-").has_value());
  EXPECT_FALSE(ParseZfsNumber("none").has_value());
  EXPECT_FALSE(ParseZfsNumber("12KB").has_value());
}

TEST(ZfsTypes, DatasetNames) {
  EXPECT_EQ(ParentDataset("pool/a/b"), "pool/a");
  EXPECT_EQ(ParentDataset("pool"), "");
  EXPECT_TRUE(IsDescendant("pool/a/b", "pool/a"));
  EXPECT_TRUE(IsDescendant("pool/a/b", "pool"));
  EXPECT_FALSE(IsDescendant("pool/ab", "pool/a"));
  EXPECT_FALSE(IsDescendant("pool/a", "pool/a"));
  auto split = SplitSnapshotName("pool/fs@g-1");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->first, "pool/fs");
  EXPECT_EQ(split->second, "g-1");
  EXPECT_FALSE(SplitSnapshotName("pool/fs").ok());
  EXPECT_FALSE(SplitSnapshotName("pool/fs@").ok());
}

}  // namespace
}  // namespace zsend::orchestrator
