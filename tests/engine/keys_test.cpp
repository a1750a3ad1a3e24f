// Key text, key files (modes) and authorized-keys parsing.
#include "engine/crypto/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace zsend {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "zsend-keys-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(KeysText, PublicKeyRoundTripsThroughItsTextForm) {
  const noise::KeyPair pair = noise::KeyPair::Generate();
  const std::string text = FormatPublicKey(pair.public_key);
  EXPECT_EQ(text.rfind("zsend1:", 0), 0u);
  EXPECT_EQ(text.size(), 7u + 44u);
  Result<noise::PublicKey> parsed = ParsePublicKey(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(*parsed, pair.public_key);
}

TEST(KeysText, MalformedPublicKeysAreRejected) {
  const std::string good = FormatPublicKey(noise::KeyPair::Generate().public_key);
  const std::string body = good.substr(7);
  for (const std::string& bad :
       {std::string(""), body, "zsend2:" + body, "zsend1:" + body.substr(1), good + "A",
        "zsend1:" + std::string(43, '!') + "=", good + " ",
        "zsend1:" + std::string(44, 'A')}) {  // 44 'A's decode to 33 bytes: wrong length
    Result<noise::PublicKey> parsed = ParsePublicKey(bad);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
}

TEST(KeysFile, PrivateKeyIsWrittenWithMode0600EvenUnderAPermissiveUmask) {
  TempDir dir;
  const noise::KeyPair pair = noise::KeyPair::Generate();
  const mode_t old_umask = ::umask(0);
  Status written = WritePrivateKeyFile(dir / "id", pair, false);
  Status written_pub = WritePublicKeyFile(dir / "id.pub", pair.public_key, false);
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.message();
  ASSERT_TRUE(written_pub.ok()) << written_pub.message();
  EXPECT_EQ(ModeOf(dir / "id"), 0600u);
  EXPECT_EQ(ModeOf(dir / "id.pub"), 0644u);
  EXPECT_EQ(ReadAll(dir / "id.pub"), FormatPublicKey(pair.public_key) + "\n");
  Result<noise::KeyPair> loaded = LoadPrivateKeyFile(dir / "id");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->public_key, pair.public_key);
  EXPECT_EQ(0, std::memcmp(loaded->private_key.data(), pair.private_key.data(), 32));
}

TEST(KeysFile, ExistingFileIsKeptUnlessOverwriteIsAsked) {
  TempDir dir;
  const noise::KeyPair first = noise::KeyPair::Generate(), second = noise::KeyPair::Generate();
  ASSERT_TRUE(WritePrivateKeyFile(dir / "id", first, false).ok());
  const std::string before = ReadAll(dir / "id");
  EXPECT_EQ(WritePrivateKeyFile(dir / "id", second, false).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadAll(dir / "id"), before);
  ASSERT_EQ(::chmod((dir / "id").c_str(), 0644), 0);
  ASSERT_TRUE(WritePrivateKeyFile(dir / "id", second, true).ok());
  EXPECT_EQ(ModeOf(dir / "id"), 0600u);  // replaced, not rewritten in place
  Result<noise::KeyPair> loaded = LoadPrivateKeyFile(dir / "id");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->public_key, second.public_key);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / ""),
                          std::filesystem::directory_iterator()),
            1);  // no temporary file left behind
}

TEST(KeysFile, KeyOpenToGroupOrOthersIsRefusedWithTheFix) {
  TempDir dir;
  ASSERT_TRUE(WritePrivateKeyFile(dir / "id", noise::KeyPair::Generate(), false).ok());
  for (mode_t mode : {0640, 0604, 0660, 0610}) {
    ASSERT_EQ(::chmod((dir / "id").c_str(), mode), 0);
    Result<noise::KeyPair> loaded = LoadPrivateKeyFile(dir / "id");
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
    const std::string& message = loaded.status().message();
    char mode_text[8];
    std::snprintf(mode_text, sizeof(mode_text), "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(message.find(dir / "id"), std::string::npos) << message;
    EXPECT_NE(message.find(mode_text), std::string::npos) << message;
    EXPECT_NE(message.find("chmod 600 " + (dir / "id")), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos);
  }
  ASSERT_EQ(::chmod((dir / "id").c_str(), 0400), 0);
  EXPECT_TRUE(LoadPrivateKeyFile(dir / "id").ok());
}

TEST(KeysFile, GarbageAndMissingFilesAreClearErrors) {
  TempDir dir;
  {
    std::ofstream out(dir / "garbage");
    out << "not a key\n";
  }
  ASSERT_EQ(::chmod((dir / "garbage").c_str(), 0600), 0);
  EXPECT_EQ(LoadPrivateKeyFile(dir / "garbage").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadPrivateKeyFile(dir / "missing").status().code(), StatusCode::kNotFound);
}

TEST(KeysAuthorized, ParsesCommentsBlankLinesAndTrailingComments) {
  const noise::PublicKey a = noise::KeyPair::Generate().public_key;
  const noise::PublicKey b = noise::KeyPair::Generate().public_key;
  const std::string text = "# backup senders\n\n   \n" + FormatPublicKey(a) + "\n  " +
                           FormatPublicKey(b) + "   nas-2 (rack 4)\r\n# end";
  Result<AuthorizedKeys> keys = AuthorizedKeys::Parse(text, "authorized");
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  ASSERT_EQ(keys->entries().size(), 2u);
  EXPECT_EQ(keys->entries()[0].comment, "");
  EXPECT_EQ(keys->entries()[0].line, 4);
  EXPECT_EQ(keys->entries()[1].comment, "nas-2 (rack 4)");
  EXPECT_EQ(keys->entries()[1].line, 5);
  ASSERT_NE(keys->Find(b), nullptr);
  EXPECT_EQ(keys->Find(b)->comment, "nas-2 (rack 4)");
  EXPECT_EQ(keys->Find(noise::KeyPair::Generate().public_key), nullptr);
}

TEST(KeysAuthorized, BadLineIsAnErrorNamingItsLine) {
  const std::string good = FormatPublicKey(noise::KeyPair::Generate().public_key);
  Result<AuthorizedKeys> keys =
      AuthorizedKeys::Parse("# ok\n" + good + "\nssh-ed25519 AAAA... user@host\n", "keys.txt");
  ASSERT_FALSE(keys.ok());
  EXPECT_EQ(keys.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys.status().message().rfind("keys.txt:3: ", 0), 0u) << keys.status().message();
  EXPECT_NE(keys.status().message().find("ssh-ed25519"), std::string::npos);
}

TEST(KeysAuthorized, LoadFileReadsAFileAndReportsAMissingOne) {
  TempDir dir;
  const noise::PublicKey a = noise::KeyPair::Generate().public_key;
  {
    std::ofstream out(dir / "authorized");
    out << FormatPublicKey(a) << " host-a\n";
  }
  Result<AuthorizedKeys> keys = AuthorizedKeys::LoadFile(dir / "authorized");
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_NE(keys->Find(a), nullptr);
  Result<AuthorizedKeys> missing = AuthorizedKeys::LoadFile(dir / "nope");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir / "nope"), std::string::npos);
}

// LoadKeys: the one place send, recv and bench read their --key, --peer, --authorized-keys and
// --authorize flags.
TEST(KeysLoad, EveryFlagIsReadAndAnErrorNamesItsFlag) {
  TempDir dir;
  const noise::KeyPair mine = noise::KeyPair::Generate();
  const noise::PublicKey peer = noise::KeyPair::Generate().public_key;
  const noise::PublicKey listed = noise::KeyPair::Generate().public_key;
  const noise::PublicKey extra = noise::KeyPair::Generate().public_key;
  ASSERT_TRUE(WritePrivateKeyFile(dir / "key", mine, false).ok());
  {
    std::ofstream out(dir / "authorized");
    out << FormatPublicKey(listed) << " host-a\n";
  }
  Result<LoadedKeys> keys =
      LoadKeys({dir / "key", FormatPublicKey(peer), dir / "authorized", {FormatPublicKey(extra)}});
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(FormatPublicKey(keys->local.public_key), FormatPublicKey(mine.public_key));
  ASSERT_TRUE(keys->peer.has_value());
  EXPECT_EQ(FormatPublicKey(*keys->peer), FormatPublicKey(peer));
  EXPECT_NE(keys->authorized.Find(listed), nullptr);
  ASSERT_NE(keys->authorized.Find(extra), nullptr);
  EXPECT_EQ(keys->authorized.Find(extra)->comment, "--authorize");

  Result<LoadedKeys> fresh = LoadKeys({});  // no --key: a fresh key, nobody else
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_FALSE(fresh->peer.has_value());
  EXPECT_TRUE(fresh->authorized.entries().empty());

  Result<LoadedKeys> bad_peer = LoadKeys({"", "zsend1:garbage", "", {}});
  EXPECT_EQ(bad_peer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_peer.status().message().find("--peer"), std::string::npos);
  Result<LoadedKeys> bad_authorize = LoadKeys({"", "", "", {"nonsense"}});
  EXPECT_NE(bad_authorize.status().message().find("--authorize"), std::string::npos);
  Result<LoadedKeys> missing_key = LoadKeys({dir / "nope", "", "", {}});
  EXPECT_FALSE(missing_key.ok());
}

}  // namespace
}  // namespace zsend
