// The engine contract's version document: what the engine formats, the orchestrator parses;
// malformed documents are errors naming the field, never exceptions.
#include "base/engine_contract.h"

#include <gtest/gtest.h>

namespace zsend::engine_contract {
namespace {

TEST(EngineContract, VersionDocumentRoundTrips) {
  EngineVersion mine = ThisEngine({"none", "zstd"});
  Result<EngineVersion> back = ParseEngineVersion(FormatEngineVersion(mine));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->program, "zsend-engine");
  EXPECT_EQ(back->version, kProgramVersion);
  EXPECT_EQ(back->protocol, kProtocolVersion);
  EXPECT_EQ(back->commands, mine.commands);
  EXPECT_EQ(back->transports, mine.transports);
  EXPECT_EQ(back->codecs, (std::vector<std::string>{"none", "zstd"}));
  EXPECT_EQ(back->features, mine.features);
  EXPECT_TRUE(MissingCapabilities(*back).empty());
}

TEST(EngineContract, MalformedDocumentsNameWhatIsWrong) {
  const std::string good = FormatEngineVersion(ThisEngine({}));
  struct Case {
    std::string text;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"", "not a JSON object"},
           {"zsend-engine 0.1.0", "not a JSON object"},
           {"[1]", "not a JSON object"},
           {R"({"version":"0.1.0","protocol":1})", "'program' and 'version'"},
           {R"({"program":"zsend-engine","version":"0.1.0","protocol":"1"})", "integer 'protocol'"},
           {R"({"program":"zsend-engine","version":"0.1.0","protocol":1,"commands":["send"],)"
            R"("transports":["tcp",2],"codecs":[],"features":[]})",
            "string list 'transports'"},
           {R"({"program":"zsend-engine","version":"0.1.0","protocol":1,"commands":[],)"
            R"("transports":[],"codecs":[]})",
            "string list 'features'"},
       }) {
    Result<EngineVersion> v = ParseEngineVersion(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_NE(v.status().message().find(c.error), std::string::npos)
        << c.text << ": " << v.status().message();
  }
  EXPECT_TRUE(ParseEngineVersion(good).ok());
}

TEST(EngineContract, MissingCapabilitiesListsEachByKindAndName) {
  EngineVersion v = ThisEngine({});
  v.commands = {"buffer", "send", "recv"};
  v.transports = {"tcp", "ssh"};
  v.features.erase(v.features.begin());  // connect
  EXPECT_EQ(MissingCapabilities(v),
            (std::vector<std::string>{"command keygen", "transport stdio", "feature connect"}));
}

TEST(EngineContract, AnnounceLineUsesTheContractsFieldNames) {
  EXPECT_EQ(FormatAnnounceLine(40123, "zsend1:abc="),
            R"({"event":"listening","port":40123,"pubkey":"zsend1:abc="})");
}

TEST(EngineContract, ProgressLinesRoundTripAndOthersAreRefused) {
  const std::string line = FormatProgressLine({1153432, 1.5});
  EXPECT_EQ(line, R"({"event":"progress","seconds":1.5,"stream_bytes":1153432})");
  Result<ProgressReport> back = ParseProgressLine(line);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->stream_bytes, 1153432u);
  EXPECT_EQ(back->seconds, 1.5);
  for (const char* bad : {"", "progress 12", R"({"event":"listening","port":1,"pubkey":"k"})",
                          R"({"event":"progress","stream_bytes":-1,"seconds":1})",
                          R"({"event":"progress","stream_bytes":"12","seconds":1})"}) {
    EXPECT_FALSE(ParseProgressLine(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace zsend::engine_contract
