// zsend's Curve25519 identity keys: their text form, key files and authorized-keys lists.
//
// Text form of a public key (one line, safe in shells and JSON):
//   zsend1:<base64 of the 32-byte X25519 public key, standard alphabet, padded: 44 chars>
// A private key file holds one line "zsend1-private:<base64 of the 32-byte private key>" and
// must have no group or other permission bits (like ssh); Load refuses it otherwise. Its public
// key is always derived from it, never stored beside it. An authorized-keys file has one public
// key per line, optionally followed by whitespace and a comment; blank lines and lines starting
// with '#' are ignored; any other line that does not parse is an error naming its line number.
//
// Values only; all functions are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "engine/crypto/noise_crypto.h"

namespace zsend {

inline constexpr std::string_view kPublicKeyPrefix = "zsend1:";
inline constexpr std::string_view kPrivateKeyPrefix = "zsend1-private:";

std::string FormatPublicKey(const noise::PublicKey& key);
// Accepts exactly the text FormatPublicKey makes (surrounding whitespace is not trimmed).
Result<noise::PublicKey> ParsePublicKey(std::string_view text);

// Writes the private key file with mode 0600. Without `overwrite` an existing `path` is an
// error (kFailedPrecondition) and nothing is written; with it the file is replaced atomically.
Status WritePrivateKeyFile(const std::string& path, const noise::KeyPair& pair, bool overwrite);
// Writes "<public key text>\n" with mode 0644; same `overwrite` rule.
Status WritePublicKeyFile(const std::string& path, const noise::PublicKey& key, bool overwrite);
// Reads a private key file; kFailedPrecondition naming the file, its mode and the chmod that
// fixes it when group or others have any permission on it.
Result<noise::KeyPair> LoadPrivateKeyFile(const std::string& path);

struct AuthorizedKey {
  noise::PublicKey key{};
  std::string comment;  // text after the key on its line, may be empty
  int line = 0;         // 1-based line in the source, 0 when added by Add()
};

class AuthorizedKeys {
 public:
  // Parses authorized-keys text; errors read "SOURCE:LINE: ...".
  static Result<AuthorizedKeys> Parse(std::string_view text, const std::string& source_name);
  static Result<AuthorizedKeys> LoadFile(const std::string& path);

  void Add(const noise::PublicKey& key, std::string comment = {});
  // The entry for `key`, or nullptr when it is not authorized.
  const AuthorizedKey* Find(const noise::PublicKey& key) const;
  const std::vector<AuthorizedKey>& entries() const { return entries_; }

 private:
  std::vector<AuthorizedKey> entries_;
};

// The keys a program's flags name, all loaded by LoadKeys() (the one place that reads them).
struct KeySources {
  std::string key_file;                // --key: our private key file; empty: a fresh key
  std::string peer;                    // --peer: the public key the far side must have
  std::string authorized_keys_file;    // --authorized-keys: who may connect to us
  std::vector<std::string> authorize;  // --authorize: more such public keys, in text form
};

struct LoadedKeys {
  noise::KeyPair local;                  // from key_file, or generated
  std::optional<noise::PublicKey> peer;  // set when --peer was given
  AuthorizedKeys authorized;             // the file's entries, then each --authorize
};

// Reads every key `sources` names; the first error names its file, line or flag.
Result<LoadedKeys> LoadKeys(const KeySources& sources);

}  // namespace zsend
