// zsend-engine version as the orchestrator and a user run it: the one-line JSON document of the
// engine contract (base/engine_contract.h), parsed back with the orchestrator's parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/engine_contract.h"
#include "tests/support/subprocess.h"

namespace zsend {
namespace {

using test::BinPath;
using test::RunResult;

TEST(EngineVersionCli, JsonReportsVersionProtocolAndCapabilities) {
  RunResult r = test::Run({BinPath("zsend-engine"), "version", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  ASSERT_EQ(r.out.back(), '\n');
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << "one line: " << r.out;
  Result<engine_contract::EngineVersion> v = engine_contract::ParseEngineVersion(r.out);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->program, "zsend-engine");
  EXPECT_EQ(v->version, engine_contract::kProgramVersion);
  EXPECT_EQ(v->protocol, engine_contract::kProtocolVersion);
  EXPECT_TRUE(engine_contract::MissingCapabilities(*v).empty());
  for (const char* codec : {"none", "zstd", "gzip", "lz4", "auto"}) {
    EXPECT_NE(std::find(v->codecs.begin(), v->codecs.end(), codec), v->codecs.end()) << codec;
  }
  // The field names a script reads.
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["protocol"], 1);
  EXPECT_TRUE(j["transports"].is_array());
}

TEST(EngineVersionCli, PlainVersionIsOneLineForPeople) {
  RunResult r = test::Run({BinPath("zsend-engine"), "version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            std::string("zsend-engine ") + engine_contract::kProgramVersion + " (protocol 1)\n");
}

TEST(EngineVersionCli, AnUnknownOptionIsAUsageError) {
  RunResult r = test::Run({BinPath("zsend-engine"), "version", "--yaml"});
  EXPECT_EQ(r.exit_code, engine_contract::kExitUsage);
  EXPECT_NE(r.err.find("see 'zsend-engine version --help'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace zsend
