// Selection by the zsend:NAME property (zfs_autobackup's rules), --vm, --dataset and
// target names with --strip-path.
#include "orchestrator/plan/selection.h"

#include <gtest/gtest.h>

#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;
using Names = std::vector<std::string>;

class PropertySelection : public ::testing::TestWithParam<FakeZfsRunner::Flavor> {
 protected:
  void SetUp() override {
    for (const char* name :
         {"zones", "zones/vm1", "zones/vm1/data", "zones/backup", "zones/backup/fs1",
          "zones/parentonly", "zones/parentonly/kid", "zones/kids", "zones/kids/a",
          "zones/kids/a/deep", "zones/kids/b", "zones/other"}) {
      fake_.AddDataset(name);
    }
    // The README's example: true on the pool, false on zones/backup.
    fake_.SetLocalProperty("zones", "zsend:job", "true");
    fake_.SetLocalProperty("zones/backup", "zsend:job", "false");
    fake_.SetLocalProperty("zones/parentonly", "zsend:job", "parent");
    fake_.SetLocalProperty("zones/kids", "zsend:job", "child");
    fake_.SetLocalProperty("zones/kids/b", "zsend:job", "false");
    fake_.SetLocalProperty("zones/other", "zsend:otherjob", "true");
    fake_.AddSnapshot("zones/vm1", "snap");  // snapshots are never selected
    ASSERT_TRUE(zfs_.Probe().ok());
  }
  FakeZfsRunner fake_{GetParam()};
  Zfs zfs_{fake_};
};

TEST_P(PropertySelection, TrueChildParentFalseWithInheritance) {
  Result<std::vector<SelectionDecision>> decisions = SelectByProperty(zfs_, "job");
  ASSERT_TRUE(decisions.ok()) << decisions.status().ToString();
  EXPECT_EQ(SelectedNames(*decisions),
            (Names{"zones", "zones/kids/a", "zones/kids/a/deep", "zones/other", "zones/parentonly",
                   "zones/vm1", "zones/vm1/data"}));
  std::map<std::string, std::string> reasons;
  for (const SelectionDecision& d : *decisions) reasons[d.dataset] = d.reason;
  EXPECT_EQ(reasons["zones"], "direct selection");
  EXPECT_EQ(reasons["zones/vm1/data"], "inherited selection");
  EXPECT_EQ(reasons["zones/backup"], "disabled");
  EXPECT_EQ(reasons["zones/backup/fs1"], "disabled");  // inherits false
  EXPECT_EQ(reasons["zones/parentonly/kid"], "only the parent");
  EXPECT_EQ(reasons["zones/kids"], "only children");
  EXPECT_EQ(reasons["zones/kids/b"], "disabled");
  // Which selected datasets only inherit their value (a `send -p` stream leaves it out).
  Names inherited;
  for (const SelectionDecision& d : *decisions) {
    if (d.selected && d.inherited) inherited.push_back(d.dataset);
  }
  EXPECT_EQ(inherited, (Names{"zones/kids/a", "zones/kids/a/deep", "zones/other", "zones/vm1",
                              "zones/vm1/data"}));
}

TEST_P(PropertySelection, OtherBackupNamesAreIndependent) {
  Result<std::vector<SelectionDecision>> decisions = SelectByProperty(zfs_, "otherjob");
  ASSERT_TRUE(decisions.ok());
  EXPECT_EQ(SelectedNames(*decisions), (Names{"zones/other"}));
}

TEST_P(PropertySelection, IllegalValueNamesTheDataset) {
  fake_.SetLocalProperty("zones/vm1", "zsend:job", "yes");
  Result<std::vector<SelectionDecision>> decisions = SelectByProperty(zfs_, "job");
  ASSERT_FALSE(decisions.ok());
  EXPECT_EQ(decisions.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decisions.status().message().find("zones/vm1"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Dialects, PropertySelection,
                         ::testing::Values(FakeZfsRunner::Flavor::kOpenZfs,
                                           FakeZfsRunner::Flavor::kLegacy),
                         [](const auto& param_info) {
                           return param_info.param == FakeZfsRunner::Flavor::kOpenZfs ? "OpenZfs"
                                                                                      : "Legacy";
                         });

TEST(Selection, ReceivedValueCountsAsSetHereWithIncludeReceived) {
  std::vector<PropertyValue> values = {{"b/x", "child", PropertySource::kReceived, ""},
                                       {"b/x/y", "child", PropertySource::kInherited, "b/x"}};
  Result<std::vector<SelectionDecision>> decisions =
      DecideSelection("zsend:j", values, /*include_received=*/true);
  ASSERT_TRUE(decisions.ok());
  EXPECT_EQ(SelectedNames(*decisions), (Names{"b/x/y"}));
}

// Another tool replicated the selected tree into a second pool with `zfs send -p`: the copies'
// zsend:job arrived by receive (source "received", their children inherit it from there).
// They are not sources: left out by default, selected with --include-received.
TEST_P(PropertySelection, ReceivedCopiesAreLeftOutUnlessIncluded) {
  for (const char* name : {"copy", "copy/zones", "copy/zones/vm1", "copy/zones/mine"}) {
    fake_.AddDataset(name);
  }
  fake_.SetReceivedProperty("copy/zones", "zsend:otherjob", "true");
  // A local value on a received copy is the user's own choice: selected.
  fake_.SetLocalProperty("copy/zones/mine", "zsend:otherjob", "true");
  Result<std::vector<SelectionDecision>> decisions = SelectByProperty(zfs_, "otherjob");
  ASSERT_TRUE(decisions.ok()) << decisions.status().ToString();
  EXPECT_EQ(SelectedNames(*decisions), (Names{"copy/zones/mine", "zones/other"}));
  std::map<std::string, std::string> reasons;
  for (const SelectionDecision& d : *decisions) reasons[d.dataset] = d.reason;
  EXPECT_EQ(reasons["copy/zones/vm1"],
            "received copy: its zsend:otherjob arrived by zfs receive; --include-received "
            "selects it");

  Result<std::vector<SelectionDecision>> included =
      SelectByProperty(zfs_, "otherjob", {}, /*include_received=*/true);
  ASSERT_TRUE(included.ok());
  EXPECT_EQ(SelectedNames(*included),
            (Names{"copy/zones", "copy/zones/mine", "copy/zones/vm1", "zones/other"}));
}

constexpr char kVmJson[] = R"({
  "uuid": "70a4f69b-b45b-420c-8d32-51ed45c1638a",
  "brand": "kvm",
  "zfs_filesystem": "zones/70a4f69b-b45b-420c-8d32-51ed45c1638a",
  "zonepath": "/zones/70a4f69b-b45b-420c-8d32-51ed45c1638a",
  "disks": [
    {"path": "/dev/zvol/rdsk/zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk0",
     "zfs_filesystem": "zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk0", "size": 10240},
    {"zfs_filesystem": "zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk1", "size": 51200},
    {"zfs_filesystem": "zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk2", "size": 1024}
  ],
  "internal_metadata": {
    "smartcopy_exclude": "zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk1",
    "zsend_exclude": " zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk2 ,zones/unrelated"
  }
})";

TEST(Selection, VmDatasetsHonourSmartcopyAndZsendExcludes) {
  FakeZfsRunner fake(FakeZfsRunner::Flavor::kOpenZfs, "smartos");
  fake.SetVmJson("70a4f69b-b45b-420c-8d32-51ed45c1638a", kVmJson);
  Result<Names> datasets = VmDatasets(fake, "70a4f69b-b45b-420c-8d32-51ed45c1638a");
  ASSERT_TRUE(datasets.ok()) << datasets.status().ToString();
  EXPECT_EQ(*datasets, (Names{"zones/70a4f69b-b45b-420c-8d32-51ed45c1638a",
                              "zones/70a4f69b-b45b-420c-8d32-51ed45c1638a-disk0"}));
  EXPECT_FALSE(VmDatasets(fake, "no-such-vm").ok());
  EXPECT_EQ(VmDatasetsFromJson("not json", "u").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VmDatasetsFromJson(R"({"uuid":"u"})", "u").status().code(), StatusCode::kNotFound);
}

TEST(Selection, NamedDatasetsMustExist) {
  FakeZfsRunner fake(FakeZfsRunner::Flavor::kLegacy);
  fake.AddDataset("tank");
  fake.AddDataset("tank/a");
  Zfs zfs(fake);
  ASSERT_TRUE(zfs.Probe().ok());
  Result<Names> ok = CheckNamedDatasets(zfs, {"tank/a", "tank", "tank/a"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (Names{"tank/a", "tank"}));
  Result<Names> missing = CheckNamedDatasets(zfs, {"tank/a", "tank/b"});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("tank/b"), std::string::npos);
}

TEST(Selection, TargetNamesWithStripPath) {
  EXPECT_EQ(*TargetName("zones/vm1/data", "backup/host1", 0), "backup/host1/zones/vm1/data");
  EXPECT_EQ(*TargetName("zones/vm1/data", "backup/host1/", 1), "backup/host1/vm1/data");
  EXPECT_EQ(*TargetName("zones/vm1/data", "backup", 2), "backup/data");
  EXPECT_EQ(TargetName("zones/vm1/data", "backup", 3).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(TargetName("zones", "backup", 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*TargetName("zones", "backup", 0), "backup/zones");
}

}  // namespace
}  // namespace zsend::orchestrator
