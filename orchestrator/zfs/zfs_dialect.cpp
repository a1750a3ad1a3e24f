#include "orchestrator/zfs/zfs_dialect.h"

#include <cctype>
#include <sstream>

namespace zsend::orchestrator {
namespace {

bool IsIndented(const std::string& line) {
  return !line.empty() && (line[0] == '\t');
}

// Adds every flag letter of one usage line: "[-DLPbc]", "[-i|-I snapshot]", "-t <token>",
// "[-[iI] snapshot]", "[-d | -e]". Long options ("--redact") are ignored.
void CollectFlags(const std::string& line, std::set<char>& flags) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '-') continue;
    char before = i == 0 ? ' ' : line[i - 1];
    if (before != '[' && before != ' ' && before != '|' && before != '\t') continue;
    size_t j = i + 1;
    if (j < line.size() && line[j] == '[') ++j;  // "-[iI]"
    while (j < line.size() && std::isalpha(static_cast<unsigned char>(line[j]))) {
      flags.insert(line[j]);
      ++j;
    }
  }
}

bool Has(const std::map<std::string, std::set<char>>& flags, const std::string& command,
         char flag) {
  auto it = flags.find(command);
  return it != flags.end() && it->second.count(flag) > 0;
}

}  // namespace

ZfsDialect ZfsDialect::OpenZfs() {
  ZfsDialect d;
  d.family = "openzfs";
  d.list_parsable = d.get_types = d.snapshot_multiple = d.destroy_batched = true;
  d.holds_list = d.bookmarks = d.recv_unmounted = d.recv_resumable = true;
  d.recv_set_properties = d.recv_exclude_properties = true;
  d.send_raw = d.send_compressed = d.send_large_blocks = d.send_embedded = true;
  d.send_parsable = true;
  return d;
}

ZfsDialect ZfsDialect::Legacy() {
  ZfsDialect d;
  d.family = "legacy";
  return d;
}

std::map<std::string, std::set<char>> ParseUsageFlags(const std::string& usage) {
  std::map<std::string, std::set<char>> flags;
  std::string current, alias;
  size_t start = 0;
  while (start < usage.size()) {
    size_t end = usage.find('\n', start);
    if (end == std::string::npos) end = usage.size();
    std::string line = usage.substr(start, end - start);
    start = end + 1;
    if (!IsIndented(line)) {
      current.clear();
      continue;
    }
    // "\tsend [-DLP...]" starts a command; "\t    [-S property]..." continues the previous one.
    if (line.size() > 1 && std::isalpha(static_cast<unsigned char>(line[1]))) {
      size_t word_end = line.find_first_of(" \t", 1);
      current = line.substr(1, word_end == std::string::npos ? std::string::npos : word_end - 1);
      // "snapshot|snap" names one command twice: both names get its flags.
      if (size_t bar = current.find('|'); bar != std::string::npos) {
        alias = current.substr(bar + 1);
        current = current.substr(0, bar);
      } else {
        alias.clear();
      }
      flags[current];
      // The word itself is not a flag; only what follows it.
      line = word_end == std::string::npos ? std::string() : line.substr(word_end);
    }
    if (!current.empty()) CollectFlags(line, flags[current]);
    if (!alias.empty()) flags[alias] = flags[current];
  }
  return flags;
}

Result<ZfsDialect> DialectFromUsage(const std::string& usage) {
  std::map<std::string, std::set<char>> flags = ParseUsageFlags(usage);
  if (!flags.count("send") || !flags.count("list") || !flags.count("snapshot")) {
    return FailedPrecondition(
        "the zfs command's usage text lists no send/list/snapshot commands; is this ZFS?");
  }
  ZfsDialect d;
  d.list_parsable = Has(flags, "list", 'p');
  d.get_types = Has(flags, "get", 't');
  d.destroy_batched = usage.find("@<snap>[%<snap>][,...]") != std::string::npos;
  d.holds_list = Has(flags, "holds", 'H');
  d.bookmarks = flags.count("bookmark") > 0;
  d.recv_unmounted = Has(flags, "receive", 'u') || Has(flags, "recv", 'u');
  d.recv_resumable =
      (Has(flags, "receive", 's') || Has(flags, "recv", 's')) && Has(flags, "send", 't');
  d.recv_set_properties = Has(flags, "receive", 'o') || Has(flags, "recv", 'o');
  d.recv_exclude_properties = Has(flags, "receive", 'x') || Has(flags, "recv", 'x');
  d.send_raw = Has(flags, "send", 'w');
  d.send_compressed = Has(flags, "send", 'c');
  d.send_large_blocks = Has(flags, "send", 'L');
  d.send_embedded = Has(flags, "send", 'e');
  d.send_parsable = Has(flags, "send", 'P');
  // Several names per snapshot call: the usage ends the snapshot line with "...".
  size_t snapshot_line = usage.find("\tsnapshot");
  if (snapshot_line != std::string::npos) {
    size_t line_end = usage.find('\n', snapshot_line);
    std::string line = usage.substr(snapshot_line, line_end - snapshot_line);
    d.snapshot_multiple = line.find("<snap> ...") != std::string::npos ||
                          line.find("snapname> ...") != std::string::npos;
  }
  d.family = d.list_parsable && d.recv_resumable ? "openzfs" : "legacy";
  return d;
}

uint64_t ParseSendEstimate(const std::string& text) {
  uint64_t size = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("size\t", 0) != 0) continue;
    const std::string digits = line.substr(5);
    if (digits.empty() || digits.size() > 19 ||
        digits.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    size = std::stoull(digits);
  }
  return size;
}

Result<std::vector<std::string>> BuildSendArgv(const ZfsDialect& dialect, const SendSpec& spec) {
  std::vector<std::string> argv = {"zfs", "send"};
  if (!spec.resume_token.empty()) {
    if (!dialect.recv_resumable) {
      return FailedPrecondition("this zfs (" + dialect.family + ") cannot resume a send (-t)");
    }
    if (spec.parsable_progress && dialect.send_parsable) argv.push_back("-P");
    argv.insert(argv.end(), {"-t", spec.resume_token});
    return argv;
  }
  if (spec.snapshot.find('@') == std::string::npos) {
    return InvalidArgument("zfs send needs a snapshot, got '" + spec.snapshot + "'");
  }
  if (spec.raw) {
    if (!dialect.send_raw) {
      return FailedPrecondition("this zfs (" + dialect.family + ") cannot send raw streams (-w)");
    }
    argv.push_back("-w");
  }
  if (spec.replicate) argv.push_back("-R");
  if (spec.properties) argv.push_back("-p");
  if (spec.large_blocks && dialect.send_large_blocks) argv.push_back("-L");
  if (spec.embedded && dialect.send_embedded) argv.push_back("-e");
  if (spec.compressed && dialect.send_compressed && !spec.raw) argv.push_back("-c");
  if (spec.parsable_progress && dialect.send_parsable) argv.push_back("-P");
  if (!spec.from.empty()) argv.insert(argv.end(), {spec.intermediates ? "-I" : "-i", spec.from});
  argv.push_back(spec.snapshot);
  return argv;
}

RecvCommand BuildRecvCommand(const ZfsDialect& dialect, const RecvSpec& spec) {
  RecvCommand command;
  command.argv = {"zfs", "receive"};
  if (spec.force) command.argv.push_back("-F");
  if (spec.unmounted && dialect.recv_unmounted) command.argv.push_back("-u");
  if (spec.resumable && dialect.recv_resumable) command.argv.push_back("-s");
  std::vector<std::pair<std::string, std::string>> settings = spec.set_properties;
  if (spec.clear_mountpoint) settings.emplace_back("canmount", "noauto");
  if (spec.readonly) settings.emplace_back("readonly", "on");
  if (spec.clear_refreservation) settings.emplace_back("refreservation", "none");
  for (const auto& [property, value] : settings) {
    if (dialect.recv_set_properties) {
      command.argv.insert(command.argv.end(), {"-o", property + "=" + value});
    } else {
      command.set_after.emplace_back(property, value);
    }
  }
  for (const std::string& property : spec.filter_properties) {
    if (dialect.recv_exclude_properties) {
      command.argv.insert(command.argv.end(), {"-x", property});
    } else {
      command.inherit_after.push_back(property);
    }
  }
  command.argv.push_back(spec.target);
  return command;
}

}  // namespace zsend::orchestrator
