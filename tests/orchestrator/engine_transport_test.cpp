// The tcp transport's orchestration against a stand-in zsend-engine (a Python script that
// follows the send/recv contract of docs/orchestrator.md over a plain TCP socket): the fresh
// sender key made with keygen on the source, the receiver started first with --authorize,
// its announced port and key passed to the sender, the stream delivered, the stats read, and
// the key directory removed. Also the engine contract's check before (engine_probe.h): auto
// falls back to pipe when an engine lacks a capability or is older than the contract, an
// explicit transport fails naming the fix.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/engine_contract.h"
#include "orchestrator/transport/engine_probe.h"
#include "orchestrator/transport/far_side.h"
#include "orchestrator/transport/transport.h"
#include "tests/support/files.h"
#include "tests/support/subprocess.h"

namespace zsend::orchestrator {
namespace {

constexpr char kStandIn[] = R"PY(#!/usr/bin/env python3
import json, os, shlex, socket, stat, subprocess, sys
args = sys.argv[1:]
log = open(os.environ.get("FAKE_ENGINE_LOG", "/dev/null"), "a")
def opt(name):
    return args[args.index(name) + 1] if name in args else None
if args[:2] == ["version", "--json"]:
    if os.environ.get("FAKE_VERSION_EXIT"): sys.exit(int(os.environ["FAKE_VERSION_EXIT"]))
    print(os.environ.get("FAKE_VERSION") or json.dumps({
        "program": "zsend-engine", "version": "0.1.0", "protocol": 1,
        "commands": ["buffer", "send", "recv", "keygen"], "transports": ["tcp", "ssh", "stdio"],
        "codecs": ["none"], "features": ["connect", "listen", "announce", "authorize",
                                         "json-stats", "timeout"]}))
    sys.exit(0)
if args[:1] == ["buffer"]:
    data = sys.stdin.buffer.read(); sys.stdout.buffer.write(data)
    json.dump({"bytes_out": len(data)}, open(opt("--json-stats"), "w")); sys.exit(0)
if args[:1] == ["keygen"]:
    f = opt("-o")
    open(f, "w").write("zsend1-private:fake\n"); os.chmod(f, 0o600)
    open(f + ".pub", "w").write("zsend1:SENDERKEY\n"); print("zsend1:SENDERKEY"); sys.exit(0)
log.write(json.dumps(args) + "\n"); log.flush()
if args[:1] == ["recv"]:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
    if os.environ.get("FAKE_ANNOUNCE"):
        print(os.environ["FAKE_ANNOUNCE"], flush=True); sys.exit(0)
    print(json.dumps({"event": "listening", "port": s.getsockname()[1],
                      "pubkey": "zsend1:RECEIVERKEY"}), flush=True)
    c, _ = s.accept()
    p = subprocess.Popen(shlex.split(opt("--exec")), stdin=subprocess.PIPE)
    while True:
        d = c.recv(65536)
        if not d: break
        p.stdin.write(d)
    p.stdin.close(); rc = p.wait(); c.close(); sys.exit(0 if rc == 0 else 11)
if args[:1] == ["send"]:
    key = opt("--key")
    mode = stat.S_IMODE(os.stat(key).st_mode)
    host, port = opt("--connect").rsplit(":", 1)
    c = socket.create_connection((host, int(port)))
    p = subprocess.Popen(shlex.split(opt("--exec")), stdout=subprocess.PIPE)
    total = 0
    for chunk in iter(lambda: p.stdout.read(65536), b""):
        c.sendall(chunk); total += len(chunk)
    c.shutdown(socket.SHUT_WR); c.recv(1); rc = p.wait()
    json.dump({"stream_bytes": total, "key_mode": mode}, open(opt("--json-stats"), "w"))
    sys.exit(0 if rc == 0 else 12)
sys.exit(2)
)PY";

class EngineTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    ZSEND_REQUIRE(test::HaveProgram("python3"), "python3");
    char pattern[] = "/tmp/zsend-engine-tr-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    test::WriteFile(dir_ + "/engine", kStandIn);
    chmod((dir_ + "/engine").c_str(), 0755);
    setenv("FAKE_ENGINE_LOG", (dir_ + "/engine.log").c_str(), 1);
    options_.local_engine = dir_ + "/engine";
    options_.temp_dir = dir_;
  }
  void TearDown() override {
    unsetenv("FAKE_ENGINE_LOG");
    unsetenv("FAKE_VERSION");
    unsetenv("FAKE_VERSION_EXIT");
    std::filesystem::remove_all(dir_);
  }
  // The sender's --key argument in the stand-in engine's log ("" when there is none).
  std::string SenderKeyFromLog() const {
    const std::string log = test::ReadFile(dir_ + "/engine.log");
    const size_t at = log.find("\"--key\", \"");
    if (at == std::string::npos) return "";
    return log.substr(at + 10, log.find('"', at + 10) - at - 10);
  }
  LocalRunner local_;
  TransportOptions options_;
  std::string dir_;
};

TEST_F(EngineTransport, TcpStartsTheReceiverFirstAndAuthorizesAFreshSenderKey) {
  options_.kind = TransportKind::kTcp;
  std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
  std::string out = dir_ + "/received";
  StreamResult r =
      mover->Move({{"head", "-c", "777777", "/dev/urandom"}, {"sh", "-c", "cat > " + out}, "p/fs"});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.transport, "tcp");
  EXPECT_EQ(r.fallback, "");
  EXPECT_EQ(r.bytes, 777777u);
  EXPECT_EQ(std::filesystem::file_size(out), 777777u);
  std::string log = test::ReadFile(dir_ + "/engine.log");
  // Bound to the address the sender uses (loopback here), not to every interface.
  size_t recv = log.find("[\"recv\", \"--listen\", \"127.0.0.1:0\", \"--once\", \"--announce\"");
  size_t send = log.find("[\"send\"");
  ASSERT_NE(recv, std::string::npos) << log;
  ASSERT_NE(send, std::string::npos) << log;
  EXPECT_LT(recv, send) << log;
  EXPECT_NE(log.find("\"--authorize\", \"zsend1:SENDERKEY\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"--peer\", \"zsend1:RECEIVERKEY\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"--connect\", \"127.0.0.1:"), std::string::npos) << log;
  // The key's directory on the source is gone after the transfer.
  std::string key = SenderKeyFromLog();
  ASSERT_FALSE(key.empty()) << test::ReadFile(dir_ + "/engine.log");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(key).parent_path())) << key;
}

// A host whose shell startup file prints something (here: the path of a directory that must
// survive) before every command's output: the transfer still works, and only the key
// directory the keygen script made is removed.
class NoisyRunner : public CommandRunner {
 public:
  NoisyRunner(CommandRunner& inner, std::string noise) : inner_(inner), noise_(std::move(noise)) {}
  Result<CommandOutput> Run(const Command& command) override {
    Result<CommandOutput> output = inner_.Run(command);
    if (output.ok()) output->out = noise_ + output->out;
    return output;
  }
  std::string HostLabel() const override { return inner_.HostLabel(); }
  Result<std::vector<std::string>> StreamArgv(const std::vector<std::string>& argv) override {
    return inner_.StreamArgv(argv);
  }

 private:
  CommandRunner& inner_;
  std::string noise_;
};

TEST_F(EngineTransport, NoisyStartupFileNeitherBreaksTcpNorDeletesWhatItPrinted) {
  const std::string precious = dir_ + "/precious";
  std::filesystem::create_directory(precious);
  test::WriteFile(precious + "/file", "keep me");
  NoisyRunner noisy(local_, precious + "\nWelcome to the far host\n");
  options_.kind = TransportKind::kTcp;
  std::unique_ptr<StreamMover> mover = MakeStreamMover(noisy, local_, options_);
  std::string out = dir_ + "/received";
  StreamResult r =
      mover->Move({{"head", "-c", "5000", "/dev/urandom"}, {"sh", "-c", "cat > " + out}, "p/fs"});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(std::filesystem::file_size(out), 5000u);
  EXPECT_TRUE(std::filesystem::exists(precious + "/file"));
  std::string key = SenderKeyFromLog();
  ASSERT_FALSE(key.empty()) << test::ReadFile(dir_ + "/engine.log");
  EXPECT_NE(key.find("/zsend-key."), std::string::npos) << key;
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(key).parent_path())) << key;
}

// The announce line is the engine's JSON contract; anything else is a clean error.
TEST_F(EngineTransport, AMalformedAnnounceIsAnErrorNotACrash) {
  options_.kind = TransportKind::kTcp;
  for (const char* line : {R"({"event":"listening","port":"x","pubkey":"zsend1:R"})",
                           R"({"event":"listening","port":70000,"pubkey":"zsend1:R"})", "hello"}) {
    setenv("FAKE_ANNOUNCE", line, 1);
    std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
    StreamResult r =
        mover->Move({{"head", "-c", "10", "/dev/zero"}, {"sh", "-c", "cat > /dev/null"}, "p/fs"});
    ASSERT_FALSE(r.status.ok()) << line;
    EXPECT_NE(r.status.message().find("announced no port"), std::string::npos)
        << r.status.message();
  }
  unsetenv("FAKE_ANNOUNCE");
}

TEST(FarSide, TheEnginesAnnounceLineParses) {
  Result<Announce> a = ParseAnnounce(engine_contract::FormatAnnounceLine(40123, "zsend1:abc="));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->port, 40123);
  EXPECT_EQ(a->pubkey, "zsend1:abc=");
}

TEST(FarSide, OnlyDirectoriesTheKeygenScriptMadeAreRecognised) {
  EXPECT_TRUE(IsOurKeyDir("/tmp/zsend-key.AbC0123456"));
  EXPECT_TRUE(IsOurKeyDir("/var/tmp/user 1/zsend-key.AbC0123456"));
  for (const char* bad :
       {"", "/", "/tmp", "/home/user", "tmp/zsend-key.AbC0123456", "/tmp/zsend-key.AbC012345",
        "/tmp/zsend-key.AbC0123456/", "/tmp/../zsend-key.AbC0123456", "/tmp/zsend-key.AbC01234/6",
        "/tmp/./zsend-key.AbC0123456", "/tmp//zsend-key.AbC0123456", "/tmp/zsend-key.AbC01234-6"}) {
    EXPECT_FALSE(IsOurKeyDir(bad)) << bad;
  }
  Result<FarKey> key = ParseKeygenOutput(
      "/home/user\nzsend-keydir /etc\nzsend-keydir /tmp/zsend-key.AbC0123456\n"
      "zsend-pubkey zsend1:abc+/=\n");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->dir, "/tmp/zsend-key.AbC0123456");
  EXPECT_EQ(key->pub, "zsend1:abc+/=");
  EXPECT_FALSE(ParseKeygenOutput("/tmp/x\nzsend1:abc\n").ok());
  EXPECT_FALSE(ParseKeygenOutput("zsend-keydir /home/user\nzsend-pubkey zsend1:a\n").ok());
  EXPECT_FALSE(
      ParseKeygenOutput("zsend-keydir /tmp/zsend-key.AbC0123456\nzsend-pubkey x;rm\n").ok());
}

TEST_F(EngineTransport, TcpReportsAFailingReceiveAsTheConsumer) {
  options_.kind = TransportKind::kTcp;
  std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
  StreamResult r = mover->Move(
      {{"head", "-c", "1000", "/dev/zero"}, {"sh", "-c", "cat >/dev/null; exit 1"}, "p/fs"});
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("recv exit 11"), std::string::npos) << r.status.message();
}

TEST_F(EngineTransport, AutoUsesPipeWhenTheEngineLacksACapability) {
  setenv("FAKE_VERSION",
         R"({"program":"zsend-engine","version":"0.0.9","protocol":1,)"
         R"("commands":["buffer","send","recv","keygen"],"transports":["tcp","ssh"],"codecs":[],)"
         R"("features":["connect","listen","announce","authorize","json-stats","timeout"]})",
         1);
  options_.kind = TransportKind::kAuto;
  std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
  std::string out = dir_ + "/received";
  StreamResult r =
      mover->Move({{"head", "-c", "4096", "/dev/urandom"}, {"sh", "-c", "cat > " + out}, "p/fs"});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.transport, "pipe");
  EXPECT_EQ(r.fallback,
            "zsend-engine 0.0.9 on local (" + dir_ + "/engine) lacks transport stdio; used pipe");
  EXPECT_EQ(std::filesystem::file_size(out), 4096u);
  EXPECT_EQ(r.bytes, 4096u);
}

TEST_F(EngineTransport, AnExplicitTransportNamesTheFixForAnEngineOlderThanTheContract) {
  // An engine without `version` exits with the usage code, as this project's did before it.
  setenv("FAKE_VERSION_EXIT", "2", 1);
  for (TransportKind kind : {TransportKind::kTcp, TransportKind::kSsh}) {
    options_.kind = kind;
    std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
    StreamResult r =
        mover->Move({{"head", "-c", "10", "/dev/zero"}, {"sh", "-c", "cat > /dev/null"}, "p/fs"});
    ASSERT_FALSE(r.status.ok());
    EXPECT_EQ(r.status.code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(r.status.message(),
              std::string("--transport ") + TransportKindName(kind) + ": zsend-engine on local (" +
                  dir_ + "/engine) is older than this zsend (it has no 'version --json'); " +
                  "install zsend-engine " + engine_contract::kProgramVersion +
                  " there, or use --transport pipe");
  }
  EXPECT_EQ(test::ReadFile(dir_ + "/engine.log"), "");  // nothing else was started
}

TEST_F(EngineTransport, EnginesOfOneTransferMustSpeakOneProtocol) {
  engine_contract::EngineVersion newer = engine_contract::ThisEngine({});
  newer.protocol = 2;
  // Behind a shell startup file that prints something first: the document is the last line.
  test::WriteFile(dir_ + "/engine2", "#!/bin/sh\necho 'motd of a noisy shell'\necho '" +
                                         engine_contract::FormatEngineVersion(newer) + "'\n");
  chmod((dir_ + "/engine2").c_str(), 0755);
  EngineCheck check = CheckEngines({{&local_, dir_ + "/engine"}, {&local_, dir_ + "/engine2"}});
  EXPECT_EQ(check.problem, "zsend-engine on local (" + dir_ +
                               "/engine2) speaks protocol 2, the one on local (" + dir_ +
                               "/engine) protocol 1");
  EXPECT_EQ(check.fix, "install the same zsend-engine version on both");
  EXPECT_TRUE(CheckEngines({{&local_, dir_ + "/engine2"}}).ok());
}

// The near side of a remote-to-remote session runs the source host's engine: one without
// `session` (older than sessions) is found by asking, before any stream is handed to it.
TEST_F(EngineTransport, AnEngineWithoutTheSessionCommandIsNamed) {
  engine_contract::EngineVersion older = engine_contract::ThisEngine({});
  older.version = "0.0.9";
  std::erase(older.commands, std::string(engine_contract::kCommandSession));
  test::WriteFile(dir_ + "/engine2",
                  "#!/bin/sh\necho '" + engine_contract::FormatEngineVersion(older) + "'\n");
  chmod((dir_ + "/engine2").c_str(), 0755);
  EXPECT_TRUE(CheckEngines({{&local_, dir_ + "/engine2"}}).ok());
  EngineCheck check =
      CheckEngines({{&local_, dir_ + "/engine2", engine_contract::kCommandSession}});
  EXPECT_EQ(check.problem,
            "zsend-engine 0.0.9 on local (" + dir_ + "/engine2) lacks command session");
  EXPECT_TRUE(
      CheckEngines({{&local_, test::BinPath("zsend-engine"), engine_contract::kCommandSession}})
          .ok());
}

TEST_F(EngineTransport, ThisTreesEngineMeetsTheContract) {
  EngineCheck check = CheckEngines({{&local_, test::BinPath("zsend-engine")}});
  EXPECT_TRUE(check.ok()) << check.problem;
  EngineCheck none = CheckEngines({{&local_, dir_ + "/no-such-engine"}});
  EXPECT_EQ(none.problem.rfind(
                "no zsend-engine with send/recv on local (" + dir_ + "/no-such-engine)", 0),
            0u)
      << none.problem;
  // And auto, given it, moves the stream with the engine itself.
  options_.kind = TransportKind::kAuto;
  options_.local_engine = test::BinPath("zsend-engine");
  std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
  std::string out = dir_ + "/received";
  StreamResult r =
      mover->Move({{"head", "-c", "4096", "/dev/urandom"}, {"sh", "-c", "cat > " + out}, "p/fs"});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.transport, "tcp");
  EXPECT_EQ(r.fallback, "");
  EXPECT_EQ(std::filesystem::file_size(out), 4096u);
}

TEST_F(EngineTransport, ARefusedConnectionStopsTheWaitingReceiver) {
  // The real engine, but its receiver listens on 127.0.0.2, where the sender (sent to
  // 127.0.0.1) finds nobody: without being stopped, that receiver would wait for ever.
  test::WriteFile(dir_ + "/elsewhere",
                  "#!/bin/sh\nfor a do\n  shift\n  [ \"$prev\" = --listen ] && a=127.0.0.2:0\n"
                  "  set -- \"$@\" \"$a\"; prev=$a\ndone\nexec '" +
                      test::BinPath("zsend-engine") + "' \"$@\"\n");
  chmod((dir_ + "/elsewhere").c_str(), 0755);
  options_.kind = TransportKind::kTcp;
  options_.local_engine = dir_ + "/elsewhere";
  std::unique_ptr<StreamMover> mover = MakeStreamMover(local_, local_, options_);
  std::string out = dir_ + "/received";
  StreamResult r =
      mover->Move({{"head", "-c", "4096", "/dev/zero"}, {"sh", "-c", "cat > " + out}, "p/fs"});
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.transport, "tcp");
  // The sender's network failure (5); the receiver ended by SIGTERM (143), not by itself.
  EXPECT_NE(r.status.message().find("send exit 5, recv exit 143"), std::string::npos)
      << r.status.message();
  EXPECT_EQ(r.failed_stderr, "");  // not blamed on zfs: auto may fall back
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace zsend::orchestrator
