// Revision specs (-r): every form and every error of ResolveRevision.
#include "orchestrator/restore/revision_spec.h"

#include <gtest/gtest.h>

namespace zsend::orchestrator {
namespace {

std::vector<SnapshotInfo> Snapshots(const std::vector<std::string>& names) {
  std::vector<SnapshotInfo> out;
  uint64_t txg = 10;
  for (const std::string& name : names) out.push_back({"tank/fs", name, txg, txg++, 0});
  return out;
}

class RevisionSpec : public ::testing::Test {
 protected:
  std::vector<SnapshotInfo> snaps_ =
      Snapshots({"nightly-20261201000000", "weekly-20261202000000", "nightly-20261203000000",
                 "manual", "nightly-20261204000000"});
  size_t Resolve(const std::string& spec) {
    Result<size_t> index = ResolveRevision(spec, snaps_, "tank/fs");
    EXPECT_TRUE(index.ok()) << spec << ": " << index.status().ToString();
    return index.ok() ? *index : 999;
  }
  Status Error(const std::string& spec) {
    Result<size_t> index = ResolveRevision(spec, snaps_, "tank/fs");
    EXPECT_FALSE(index.ok()) << spec << " resolved to " << (index.ok() ? *index : 0);
    return index.status();
  }
};

TEST_F(RevisionSpec, FullNameShortOrWithDataset) {
  EXPECT_EQ(Resolve("weekly-20261202000000"), 1u);
  EXPECT_EQ(Resolve("manual"), 3u);
  EXPECT_EQ(Resolve("tank/fs@nightly-20261203000000"), 2u);
  EXPECT_EQ(Resolve("@manual"), 3u);
}

TEST_F(RevisionSpec, LatestAndRelativeCounts) {
  EXPECT_EQ(Resolve("latest"), 4u);
  EXPECT_EQ(Resolve("0"), 4u);
  EXPECT_EQ(Resolve("1"), 3u);
  EXPECT_EQ(Resolve("4"), 0u);
}

TEST_F(RevisionSpec, GroupNameIsTheNewestOfThatGroup) {
  EXPECT_EQ(Resolve("nightly"), 4u);
  EXPECT_EQ(Resolve("weekly"), 1u);
}

TEST_F(RevisionSpec, UniquePrefix) {
  EXPECT_EQ(Resolve("week"), 1u);
  EXPECT_EQ(Resolve("man"), 3u);
  EXPECT_EQ(Resolve("nightly-20261203"), 2u);
}

TEST_F(RevisionSpec, AmbiguousPrefixListsTheCandidates) {
  Status s = Error("nightly-202612");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("ambiguous"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("nightly-20261201000000, nightly-20261203000000, "
                             "nightly-20261204000000"),
            std::string::npos)
      << s.message();
}

TEST_F(RevisionSpec, CountBeyondTheOldestIsAnError) {
  Status s = Error("5");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("only 5 snapshot(s)"), std::string::npos) << s.message();
}

TEST_F(RevisionSpec, UnknownEmptyAndForeignSpecs) {
  EXPECT_EQ(Error("hourly").code(), StatusCode::kNotFound);
  EXPECT_NE(Error("hourly").message().find("no such snapshot on tank/fs"), std::string::npos);
  EXPECT_EQ(Error("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Error("tank/other@manual").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveRevision("latest", {}, "tank/fs").status().code(), StatusCode::kNotFound);
}

TEST_F(RevisionSpec, ExactNameWinsOverCountAndGroup) {
  snaps_ = Snapshots({"1", "nightly", "nightly-20261201000000", "2"});
  EXPECT_EQ(Resolve("1"), 0u);        // the snapshot called "1", not the one before the newest
  EXPECT_EQ(Resolve("nightly"), 1u);  // the snapshot called "nightly"
  EXPECT_EQ(Resolve("0"), 3u);
}

}  // namespace
}  // namespace zsend::orchestrator
