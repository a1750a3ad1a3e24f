// The executor on two in-memory zfs hosts with a stand-in transport that applies each stream
// to the target model: resume tokens (resumed, stale ones aborted and the transfer restarted),
// failures reported with their command and stderr, dependants skipped, --jobs ordering, holds
// moved, and the older zfs's receive settings applied after the receive.
#include "orchestrator/run/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "tests/support/fake_zfs.h"

namespace zsend::orchestrator {
namespace {

using test::FakeZfsRunner;

// Moves "streams" between two fake hosts by copying snapshots (with their guids) the way zfs
// receive would; records every call; can be told to fail a dataset's receive or a resume.
class ModelMover : public StreamMover {
 public:
  ModelMover(FakeZfsRunner& source, FakeZfsRunner& target) : source_(source), target_(target) {}

  StreamResult Move(const StreamCommand& command) override {
    auto started = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      events_.push_back("start " + command.label);
      sends_.push_back(command.send_argv);
      recvs_.push_back(command.recv_argv);
    }
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    StreamResult result = Apply(command);
    result.transport = "model";
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back("end " + command.label);
    return result;
  }

  std::vector<std::string> Events() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::vector<std::vector<std::string>> Sends() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sends_;
  }
  std::vector<std::vector<std::string>> Recvs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return recvs_;
  }

  std::map<std::string, std::string> token_names;   // token -> source snapshot it resumes
  std::map<std::string, std::string> fail_receive;  // target dataset -> stderr of zfs receive
  std::string fail_resume;                          // stderr of a failing `zfs send -t`
  int delay_ms_ = 0;

 private:
  uint64_t GuidOf(const std::string& full) {
    std::string dataset = full.substr(0, full.find('@'));
    std::string name = full.substr(full.find('@') + 1);
    for (const SnapshotInfo& s : source_.Snapshots(dataset)) {
      if (s.name == name) return s.guid;
    }
    return 0;
  }
  StreamResult Apply(const StreamCommand& command) {
    StreamResult result;
    const std::vector<std::string>& send = command.send_argv;
    const std::string target = command.recv_argv.back();
    auto fail = [&](const std::vector<std::string>& argv, const std::string& err) {
      result.failed_command = ShellJoin(argv);
      result.failed_stderr = err;
      result.status = Aborted(result.failed_command + " failed: " + err);
      return result;
    };
    if (fail_receive.count(target)) return fail(command.recv_argv, fail_receive[target]);
    auto t = std::find(send.begin(), send.end(), "-t");
    if (t != send.end()) {
      if (!fail_resume.empty()) return fail(send, fail_resume);
      std::string to = token_names[*(t + 1)];
      target_.AddSnapshot(target, to.substr(to.find('@') + 1), GuidOf(to));
      target_.SetResumeToken(target, "");
      result.bytes = 100;
      return result;
    }
    const std::string& to = send.back();
    std::string dataset = to.substr(0, to.find('@'));
    std::string from;
    bool intermediates = false;
    for (size_t i = 0; i + 1 < send.size(); ++i) {
      if (send[i] == "-i" || send[i] == "-I") {
        from = send[i + 1];
        intermediates = send[i] == "-I";
      }
    }
    bool clone = !from.empty() && from.substr(0, from.find_first_of("@#")) != dataset;
    if (from.empty() || clone) {
      if (target_.HasDataset(target)) return fail(command.recv_argv, "destination exists");
      std::string origin;
      if (clone) origin = "backup/" + from.substr(from.find('/') + 1);
      target_.AddDataset(target, DatasetType::kFilesystem, origin);
      target_.AddSnapshot(target, to.substr(to.find('@') + 1), GuidOf(to));
      result.bytes = 1000;
      return result;
    }
    uint64_t from_txg = 0, to_txg = 0;
    std::vector<SnapshotInfo> all = source_.Snapshots(dataset);
    for (const SnapshotInfo& s : all) {
      if (s.full_name() == from) from_txg = s.createtxg;
      if (s.full_name() == to) to_txg = s.createtxg;
    }
    for (const SnapshotInfo& s : all) {
      bool in =
          intermediates ? (s.createtxg > from_txg && s.createtxg <= to_txg) : s.createtxg == to_txg;
      if (in) target_.AddSnapshot(target, s.name, s.guid);
    }
    result.bytes = 10;
    return result;
  }

  FakeZfsRunner& source_;
  FakeZfsRunner& target_;
  std::mutex mutex_;
  std::vector<std::string> events_;
  std::vector<std::vector<std::string>> sends_;
  std::vector<std::vector<std::string>> recvs_;
};

class ExecutorModel : public ::testing::Test {
 protected:
  void Init(FakeZfsRunner::Flavor flavor) {
    source_ = std::make_unique<FakeZfsRunner>(flavor, "src");
    target_ = std::make_unique<FakeZfsRunner>(flavor, "dst");
    source_zfs_ = std::make_unique<Zfs>(*source_);
    target_zfs_ = std::make_unique<Zfs>(*target_);
    mover_ = std::make_unique<ModelMover>(*source_, *target_);
    source_->AddDataset("zones");
    target_->AddDataset("backup");
  }
  void SetUp() override { Init(FakeZfsRunner::Flavor::kOpenZfs); }

  std::vector<DatasetReport> Backup(const std::vector<std::string>& selected, int jobs = 1) {
    EXPECT_TRUE(source_zfs_->Probe().ok());
    EXPECT_TRUE(target_zfs_->Probe().ok());
    ExecutorOptions options;
    options.backup_name = "g";
    options.hold_tag = "zsend:g";
    options.plan = PlanOptions{"g", {}, false, false};
    options.gather = GatherOptions{"backup", 1};
    options.jobs = jobs;
    options.recv.readonly = true;
    options.recv.filter_properties = {"zsend:g"};
    options.selection_property = "zsend:g";
    options.selection_inherited = selection_inherited_;
    options.properties = send_properties_;
    options.log = [this](const std::string& line) { log_.push_back(line); };
    Result<std::vector<DatasetState>> states =
        GatherStates(*source_zfs_, *target_zfs_, selected, options.gather);
    EXPECT_TRUE(states.ok()) << states.status().ToString();
    plan_ = PlanTransfers(*states, options.plan);
    Executor executor(*source_zfs_, *target_zfs_, *mover_, options);
    return executor.Run(plan_);
  }
  const DatasetReport& Report(const std::vector<DatasetReport>& reports,
                              const std::string& source) {
    for (const DatasetReport& r : reports) {
      if (r.source == source) return r;
    }
    static DatasetReport none;
    ADD_FAILURE() << "no report for " << source;
    return none;
  }
  std::set<std::string> selection_inherited_;  // ExecutorOptions::selection_inherited
  bool send_properties_ = true;                // ExecutorOptions::properties
  // The `zfs inherit` commands the target ran, as "PROPERTY DATASET".
  std::vector<std::string> TargetInherits() {
    std::vector<std::string> inherits;
    for (const std::vector<std::string>& argv : target_->Commands()) {
      if (argv.size() == 4 && argv[1] == "inherit") inherits.push_back(argv[2] + " " + argv[3]);
    }
    return inherits;
  }
  std::vector<std::string> TargetSnapshots(const std::string& dataset) {
    std::vector<std::string> names;
    for (const SnapshotInfo& s : target_->Snapshots(dataset)) names.push_back(s.name);
    return names;
  }
  // zones/fs with g-1 and g-2; backup/fs has g-1 and the token "1-tok" of an interrupted
  // receive of g-2.
  void InterruptedReceiveOfG2() {
    source_->AddDataset("zones/fs");
    SnapshotInfo g1 = source_->AddSnapshot("zones/fs", "g-1");
    SnapshotInfo g2 = source_->AddSnapshot("zones/fs", "g-2");
    target_->AddDataset("backup/fs");
    target_->AddSnapshot("backup/fs", "g-1", g1.guid);
    target_->SetResumeToken("backup/fs", "1-tok");
    source_->RegisterResumeToken("1-tok", g1.guid, g2.guid, "zones/fs@g-2");
  }
  bool LogMentions(const std::string& text) {
    return std::any_of(log_.begin(), log_.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }

  std::unique_ptr<FakeZfsRunner> source_, target_;
  std::unique_ptr<Zfs> source_zfs_, target_zfs_;
  std::unique_ptr<ModelMover> mover_;
  SendPlan plan_;
  std::vector<std::string> log_;
};

TEST_F(ExecutorModel, FirstRunFullThenIncrementalAndHoldOnTheNewest) {
  source_->AddDataset("zones/fs");
  for (const char* s : {"g-1", "g-2", "g-3"}) source_->AddSnapshot("zones/fs", s);
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  const DatasetReport& fs = Report(reports, "zones/fs");
  ASSERT_EQ(fs.outcome, Outcome::kSucceeded) << fs.error.ToString();
  ASSERT_EQ(fs.steps.size(), 2u);
  EXPECT_EQ(fs.steps[0].kind, TransferKind::kFull);
  EXPECT_EQ(fs.steps[1].kind, TransferKind::kIncremental);
  EXPECT_EQ(TargetSnapshots("backup/fs"), (std::vector<std::string>{"g-1", "g-2", "g-3"}));
  EXPECT_EQ(source_->HoldTags("zones/fs@g-3"), (std::set<std::string>{"zsend:g"}));
  // Second run after a new snapshot: one -I stream, the hold moves.
  source_->AddSnapshot("zones/fs", "g-4");
  reports = Backup({"zones/fs"});
  const DatasetReport& again = Report(reports, "zones/fs");
  ASSERT_EQ(again.outcome, Outcome::kSucceeded) << again.error.ToString();
  ASSERT_EQ(again.steps.size(), 1u);
  EXPECT_EQ(again.steps[0].from, "zones/fs@g-3");
  EXPECT_TRUE(source_->HoldTags("zones/fs@g-3").empty());
  EXPECT_EQ(source_->HoldTags("zones/fs@g-4"), (std::set<std::string>{"zsend:g"}));
}

TEST_F(ExecutorModel, BookmarkFollowsTheCommonSnapshotAndIsTheBaseOnceTheSnapshotIsGone) {
  source_->AddDataset("zones/fs");
  for (const char* s : {"g-1", "g-2"}) source_->AddSnapshot("zones/fs", s);
  ASSERT_EQ(Report(Backup({"zones/fs"}), "zones/fs").outcome, Outcome::kSucceeded);
  EXPECT_EQ(source_->BookmarkNames("zones/fs"), (std::vector<std::string>{"zsend1_g_g-2"}));
  // Someone else's bookmark stays; the group's older one goes when the next one is made.
  CommandOutput mine =
      source_->Run({{"zfs", "bookmark", "zones/fs@g-1", "zones/fs#mine"}, Effect::kMutates, ""})
          .value();
  ASSERT_TRUE(mine.ok()) << mine.err;
  source_->AddSnapshot("zones/fs", "g-3");
  ASSERT_EQ(Report(Backup({"zones/fs"}), "zones/fs").outcome, Outcome::kSucceeded);
  EXPECT_EQ(source_->BookmarkNames("zones/fs"), (std::vector<std::string>{"mine", "zsend1_g_g-3"}));

  // The common snapshot is destroyed on the source (hold released first, as an admin would).
  ASSERT_TRUE(source_zfs_->Release("zsend:g", {"zones/fs@g-3"}).ok());
  ASSERT_TRUE(source_zfs_->DestroySnapshots("zones/fs", {"g-1", "g-2", "g-3"}).ok());
  source_->AddSnapshot("zones/fs", "g-4");
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  const DatasetReport& fs = Report(reports, "zones/fs");
  ASSERT_EQ(fs.outcome, Outcome::kSucceeded) << fs.error.ToString();
  ASSERT_EQ(fs.steps.size(), 1u);
  EXPECT_EQ(fs.steps[0].from, "zones/fs#zsend1_g_g-3");
  std::vector<std::string> send = mover_->Sends().back();
  EXPECT_NE(std::find(send.begin(), send.end(), "-i"), send.end()) << ShellJoin(send);
  EXPECT_EQ(TargetSnapshots("backup/fs"), (std::vector<std::string>{"g-1", "g-2", "g-3", "g-4"}));
  EXPECT_EQ(source_->BookmarkNames("zones/fs"), (std::vector<std::string>{"mine", "zsend1_g_g-4"}));
  EXPECT_EQ(source_->HoldTags("zones/fs@g-4"), (std::set<std::string>{"zsend:g"}));
}

TEST_F(ExecutorModel, OlderZfsIsNeverAskedForABookmark) {
  Init(FakeZfsRunner::Flavor::kLegacy);
  source_->AddDataset("zones/fs");
  source_->AddSnapshot("zones/fs", "g-1");
  ASSERT_EQ(Report(Backup({"zones/fs"}), "zones/fs").outcome, Outcome::kSucceeded);
  for (const std::vector<std::string>& argv : source_->Commands()) {
    ASSERT_GE(argv.size(), 2u);
    EXPECT_NE(argv[1], "bookmark") << ShellJoin(argv);
  }
}

TEST_F(ExecutorModel, ValidResumeTokenResumesThenSendsTheRest) {
  source_->AddDataset("zones/fs");
  SnapshotInfo g1 = source_->AddSnapshot("zones/fs", "g-1");
  SnapshotInfo g2 = source_->AddSnapshot("zones/fs", "g-2");
  source_->AddSnapshot("zones/fs", "g-3");
  target_->AddDataset("backup/fs");
  target_->AddSnapshot("backup/fs", "g-1", g1.guid);
  target_->SetResumeToken("backup/fs", "1-tok");
  source_->RegisterResumeToken("1-tok", g1.guid, g2.guid, "zones/fs@g-2");
  mover_->token_names["1-tok"] = "zones/fs@g-2";
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  const DatasetReport& fs = Report(reports, "zones/fs");
  ASSERT_EQ(fs.outcome, Outcome::kSucceeded) << fs.error.ToString();
  std::vector<std::vector<std::string>> sends = mover_->Sends();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0], (std::vector<std::string>{"zfs", "send", "-t", "1-tok"}));
  EXPECT_NE(std::find(sends[1].begin(), sends[1].end(), "zones/fs@g-2"), sends[1].end());
  EXPECT_EQ(TargetSnapshots("backup/fs"), (std::vector<std::string>{"g-1", "g-2", "g-3"}));
}

TEST_F(ExecutorModel, StaleTokenIsAbortedLoggedAndTheTransferRestarted) {
  source_->AddDataset("zones/fs");
  SnapshotInfo g1 = source_->AddSnapshot("zones/fs", "g-1");
  SnapshotInfo g2 = source_->AddSnapshot("zones/fs", "g-2");
  source_->AddSnapshot("zones/fs", "g-3");
  target_->AddDataset("backup/fs");
  target_->AddSnapshot("backup/fs", "g-1", g1.guid);
  target_->SetResumeToken("backup/fs", "1-tok");
  source_->RegisterResumeToken("1-tok", g1.guid, g2.guid, "zones/fs@g-2");
  ASSERT_TRUE(source_zfs_->DestroySnapshots("zones/fs", {"g-2"}).ok());  // the token is stale
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  const DatasetReport& fs = Report(reports, "zones/fs");
  ASSERT_EQ(fs.outcome, Outcome::kSucceeded) << fs.error.ToString();
  EXPECT_EQ(target_->ResumeToken("backup/fs"), "");
  EXPECT_TRUE(LogMentions("stale resume token aborted")) << testing::PrintToString(log_);
  bool aborted = false;
  for (const std::vector<std::string>& argv : target_->Commands()) {
    aborted = aborted || argv == std::vector<std::string>{"zfs", "receive", "-A", "backup/fs"};
  }
  EXPECT_TRUE(aborted);
  ASSERT_EQ(mover_->Sends().size(), 1u);
  EXPECT_EQ(TargetSnapshots("backup/fs"), (std::vector<std::string>{"g-1", "g-3"}));
}

TEST_F(ExecutorModel, ResumeRefusedAtRunTimeIsAbortedAndReplanned) {
  InterruptedReceiveOfG2();
  mover_->fail_resume =
      "cannot resume send: 'zones/fs@g-2' is no longer the same snapshot used in the initial send";
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  const DatasetReport& fs = Report(reports, "zones/fs");
  ASSERT_EQ(fs.outcome, Outcome::kSucceeded) << fs.error.ToString();
  EXPECT_TRUE(LogMentions("no longer applies")) << testing::PrintToString(log_);
  EXPECT_EQ(target_->ResumeToken("backup/fs"), "");
  std::vector<std::vector<std::string>> sends = mover_->Sends();
  ASSERT_EQ(sends.size(), 2u);  // the refused resume, then a fresh incremental
  EXPECT_EQ(sends[1].back(), "zones/fs@g-2");
  EXPECT_EQ(TargetSnapshots("backup/fs"), (std::vector<std::string>{"g-1", "g-2"}));
}

TEST_F(ExecutorModel, ResumeFailingForAnotherReasonKeepsThePartialReceive) {
  InterruptedReceiveOfG2();
  mover_->fail_resume = "cannot receive resume stream: out of space";
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  const DatasetReport& fs = Report(reports, "zones/fs");
  EXPECT_EQ(fs.outcome, Outcome::kFailed);
  EXPECT_EQ(target_->ResumeToken("backup/fs"), "1-tok");  // no `zfs receive -A`
  EXPECT_EQ(mover_->Sends().size(), 1u);                  // no fresh transfer from zero
  EXPECT_TRUE(LogMentions("partial receive are kept")) << testing::PrintToString(log_);
}

// Real OpenZFS messages (libzfs_sendrecv.c) and whether they mean the token is stale.
TEST(ResumeTokenIsStale, OnlyZfsMessagesSayingTheTokenNoLongerApplies) {
  struct Case {
    const char* stderr_text;
    bool stale;
  };
  const Case cases[] = {
      {"cannot resume send: resume token is corrupt (invalid format)", true},
      {"cannot resume send: resume token is corrupt (invalid version 2)", true},
      {"cannot resume send: 'tank/fs@g-2' used in the initial send no longer exists", true},
      {"cannot resume send: 'tank/fs@g-2' is no longer the same snapshot used in the initial "
       "send",
       true},
      {"cannot resume send: incremental source 0x9c1a0b2e4f5d6a7b no longer exists", true},
      {"cannot receive resume stream: kernel modules must be upgraded to receive this stream.",
       true},
      {"cannot receive resume stream: incompatible embedded data stream feature with encrypted "
       "receive.",
       true},
      {"cannot receive resume stream: out of space", false},
      {"cannot receive resume stream: checksum mismatch or incomplete stream.\nPartially "
       "received snapshot is saved.\nA resuming stream can be generated on the sending system "
       "by running:\n    zfs send -t 1-abc",
       false},
      {"warning: cannot send 'tank/fs@g-2': Input/output error\ncannot receive resume stream: "
       "kernel modules must be upgraded to receive this stream.",
       false},
      {"warning: cannot send 'tank/fs@g-2': Broken pipe", false},
      {"cannot receive resume stream: I/O error", false},
      {"client_loop: send disconnect: Broken pipe", false},
      {"ssh: connect to host nas port 22: Connection refused", false},
      {"cannot open 'backup/fs': dataset does not exist", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ResumeTokenIsStale(c.stderr_text), c.stale) << c.stderr_text;
  }
}

TEST_F(ExecutorModel, FailureReportsCommandAndStderrSkipsDependantsOthersGoOn) {
  for (const char* d : {"zones/a", "zones/a/child", "zones/b"}) {
    source_->AddDataset(d);
    source_->AddSnapshot(d, "g-1");
  }
  mover_->fail_receive["backup/a"] = "cannot receive: out of space";
  std::vector<DatasetReport> reports = Backup({"zones/a", "zones/a/child", "zones/b"});
  const DatasetReport& a = Report(reports, "zones/a");
  EXPECT_EQ(a.outcome, Outcome::kFailed);
  EXPECT_EQ(a.failed_stderr, "cannot receive: out of space");
  EXPECT_NE(a.failed_command.find("zfs receive"), std::string::npos);
  EXPECT_NE(a.failed_command.find("backup/a"), std::string::npos);
  const DatasetReport& child = Report(reports, "zones/a/child");
  EXPECT_EQ(child.outcome, Outcome::kSkipped);
  EXPECT_NE(child.reason.find("zones/a"), std::string::npos);
  EXPECT_EQ(Report(reports, "zones/b").outcome, Outcome::kSucceeded);
  EXPECT_TRUE(target_->HasDataset("backup/b"));
  EXPECT_FALSE(target_->HasDataset("backup/a/child"));
}

TEST_F(ExecutorModel, JobsNeverStartAChildBeforeItsParentOrACloneBeforeItsOrigin) {
  std::vector<std::string> selected;
  for (int i = 0; i < 4; ++i) {
    std::string parent = "zones/p" + std::to_string(i);
    source_->AddDataset(parent);
    source_->AddSnapshot(parent, "g-1");
    selected.push_back(parent);
    for (int j = 0; j < 2; ++j) {
      std::string child = parent + "/c" + std::to_string(j);
      source_->AddDataset(child);
      source_->AddSnapshot(child, "g-1");
      selected.push_back(child);
    }
  }
  source_->AddDataset("zones/base");
  source_->AddSnapshot("zones/base", "g-1");
  source_->AddDataset("zones/clone1", DatasetType::kFilesystem, "zones/base@g-1");
  source_->AddSnapshot("zones/clone1", "g-2");
  source_->AddDataset("zones/clone2", DatasetType::kFilesystem, "zones/base@g-1");
  source_->AddSnapshot("zones/clone2", "g-2");
  selected.insert(selected.end(), {"zones/clone2", "zones/clone1", "zones/base"});
  mover_->delay_ms_ = 5;
  std::vector<DatasetReport> reports = Backup(selected, 4);
  for (const DatasetReport& r : reports) {
    EXPECT_EQ(r.outcome, Outcome::kSucceeded) << r.source << ": " << r.error.ToString();
  }
  std::vector<std::string> events = mover_->Events();
  auto position = [&](const std::string& event) {
    return std::find(events.begin(), events.end(), event) - events.begin();
  };
  bool overlapped = false;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    overlapped =
        overlapped || (events[i].rfind("start", 0) == 0 && events[i + 1].rfind("start", 0) == 0);
  }
  EXPECT_TRUE(overlapped) << "--jobs 4 ran nothing in parallel";
  for (const std::string& d : selected) {
    std::string parent = ParentDataset(d);
    if (parent != "zones") {
      EXPECT_LT(position("end " + parent), position("start " + d)) << d;
    }
  }
  for (const char* clone : {"zones/clone1", "zones/clone2"}) {
    EXPECT_LT(position("end zones/base"), position("start " + std::string(clone))) << clone;
    EXPECT_TRUE(target_->HasDataset("backup/" + std::string(clone).substr(6))) << clone;
  }
}

TEST_F(ExecutorModel, ModernZfsGetsOneReceiveCommandLine) {
  source_->AddDataset("zones/fs");
  source_->AddSnapshot("zones/fs", "g-1");
  source_->AddSnapshot("zones/fs", "g-2");
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  ASSERT_EQ(Report(reports, "zones/fs").outcome, Outcome::kSucceeded);
  std::vector<std::vector<std::string>> sends = mover_->Sends(), recvs = mover_->Recvs();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0],
            (std::vector<std::string>{"zfs", "send", "-p", "-L", "-e", "-c", "zones/fs@g-1"}));
  EXPECT_EQ(sends[1], (std::vector<std::string>{"zfs", "send", "-p", "-L", "-e", "-c", "-I",
                                                "zones/fs@g-1", "zones/fs@g-2"}));
  EXPECT_EQ(recvs[0], (std::vector<std::string>{"zfs", "receive", "-u", "-s", "-o", "readonly=on",
                                                "-x", "zsend:g", "backup/fs"}));
  for (const std::vector<std::string>& argv : target_->Commands()) {
    EXPECT_NE(argv[1], "set") << "nothing is left for zfs set on a modern zfs";
    EXPECT_NE(argv[1], "inherit");
  }
}

TEST_F(ExecutorModel, OlderZfsGetsReceiveSettingsAfterTheReceive) {
  Init(FakeZfsRunner::Flavor::kLegacy);
  source_->AddDataset("zones/fs");
  source_->AddSnapshot("zones/fs", "g-1");
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  ASSERT_EQ(Report(reports, "zones/fs").outcome, Outcome::kSucceeded)
      << Report(reports, "zones/fs").error.ToString();
  Result<std::vector<PropertyValue>> readonly =
      target_zfs_->GetProperty("readonly", {"backup/fs"}, false);
  ASSERT_TRUE(readonly.ok()) << readonly.status().ToString();
  ASSERT_EQ(readonly->size(), 1u);
  EXPECT_EQ((*readonly)[0].value, "on");
  EXPECT_EQ(mover_->Recvs()[0], (std::vector<std::string>{"zfs", "receive", "backup/fs"}));
  bool inherited = false;
  for (const std::vector<std::string>& argv : target_->Commands()) {
    inherited =
        inherited || argv == std::vector<std::string>{"zfs", "inherit", "zsend:g", "backup/fs"};
  }
  EXPECT_TRUE(inherited);
}

// zfs-fuse has no `recv -x`: the selection property a -p stream brings is inherited away after
// the receive, but only where the stream can carry it: a dataset whose value is set on it, not
// one that inherits it from its parent (send -p sends only a dataset's own properties).
TEST_F(ExecutorModel, OlderZfsInheritsTheSelectionPropertyOnlyWhereTheStreamCarriesIt) {
  Init(FakeZfsRunner::Flavor::kLegacy);
  for (const char* d : {"zones/fs", "zones/fs/child"}) {
    source_->AddDataset(d);
    source_->AddSnapshot(d, "g-1");
  }
  selection_inherited_ = {"zones/fs/child"};
  std::vector<DatasetReport> reports = Backup({"zones/fs", "zones/fs/child"});
  for (const char* d : {"zones/fs", "zones/fs/child"}) {
    ASSERT_EQ(Report(reports, d).outcome, Outcome::kSucceeded) << d;
  }
  EXPECT_EQ(TargetInherits(), (std::vector<std::string>{"zsend:g backup/fs"}));
}

TEST_F(ExecutorModel, OlderZfsInheritsNothingAfterStreamsWithoutProperties) {
  Init(FakeZfsRunner::Flavor::kLegacy);
  source_->AddDataset("zones/fs");
  source_->AddSnapshot("zones/fs", "g-1");
  send_properties_ = false;
  std::vector<DatasetReport> reports = Backup({"zones/fs"});
  ASSERT_EQ(Report(reports, "zones/fs").outcome, Outcome::kSucceeded);
  EXPECT_EQ(mover_->Sends()[0], (std::vector<std::string>{"zfs", "send", "zones/fs@g-1"}));
  EXPECT_TRUE(TargetInherits().empty());
}

}  // namespace
}  // namespace zsend::orchestrator
