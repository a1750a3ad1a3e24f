// The far-command grammar, written out by hand (no regex): each word is matched against the few
// shapes zsend itself sends, and anything else is refused. Refusing too much costs a clear error
// on the client; accepting too much would let a peer run `zfs destroy` or write outside its root.
//
// Dataset names are checked stricter than ZFS does (no '%', no "." or ".." components), so the
// lexical "at or below a root" test cannot be fooled by a name ZFS would read differently.
#include "engine/transfer/far_command.h"

#include <cstdint>
#include <cstdio>
#include <string_view>

namespace zsend {
namespace {

constexpr size_t kMaxNameBytes = 255;  // ZFS_MAX_DATASET_NAME_LEN - 1
constexpr size_t kMaxValueBytes = 1024;

Status Refused(const std::string& why) {
  return Status(StatusCode::kPermissionDenied, "refused: " + why);
}

// A word for a one-line message: quoted, control bytes escaped, long words shortened.
std::string Quote(std::string_view word) {
  std::string out = "'";
  for (const unsigned char c : word.substr(0, 80)) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    out += c < 0x20 || c == 0x7f ? std::string(hex) : std::string(1, static_cast<char>(c));
  }
  return out + (word.size() > 80 ? "...'" : "'");
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':' || c == ' ';
}
bool PropertyChar(char c) {
  return NameChar(c) && !(c >= 'A' && c <= 'Z') && c != ' ';
}

bool AllOf(std::string_view s, bool (*ok)(char)) {
  for (char c : s) {
    if (!ok(c)) return false;
  }
  return true;
}

bool ValidComponent(std::string_view part) {
  return !part.empty() && part != "." && part != ".." && AllOf(part, NameChar);
}

bool ValidProperty(std::string_view p) {
  return !p.empty() && p.size() <= kMaxNameBytes && AllOf(p, PropertyChar);
}

bool ValidDataset(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || name[0] == '-') return false;
  for (size_t start = 0;;) {
    const size_t slash = name.find('/', start);
    if (!ValidComponent(name.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// Equal to a root or inside it: "pool/b" covers "pool/b/x" but not "pool/bx".
bool Below(std::string_view dataset, const std::vector<std::string>& roots) {
  for (const std::string& root : roots) {
    if (dataset.substr(0, root.size()) == root &&
        (dataset.size() == root.size() || dataset[root.size()] == '/')) {
      return true;
    }
  }
  return false;
}

std::string NotBelow(const std::string& what, std::string_view word,
                     const std::vector<std::string>& roots) {
  std::string list;
  for (const std::string& root : roots) list += (list.empty() ? "" : ", ") + Quote(root);
  return what + " " + Quote(word) + " is not below " +
         (roots.size() == 1 ? "the served root " + list : "any served root (" + list + ")");
}

// A snapshot (or, with bookmark_ok, a bookmark) whose dataset is at or below a root.
Status CheckSnapshotName(std::string_view word, const std::vector<std::string>& roots,
                         const std::string& what, bool bookmark_ok) {
  const size_t mark = word.find_first_of(bookmark_ok ? "@#" : "@");
  const std::string_view dataset = word.substr(0, mark);
  if (mark == std::string_view::npos || word.size() > kMaxNameBytes || !ValidDataset(dataset) ||
      !ValidComponent(word.substr(mark + 1))) {
    return Refused(what + " " + Quote(word) + " is not a snapshot name");
  }
  if (!Below(dataset, roots)) return Refused(NotBelow(what, word, roots));
  return Status::Ok();
}

// Options up to the last word, which is the one operand. `zfs receive` may set (-o) or exclude
// (-x) properties; an origin it is given must itself lie under a root.
Status CheckReceive(const std::vector<std::string>& w, const std::vector<std::string>& roots) {
  const std::string cmd = "'zfs " + w[1] + "'";
  for (size_t i = 2; i + 1 < w.size(); ++i) {
    const std::string& word = w[i];
    if (word == "-o" || word == "-x") {
      if (i + 2 >= w.size()) {
        return Refused(cmd + " " + Quote(word) + " needs a property and a target");
      }
      const std::string& arg = w[++i];
      const size_t eq = arg.find('=');
      const std::string_view prop = word == "-o" ? std::string_view(arg).substr(0, eq) : arg;
      if ((word == "-o" && eq == std::string::npos) || !ValidProperty(prop)) {
        return Refused(cmd + " " + Quote(word + " " + arg) + " is not a property setting");
      }
      if (word == "-o") {
        const std::string_view value = std::string_view(arg).substr(eq + 1);
        if (value.size() > kMaxValueBytes || value.find('\n') != std::string_view::npos) {
          return Refused(cmd + " value of " + Quote(prop) + " is too long or has a newline");
        }
        if (prop == "origin") {
          ZSEND_RETURN_IF_ERROR(CheckSnapshotName(value, roots, cmd + " origin", false));
        }
        // Settings that would let a peer reach outside the served datasets on this host: a
        // mountpoint over a system path, sharing, setuid files or devices, a key file, and a
        // copy that mounts itself.
        static constexpr std::string_view kHostReaching[] = {"mountpoint", "sharenfs",   "sharesmb",
                                                             "setuid",     "devices",    "exec",
                                                             "zoned",      "keylocation"};
        for (std::string_view denied : kHostReaching) {
          if (prop == denied) {
            return Refused(cmd + " setting " + Quote(prop) +
                           " is not served (it reaches outside "
                           "the received datasets)");
          }
        }
        if (prop == "canmount" && value != "noauto" && value != "off") {
          return Refused(cmd + " canmount=" + Quote(value) + " is not served (only noauto, off)");
        }
      }
    } else if (word.empty() || word[0] != '-') {
      return Refused(cmd + " takes one target; " + Quote(word) + " is a second operand");
    } else if (word.size() < 2 || word.find_first_not_of("Fusv", 1) != std::string::npos) {
      return Refused(cmd + " option " + Quote(word) + " is not served (only -F -u -s -v -o -x)");
    }
  }
  const std::string& target = w.back();
  if (!ValidDataset(target)) {
    return Refused(cmd + " target " + Quote(target) + " is not a dataset name");
  }
  if (!Below(target, roots)) return Refused(NotBelow(cmd + " target", target, roots));
  return Status::Ok();
}

// `zfs send` of one snapshot, optionally incremental from a snapshot or bookmark under a root.
Status CheckSend(const std::vector<std::string>& w, const std::vector<std::string>& roots) {
  for (size_t i = 2; i + 1 < w.size(); ++i) {
    const std::string& word = w[i];
    if (word == "-i" || word == "-I") {
      if (i + 2 >= w.size()) {
        return Refused("'zfs send' " + Quote(word) + " needs a base and a snapshot");
      }
      const std::string& from = w[++i];
      if (from.size() > 1 && from[0] == '@' && ValidComponent(std::string_view(from).substr(1))) {
        continue;  // a snapshot of the dataset sent
      }
      ZSEND_RETURN_IF_ERROR(CheckSnapshotName(from, roots, "'zfs send' incremental base", true));
    } else if (word.empty() || word[0] != '-') {
      return Refused("'zfs send' takes one snapshot; " + Quote(word) + " is a second operand");
    } else if (word.find('t') != std::string::npos &&
               word.find_first_not_of("LcewpPRt", 1) == std::string::npos) {
      return Refused("resume tokens (-t) are not served; a token hides the dataset it names (" +
                     Quote(word) + ")");
    } else if (word.size() < 2 || word.find_first_not_of("LcewpPR", 1) != std::string::npos) {
      return Refused("'zfs send' option " + Quote(word) +
                     " is not served (only -L -c -e -w -p -P -R -i -I)");
    }
  }
  return CheckSnapshotName(w.back(), roots, "'zfs send' snapshot", false);
}

}  // namespace

std::string EncodeCommandWords(const std::vector<std::string>& words) {
  std::string out;
  auto put16 = [&out](size_t v) { out += {static_cast<char>(v >> 8), static_cast<char>(v)}; };
  put16(words.size());
  for (const std::string& word : words) {
    put16(word.size());
    out += word;
  }
  return out;
}

Result<std::vector<std::string>> DecodeCommandWords(const std::string& payload) {
  size_t at = 0;
  auto get16 = [&](size_t* v) {
    if (payload.size() - at < 2) return false;
    *v = static_cast<uint8_t>(payload[at]) * size_t{256} + static_cast<uint8_t>(payload[at + 1]);
    at += 2;
    return true;
  };
  size_t count = 0;
  if (!get16(&count)) return DataLoss("open frame: truncated word count");
  if (count == 0 || count > kMaxCommandWords) {
    return DataLoss("open frame: " + std::to_string(count) + " words (1 to " +
                    std::to_string(kMaxCommandWords) + " allowed)");
  }
  std::vector<std::string> words;
  for (size_t i = 0; i < count; ++i) {
    size_t length = 0;
    if (!get16(&length)) return DataLoss("open frame: truncated at word " + std::to_string(i));
    // Checked before the bytes are read, so a hostile length never sizes anything.
    if (length > kMaxCommandWordBytes) {
      return DataLoss("open frame: word " + std::to_string(i) + " is longer than " +
                      std::to_string(kMaxCommandWordBytes) + " bytes");
    }
    if (payload.size() - at < length) {
      return DataLoss("open frame: truncated in word " + std::to_string(i));
    }
    words.push_back(payload.substr(at, length));
    at += length;
    if (words.back().find('\0') != std::string::npos) {
      return DataLoss("open frame: word " + std::to_string(i) + " contains a NUL byte");
    }
  }
  if (at != payload.size()) return DataLoss("open frame: trailing bytes after the last word");
  return words;
}

bool IsValidDatasetName(const std::string& name) {
  return ValidDataset(name);
}

Result<std::vector<std::string>> CheckFarCommand(const std::vector<std::string>& words,
                                                 FarRole role,
                                                 const std::vector<std::string>& roots) {
  if (roots.empty()) return Refused("no root is served");
  for (const std::string& root : roots) {
    if (!ValidDataset(root)) return Refused("served root " + Quote(root) + " is not a dataset");
  }
  // execve would cut a word at a NUL: what ran would differ from what was checked.
  for (const std::string& word : words) {
    if (word.find('\0') != std::string::npos) return Refused(Quote(word) + " contains a NUL byte");
  }
  if (words.empty() || words[0] != "zfs") {
    return Refused("only zfs is run, not " + Quote(words.empty() ? "" : words[0]));
  }
  const bool receive = role == FarRole::kReceive;
  if (words.size() < 2 ||
      (receive ? words[1] != "receive" && words[1] != "recv" : words[1] != "send")) {
    return Refused("only 'zfs " + std::string(receive ? "receive" : "send") + "' is served, not " +
                   Quote(words.size() < 2 ? "zfs" : "zfs " + words[1]));
  }
  if (words.size() < 3) return Refused("'zfs " + words[1] + "' has no operand");
  ZSEND_RETURN_IF_ERROR(receive ? CheckReceive(words, roots) : CheckSend(words, roots));
  return words;
}

}  // namespace zsend
