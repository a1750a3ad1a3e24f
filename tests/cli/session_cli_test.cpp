// zsend-engine serve / session (docs/protocol.md 5.8) on loopback, with a stand-in `zfs` on the
// serving side's PATH: many streams over a fixed number of connections, a failing receive that
// fails its stream alone, far commands outside the grammar or the root refused with nothing run,
// pulls from a source root, a producer that fails mid-stream, a receive that fails while its
// side reads inside a data frame (the link stays in step), a serve stopped between streams, and
// a serving engine killed mid-session (the stream in flight fails, the rest say they never
// started).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/support/peers/fault_proxy.h"
#include "tests/support/subprocess.h"
#include "tests/support/transfer_fixture.h"

namespace zsend {
namespace {

using test::Side;
using test::TransferDir;

// `zfs receive ... NAME` writes the stream to $ZFS_DIR/NAME with '/' as '_' (through a
// .partial file, renamed only after a clean end); a NAME containing "diverged" fails after
// reading a little, as a real receive into a modified target does. `zfs send ... SNAP` writes
// $ZFS_DIR/SNAP ('/' and '@' as '_'). Every call is logged to $ZFS_DIR/log.
constexpr char kStandInZfs[] = R"(#!/bin/sh
echo "$*" >> "$ZFS_DIR/log"
cmd=$1; shift
for last; do :; done
name=$(echo "$last" | tr '/@' '__')
case "$cmd" in
receive|recv)
  case "$last" in *diverged*)
    head -c 1000 >/dev/null
    echo "cannot receive incremental stream: destination $last has been modified" >&2
    exit 1 ;;
  esac
  cat > "$ZFS_DIR/$name.partial" && mv "$ZFS_DIR/$name.partial" "$ZFS_DIR/$name" ;;
send) exec cat "$ZFS_DIR/$name" ;;
*) echo "stand-in zfs: $cmd is not expected here" >&2; exit 2 ;;
esac
)";

class SessionCli : public ::testing::Test {
 protected:
  void SetUp() override {
    client_pub_ = dir_.Keygen("client");
    server_pub_ = dir_.Keygen("server");
    zfs_dir_ = dir_.Path("zfs");
    std::filesystem::create_directories(dir_.Path("bin"));
    std::filesystem::create_directories(zfs_dir_);
    std::ofstream(dir_.Path("bin/zfs")) << kStandInZfs;
    std::filesystem::permissions(dir_.Path("bin/zfs"), std::filesystem::perms::owner_all);
    dir_.SetEnv("PATH", dir_.Path("bin") + ":" + std::string(getenv("PATH")));
    dir_.SetEnv("ZFS_DIR", zfs_dir_);
  }
  Side Serve(const std::string& root_flag, int connections, int* port) {
    return dir_.StartListener(
        "serve",
        {"serve", root_flag, root_flag == "--source-root" ? "pool/src" : "pool/backup",
         "--connections", std::to_string(connections), "--key", dir_.Path("server"), "--authorize",
         client_pub_, "-s", "64K", "-m", "8M"},
        port);
  }
  // Runs the client with `requests` (one JSON object each) on stdin; the result lines by id.
  std::vector<std::string> ClientArgv(const std::string& role, int port, int connections) const {
    return {test::BinPath("zsend-engine"),
            "session",
            role,
            "--connect",
            "127.0.0.1:" + std::to_string(port),
            "--peer",
            server_pub_,
            "--key",
            dir_.Path("client"),
            "--connections",
            std::to_string(connections),
            "-q",
            "-s",
            "64K",
            "-m",
            "8M"};
  }
  std::map<std::string, nlohmann::json> Session(const std::string& role, int port, int connections,
                                                const std::vector<nlohmann::json>& requests,
                                                int* exit_code,
                                                const std::vector<std::string>& extra = {}) {
    std::string input;
    for (const nlohmann::json& r : requests) input += r.dump() + "\n";
    std::vector<std::string> argv = ClientArgv(role, port, connections);
    argv.insert(argv.end(), extra.begin(), extra.end());
    test::RunResult run = test::Run(argv, input);
    *exit_code = run.exit_code;
    session_err_ = run.err;
    std::map<std::string, nlohmann::json> results;
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << "not a JSON line: " << line;
      if (j.is_object()) results[j["id"].get<std::string>()] = j;
    }
    EXPECT_EQ(results.size(), requests.size()) << run.out << run.err;
    return results;
  }
  static nlohmann::json Push(const std::string& id, const std::string& file,
                             const std::string& target) {
    return {{"id", id}, {"exec", "cat " + file}, {"far", {"zfs", "receive", "-F", target}}};
  }
  // Waits for the serving engine, which exits once its connections ended; one that is still
  // running after 20 s is killed, so a test that fails cannot hang.
  static void FinishServe(Side& serve) {
    std::atomic<bool> done{false};
    std::thread guard([&] {
      for (int i = 0; i < 400 && !done; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!done) ::kill(serve.pid, SIGKILL);
    });
    serve.Finish();
    done = true;
    guard.join();
  }
  std::string Received(const std::string& target) const {
    std::string name = target;
    for (char& c : name) c = c == '/' || c == '@' ? '_' : c;
    const std::string path = zfs_dir_ + "/" + name;
    return std::filesystem::exists(path) ? TransferDir::Read(path) : "<absent>";
  }
  std::string ZfsLog() const {
    const std::string path = zfs_dir_ + "/log";
    return std::filesystem::exists(path) ? TransferDir::Read(path) : "";
  }

  TransferDir dir_;
  std::string client_pub_, server_pub_, zfs_dir_, session_err_;
};

TEST_F(SessionCli, ManyStreamsOverTwoConnections) {
  int port = 0;
  Side serve = Serve("--target-root", 2, &port);
  ASSERT_GT(port, 0);
  std::vector<nlohmann::json> requests;
  std::vector<std::string> inputs;
  for (int i = 0; i < 12; ++i) {
    inputs.push_back(dir_.MakeFile("in" + std::to_string(i), 1000 + 37000 * i, i + 1));
    requests.push_back(
        Push("d" + std::to_string(i), inputs.back(), "pool/backup/d" + std::to_string(i)));
  }
  int exit_code = -1;
  auto results = Session("--send", port, 2, requests, &exit_code);
  FinishServe(serve);
  EXPECT_EQ(exit_code, 0) << session_err_;
  // serve exits 0 only after exactly its two connections ended cleanly: the twelve streams
  // travelled over those two (a third connection would have found no listener).
  EXPECT_EQ(serve.result.exit_code, 0) << serve.err;
  for (int i = 0; i < 12; ++i) {
    const std::string id = "d" + std::to_string(i);
    EXPECT_EQ(results[id]["result"], "ok") << results[id].dump();
    EXPECT_EQ(results[id]["stream_bytes"], 1000 + 37000 * i);
    EXPECT_TRUE(Received("pool/backup/" + id) == TransferDir::Read(inputs[i])) << id;
  }
}

TEST_F(SessionCli, AFailingReceiveFailsItsStreamAlone) {
  int port = 0;
  Side serve = Serve("--target-root", 1, &port);
  ASSERT_GT(port, 0);
  const std::string big = dir_.MakeFile("big", 3 << 20);
  int exit_code = -1;
  auto results = Session("--send", port, 1,
                         {Push("a", big, "pool/backup/a"), Push("x", big, "pool/backup/diverged"),
                          Push("b", big, "pool/backup/b")},
                         &exit_code);
  FinishServe(serve);
  EXPECT_EQ(exit_code, 11) << session_err_;  // the first failure's: the consumer's
  EXPECT_EQ(serve.result.exit_code, 0) << serve.err;
  EXPECT_EQ(results["a"]["result"], "ok");
  EXPECT_EQ(results["b"]["result"], "ok") << results["b"].dump();
  EXPECT_EQ(results["x"]["result"], "failed");
  EXPECT_EQ(results["x"]["failure"], "consumer");
  EXPECT_TRUE(results["x"]["started"].get<bool>());
  EXPECT_NE(results["x"]["error"].get<std::string>().find("has been modified"), std::string::npos)
      << results["x"].dump();
  EXPECT_EQ(Received("pool/backup/diverged"), "<absent>");
  EXPECT_TRUE(Received("pool/backup/b") == TransferDir::Read(big));
}

TEST_F(SessionCli, AReceiveThatFailsInsideADataFrameKeepsTheLinkInStep) {
  // A proxy holds the stream back in the middle of its third 64 KiB data frame. Meanwhile the
  // diverged receive fails on the second, and the serving side's pipeline stops its read inside
  // the third. Released, it reads on from there to the sender's close frame, and the next
  // stream follows on the one connection.
  int port = 0;
  Side serve = Serve("--target-root", 1, &port);
  ASSERT_GT(port, 0);
  test::FaultProxy proxy(
      "127.0.0.1", port,
      {.stall_after = 170000, .stall_direction = test::ProxyDirection::kClientToServer});
  ASSERT_TRUE(proxy.ok()) << proxy.error();
  const std::string big = dir_.MakeFile("big", 1 << 20, 3);
  const std::string small = dir_.MakeFile("small", 100000, 4);
  std::thread release([&] {
    if (proxy.WaitStalled(std::chrono::seconds(20))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
    }
    proxy.Release();
  });
  int exit_code = -1;
  auto results = Session(
      "--send", proxy.port(), 1,
      {Push("x", big, "pool/backup/diverged"), Push("b", small, "pool/backup/b")}, &exit_code);
  release.join();
  FinishServe(serve);
  EXPECT_EQ(exit_code, 11) << session_err_;
  EXPECT_EQ(serve.result.exit_code, 0) << serve.err;
  EXPECT_EQ(results["x"]["failure"], "consumer") << results["x"].dump();
  EXPECT_EQ(results["b"]["result"], "ok") << results["b"].dump() << session_err_ << serve.err;
  EXPECT_TRUE(Received("pool/backup/b") == TransferDir::Read(small));
}

TEST_F(SessionCli, AServeStopsOnSigtermWhileItWaitsForTheNextStream) {
  int port = 0;
  Side serve = Serve("--target-root", 1, &port);
  ASSERT_GT(port, 0);
  // A client whose stdin stays open: it holds its link and sends no request.
  int input[2];
  ASSERT_EQ(pipe(input), 0);
  test::SpawnOptions spawn;
  spawn.stdin_fd = input[0];
  const pid_t client = test::Spawn(ClientArgv("--send", port, 1), spawn);
  close(input[0]);
  // The link is up once serve's listener is gone (it accepts one connection, then closes).
  for (int i = 0; i < 100; ++i) {
    if (test::Shell("ss -Hltn 'sport = :" + std::to_string(port) + "' | grep -q .").exit_code !=
        0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(serve.pid, SIGTERM);
  FinishServe(serve);  // SIGKILL after 20 s: then its exit code is not 143
  close(input[1]);
  test::Wait(client);
  EXPECT_EQ(serve.result.exit_code, 128 + SIGTERM) << serve.err;
}

TEST_F(SessionCli, CommandsOutsideTheGrammarOrTheRootRunNothing) {
  int port = 0;
  Side serve = Serve("--target-root", 1, &port);
  ASSERT_GT(port, 0);
  const std::string in = dir_.MakeFile("in", 5000);
  const std::string marker = dir_.Path("ran");
  auto request = [&](const std::string& id, std::vector<std::string> far) {
    return nlohmann::json{{"id", id}, {"exec", "cat " + in}, {"far", far}};
  };
  int exit_code = -1;
  auto results =
      Session("--send", port, 1,
              {request("shell", {"sh", "-c", "touch " + marker}),
               request("destroy", {"zfs", "destroy", "-r", "pool/backup"}),
               request("outside", {"zfs", "receive", "tank/other"}),
               request("prefix", {"zfs", "receive", "pool/backupx/a"}),
               request("option", {"zfs", "receive", "-d", "pool/backup/a"}),
               request("origin", {"zfs", "receive", "-o", "origin=tank/x@s", "pool/backup/c"}),
               Push("good", in, "pool/backup/good")},
              &exit_code);
  FinishServe(serve);
  EXPECT_NE(exit_code, 0);
  EXPECT_EQ(serve.result.exit_code, 0) << serve.err;
  for (const char* id : {"shell", "destroy", "outside", "prefix", "option", "origin"}) {
    EXPECT_EQ(results[id]["result"], "failed") << id;
    EXPECT_FALSE(results[id]["started"].get<bool>()) << id;
    EXPECT_NE(results[id]["error"].get<std::string>().find("refused the stream: refused: "),
              std::string::npos)
        << results[id].dump();
    EXPECT_EQ(results[id]["exit_code"], 2) << id;
  }
  EXPECT_FALSE(std::filesystem::exists(marker));
  // The stand-in zfs ran once: for the one stream inside the grammar and the root.
  EXPECT_EQ(ZfsLog(), "receive -F pool/backup/good\n") << serve.err << session_err_;
  EXPECT_EQ(results["good"]["result"], "ok") << results["good"].dump();
}

TEST_F(SessionCli, PullsFromASourceRoot) {
  int port = 0;
  Side serve = Serve("--source-root", 1, &port);
  ASSERT_GT(port, 0);
  std::filesystem::copy_file(dir_.MakeFile("snap", 200000, 7), zfs_dir_ + "/pool_src_a_s1");
  const std::string out = dir_.Path("pulled");
  int exit_code = -1;
  auto results = Session(
      "--recv", port, 1,
      {{{"id", "a"},
        {"exec", "sh -c 'cat > " + out + "'"},
        {"far", {"zfs", "send", "-L", "pool/src/a@s1"}}},
       {{"id", "no"}, {"exec", "sh -c 'cat > /dev/null'"}, {"far", {"zfs", "send", "tank/a@s1"}}}},
      &exit_code);
  FinishServe(serve);
  EXPECT_EQ(serve.result.exit_code, 0) << serve.err;
  EXPECT_EQ(results["a"]["result"], "ok") << results["a"].dump() << session_err_;
  EXPECT_TRUE(TransferDir::Read(out) == TransferDir::Read(zfs_dir_ + "/pool_src_a_s1"));
  EXPECT_EQ(results["no"]["result"], "failed");
  EXPECT_NE(results["no"]["error"].get<std::string>().find("refused the stream: refused: "),
            std::string::npos)
      << results["no"].dump();
}

TEST_F(SessionCli, AProducerThatFailsMidStreamLeavesNoTargetAndTheLinkGoesOn) {
  int port = 0;
  Side serve = Serve("--target-root", 1, &port);
  ASSERT_GT(port, 0);
  const std::string big = dir_.MakeFile("big", 2 << 20);
  int exit_code = -1;
  auto results = Session("--send", port, 1,
                         {{{"id", "cut"},
                           {"exec", "sh -c 'head -c 300000 " + big + "; exit 3'"},
                           {"far", {"zfs", "receive", "pool/backup/cut"}}},
                          Push("next", big, "pool/backup/next")},
                         &exit_code);
  FinishServe(serve);
  EXPECT_EQ(exit_code, 12) << session_err_;
  EXPECT_EQ(serve.result.exit_code, 0) << serve.err;
  EXPECT_EQ(results["cut"]["failure"], "producer") << results["cut"].dump();
  EXPECT_EQ(Received("pool/backup/cut"), "<absent>");
  EXPECT_EQ(results["next"]["result"], "ok") << results["next"].dump();
}

TEST_F(SessionCli, AServerKilledMidSessionFailsTheStreamInFlightAndStartsNoOther) {
  int port = 0;
  Side serve = Serve("--target-root", 1, &port);
  ASSERT_GT(port, 0);
  const std::string in = dir_.MakeFile("in", 100000);
  int exit_code = -1;
  std::map<std::string, nlohmann::json> results;
  std::thread client([&] {
    results = Session("--send", port, 1,
                      {Push("first", in, "pool/backup/first"),
                       {{"id", "slow"},
                        {"exec", "sh -c 'cat " + in + "; exec sleep 30'"},
                        {"far", {"zfs", "receive", "pool/backup/slow"}}},
                       Push("after", in, "pool/backup/after")},
                      &exit_code);
  });
  // The slow stream is in flight once its receive has some of the producer's bytes (a receive
  // that has only started may not have answered the open frame yet).
  const std::string partial = zfs_dir_ + "/pool_backup_slow.partial";
  auto arrived = [&] {
    std::error_code ec;
    return std::filesystem::file_size(partial, ec) > 0 && !ec;
  };
  for (int i = 0; i < 200 && !arrived(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(arrived());  // and the client thread is joined either way
  ::kill(serve.pid, SIGKILL);
  client.join();
  FinishServe(serve);
  EXPECT_EQ(results["first"]["result"], "ok");
  EXPECT_EQ(results["slow"]["result"], "failed");
  EXPECT_TRUE(results["slow"]["started"].get<bool>());
  EXPECT_EQ(results["after"]["result"], "failed");
  EXPECT_FALSE(results["after"]["started"].get<bool>()) << results["after"].dump();
  EXPECT_EQ(results["after"]["failure"], "network");
  EXPECT_EQ(exit_code, 5) << session_err_;
}

// --ssh: each connection is `ssh HOST zsend-engine serve --stdio SERVE-ARGS` (a stand-in ssh
// that runs the command locally, as sshd would); the far serve checks its root as over tcp.
TEST_F(SessionCli, OverSshOneServePerConnection) {
  test::WriteStandInSsh(dir_.Path("bin/ssh"), "exec");
  const std::string in = dir_.MakeFile("in", 300000);
  std::string input;
  for (const nlohmann::json& r : {Push("a", in, "pool/backup/a"), Push("b", in, "pool/backup/b"),
                                  Push("c", in, "pool/backup/c"), Push("out", in, "tank/c")}) {
    input += r.dump() + "\n";
  }
  test::SpawnOptions env;
  env.env = {{"PATH", dir_.Path("bin") + ":" + std::string(getenv("PATH"))}, {"ZFS_DIR", zfs_dir_}};
  test::RunResult run =
      test::Run({test::BinPath("zsend-engine"), "session", "--send", "--ssh", "backup@stand-in",
                 "--remote-engine", test::BinPath("zsend-engine"), "--connections", "2", "-q", "--",
                 "-q", "--target-root", "pool/backup"},
                input, env);
  EXPECT_EQ(run.exit_code, 2) << run.err;  // the refused stream's
  size_t ok = 0;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["result"] == "ok") ++ok;
    if (j["id"] == "out") {
      EXPECT_EQ(j["failure"], "usage") << line;
    }
  }
  EXPECT_EQ(ok, 3u) << run.out << run.err;
  for (const char* name : {"pool/backup/a", "pool/backup/b", "pool/backup/c"}) {
    EXPECT_TRUE(Received(name) == TransferDir::Read(in)) << name;
  }
  // Two connections, two ssh processes: each logged its argv to bin/ssh.argv (the last wins),
  // whose remote command is serve --stdio with the root.
  const std::string argv = TransferDir::Read(dir_.Path("bin/ssh.argv"));
  EXPECT_NE(argv.find("serve"), std::string::npos) << argv;
  EXPECT_NE(argv.find("--target-root"), std::string::npos) << argv;
}

}  // namespace
}  // namespace zsend
