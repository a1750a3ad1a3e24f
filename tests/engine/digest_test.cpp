// Digest: the published test vectors for "abc" and the empty string, XXH3-128 against the real
// xxhsum, streaming in pieces, and the error for an unknown name.
#include "engine/ring/digest.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/subprocess.h"

namespace zsend {
namespace {

std::string HexOf(const std::string& name, const std::string& data) {
  Result<std::unique_ptr<Digest>> digest = Digest::Create(name);
  EXPECT_TRUE(digest.ok()) << digest.status().ToString();
  if (!digest.ok()) return "";
  (*digest)->Update(data.data(), data.size());
  return (*digest)->FinishHex();
}

// RFC 1321, FIPS 180-2 and RFC 7693 (BLAKE2b-512) vectors.
TEST(Digest, KnownVectorsForAbc) {
  EXPECT_EQ(HexOf("md5", "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HexOf("sha256", "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexOf("sha512", "abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(HexOf("blake2b", "abc"),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
}

TEST(Digest, EmptyInput) {
  EXPECT_EQ(HexOf("sha256", ""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexOf("md5", ""), "d41d8cd98f00b204e9800998ecf8427e");
}

// XXH3-128 in its canonical (big-endian) hex, as `xxhsum -H2` prints it (Debian's xxhash).
TEST(Digest, Xxh3MatchesXxhsum) {
  ZSEND_REQUIRE(test::HaveProgram("xxhsum"), "xxhsum (Debian package xxhash)");
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 7 + (i >> 9)));
  for (const std::string& input : {std::string(), std::string("abc"), data}) {
    test::RunResult r = test::Run({"xxhsum", "-H2", "-"}, input);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(HexOf("xxh3", input), r.out.substr(0, 32)) << input.size() << " bytes";
  }
}

TEST(Digest, UpdatesInPiecesEqualOneUpdate) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 131 + (i >> 7)));
  for (const char* name : {"md5", "sha256", "sha512", "blake2b", "xxh3"}) {
    Result<std::unique_ptr<Digest>> pieces = Digest::Create(name);
    ASSERT_TRUE(pieces.ok());
    EXPECT_EQ((*pieces)->name(), name);
    for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 3 % 9973 + 1) {
      (*pieces)->Update(data.data() + at, std::min(step, data.size() - at));
    }
    EXPECT_EQ((*pieces)->FinishHex(), HexOf(name, data)) << name;
  }
}

TEST(Digest, UnknownNameListsTheChoices) {
  Result<std::unique_ptr<Digest>> digest = Digest::Create("sha1");
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(digest.status().message().find("sha256"), std::string::npos);
  EXPECT_NE(digest.status().message().find("'sha1'"), std::string::npos);
}

}  // namespace
}  // namespace zsend
