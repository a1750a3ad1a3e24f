#include "engine/crypto/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/unique_fd.h"

namespace zsend {
namespace {

constexpr size_t kBase64KeyLen = 44;       // 32 bytes, padded
constexpr size_t kMaxKeyFileBytes = 4096;  // a key file is one short line

std::string Base64(noise::ByteSpan bytes) {
  noise::EnsureSodiumInitialized();
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Decodes exactly 32 bytes from exactly kBase64KeyLen characters.
bool DecodeKey32(std::string_view base64, uint8_t out[32]) {
  noise::EnsureSodiumInitialized();
  if (base64.size() != kBase64KeyLen) return false;
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out, 32, base64.data(), base64.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return false;
  }
  return len == 32 && end == base64.data() + base64.size();
}

std::string ModeText(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

Status WriteAll(int fd, const std::string& content, const std::string& path) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot write " + path, errno);
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return ErrnoStatus("cannot sync " + path, errno);
  return Status::Ok();
}

// Creates `path` with exactly `mode` (not subject to the umask) holding `content`.
Status WriteKeyFile(const std::string& path, const std::string& content, mode_t mode,
                    bool overwrite) {
  if (!overwrite) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid() && errno == EEXIST) return FailedPrecondition(path + " already exists");
    if (!fd.valid()) return ErrnoStatus("cannot create " + path, errno);
    if (::fchmod(fd.get(), mode) != 0) return ErrnoStatus("cannot chmod " + path, errno);
    Status written = WriteAll(fd.get(), content, path);
    if (!written.ok()) ::unlink(path.c_str());
    return written;
  }
  // Replace atomically: a temporary file beside it (mkstemp makes it 0600), then rename.
  std::string temp = path + ".tmp.XXXXXX";
  UniqueFd fd(::mkstemp(temp.data()));
  if (!fd.valid()) return ErrnoStatus("cannot create a temporary file beside " + path, errno);
  Status status = ::fchmod(fd.get(), mode) == 0 ? WriteAll(fd.get(), content, path)
                                                : ErrnoStatus("cannot chmod " + temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot replace " + path, errno);
  }
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

Result<std::string> ReadSmallFile(int fd, const std::string& path) {
  std::string content;
  char buffer[1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read " + path, errno);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > kMaxKeyFileBytes) {
      sodium_memzero(content.data(), content.size());
      return InvalidArgument(path + " is too large for a zsend key file");
    }
  }
  sodium_memzero(buffer, sizeof(buffer));
  return content;
}

std::string_view Trim(std::string_view text) {
  const char* kSpace = " \t\r\n";
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

}  // namespace

std::string FormatPublicKey(const noise::PublicKey& key) {
  return std::string(kPublicKeyPrefix) + Base64(key);
}

Result<noise::PublicKey> ParsePublicKey(std::string_view text) {
  noise::PublicKey key;
  if (text.substr(0, kPublicKeyPrefix.size()) != kPublicKeyPrefix ||
      !DecodeKey32(text.substr(kPublicKeyPrefix.size()), key.data())) {
    return InvalidArgument("'" + std::string(text.substr(0, 80)) +
                           "' is not a zsend public key (expected zsend1: and 44 base64 "
                           "characters, as printed by 'zsend-engine keygen')");
  }
  return key;
}

Status WritePrivateKeyFile(const std::string& path, const noise::KeyPair& pair, bool overwrite) {
  std::string line = std::string(kPrivateKeyPrefix) + Base64(pair.private_key.span()) + "\n";
  Status status = WriteKeyFile(path, line, 0600, overwrite);
  sodium_memzero(line.data(), line.size());
  return status;
}

Status WritePublicKeyFile(const std::string& path, const noise::PublicKey& key, bool overwrite) {
  return WriteKeyFile(path, FormatPublicKey(key) + "\n", 0644, overwrite);
}

Result<noise::KeyPair> LoadPrivateKeyFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("cannot open private key " + path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument("private key " + path + " is not a file");
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition("private key " + path + " has mode " + ModeText(st.st_mode) +
                              " and is open to group or others; run 'chmod 600 " + path + "'");
  }
  Result<std::string> content = ReadSmallFile(fd.get(), path);
  if (!content.ok()) return content.status();
  std::string_view text = Trim(*content);
  noise::PrivateKey private_key;
  const bool valid = text.substr(0, kPrivateKeyPrefix.size()) == kPrivateKeyPrefix &&
                     DecodeKey32(text.substr(kPrivateKeyPrefix.size()), private_key.data());
  sodium_memzero(content->data(), content->size());
  if (!valid) {
    return InvalidArgument(path + " is not a zsend private key (expected one line " +
                           std::string(kPrivateKeyPrefix) + "<base64>, as written by keygen)");
  }
  return noise::KeyPair::FromPrivate(private_key);
}

Result<AuthorizedKeys> AuthorizedKeys::Parse(std::string_view text,
                                             const std::string& source_name) {
  AuthorizedKeys keys;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    size_t newline = text.find('\n');
    std::string_view line = Trim(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find_first_of(" \t");
    std::string_view key_text = line.substr(0, space);
    Result<noise::PublicKey> key = ParsePublicKey(key_text);
    if (!key.ok()) {
      return key.status().WithContext(source_name + ":" + std::to_string(line_number));
    }
    std::string_view comment = space == std::string_view::npos ? "" : Trim(line.substr(space));
    keys.entries_.push_back({*key, std::string(comment), line_number});
  }
  return keys;
}

Result<AuthorizedKeys> AuthorizedKeys::LoadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("cannot open authorized keys " + path, errno);
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("cannot read authorized keys " + path, errno);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return Parse(content, path);
}

void AuthorizedKeys::Add(const noise::PublicKey& key, std::string comment) {
  entries_.push_back({key, std::move(comment), 0});
}

const AuthorizedKey* AuthorizedKeys::Find(const noise::PublicKey& key) const {
  for (const AuthorizedKey& entry : entries_) {
    if (sodium_memcmp(entry.key.data(), key.data(), key.size()) == 0) return &entry;
  }
  return nullptr;
}

Result<LoadedKeys> LoadKeys(const KeySources& sources) {
  LoadedKeys keys;
  if (!sources.key_file.empty()) {
    Result<noise::KeyPair> pair = LoadPrivateKeyFile(sources.key_file);
    if (!pair.ok()) return pair.status();
    keys.local = *pair;
  } else {
    keys.local = noise::KeyPair::Generate();
  }
  if (!sources.peer.empty()) {
    Result<noise::PublicKey> peer = ParsePublicKey(sources.peer);
    if (!peer.ok()) return peer.status().WithContext("--peer");
    keys.peer = *peer;
  }
  if (!sources.authorized_keys_file.empty()) {
    Result<AuthorizedKeys> authorized = AuthorizedKeys::LoadFile(sources.authorized_keys_file);
    if (!authorized.ok()) return authorized.status();
    keys.authorized = *authorized;
  }
  for (const std::string& text : sources.authorize) {
    Result<noise::PublicKey> key = ParsePublicKey(text);
    if (!key.ok()) return key.status().WithContext("--authorize");
    keys.authorized.Add(*key, "--authorize");
  }
  return keys;
}

}  // namespace zsend
