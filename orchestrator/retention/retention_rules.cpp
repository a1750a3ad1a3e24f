#include "orchestrator/retention/retention_rules.h"

#include <cctype>

namespace zsend::orchestrator {
namespace {

struct Unit {
  const char* name;
  double seconds;
  const char* word;
};

// zfs_autobackup's table: a month is 30 days, a year 365.25 days.
constexpr Unit kUnits[] = {
    {"y", 3600 * 24 * 365.25, "year"},
    {"m", 3600 * 24 * 30, "month"},
    {"w", 3600 * 24 * 7, "week"},
    {"d", 3600 * 24, "day"},
    {"h", 3600, "hour"},
    {"min", 60, "minute"},
    {"s", 1, "second"},
};

const Unit* FindUnit(const std::string& name) {
  for (const Unit& unit : kUnits) {
    if (name == unit.name) return &unit;
  }
  return nullptr;
}

bool AllDigits(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Splits "12d" -> {12, "d"} starting at *pos; advances *pos past the unit letters.
bool ReadAmountAndUnit(const std::string& text, size_t* pos, long* amount, std::string* unit) {
  size_t start = *pos;
  while (*pos < text.size() && std::isdigit(static_cast<unsigned char>(text[*pos]))) ++*pos;
  if (*pos == start || *pos - start > 9) return false;
  *amount = std::stol(text.substr(start, *pos - start));
  size_t unit_start = *pos;
  while (*pos < text.size() && std::isalpha(static_cast<unsigned char>(text[*pos]))) ++*pos;
  *unit = text.substr(unit_start, *pos - unit_start);
  return !unit->empty();
}

std::string Amount(long amount, const Unit& unit) {
  return std::to_string(amount) + " " + unit.word + (amount == 1 ? "" : "s");
}

Result<RetentionRule> ParseRule(const std::string& text, const std::string& what) {
  const std::string usage = what + ": bad thinning rule '" + text +
                            "'; write <period><ttl> like 1d1w (units s, min, h, d, w, m, y)";
  size_t pos = 0;
  long period_amount = 0, ttl_amount = 0;
  std::string period_unit, ttl_unit;
  if (!ReadAmountAndUnit(text, &pos, &period_amount, &period_unit) ||
      !ReadAmountAndUnit(text, &pos, &ttl_amount, &ttl_unit) || pos != text.size()) {
    return InvalidArgument(usage);
  }
  const Unit* period = FindUnit(period_unit);
  const Unit* ttl = FindUnit(ttl_unit);
  if (period == nullptr || ttl == nullptr) return InvalidArgument(usage);
  if (period_amount <= 0) {
    return InvalidArgument(what + ": the period of '" + text + "' must be at least 1");
  }
  RetentionRule rule;
  rule.period_seconds = static_cast<double>(period_amount) * period->seconds;
  rule.ttl_seconds = static_cast<double>(ttl_amount) * ttl->seconds;
  rule.text = text;
  if (rule.period_seconds > rule.ttl_seconds) {
    return InvalidArgument(what + ": the period of '" + text +
                           "' is longer than its ttl; write the period first, e.g. 1d1w");
  }
  return rule;
}

// zback's retention string "24h30d0w3m": 24 hourly, 30 daily, 0 weekly, 3 monthly. Read as
// such when it has three or more <count><unit> parts (two parts keep zfs_autobackup's meaning,
// "1d1w"); each count N of unit U becomes the rule "1U NU" (one per U for N of them).
bool ParseZbackRetention(const std::string& part, std::vector<RetentionRule>* rules) {
  size_t pos = 0;
  std::vector<std::pair<long, std::string>> parts;
  while (pos < part.size()) {
    long amount = 0;
    std::string unit;
    if (!ReadAmountAndUnit(part, &pos, &amount, &unit)) return false;
    if (unit != "h" && unit != "d" && unit != "w" && unit != "m" && unit != "y") return false;
    parts.emplace_back(amount, unit);
  }
  if (parts.size() < 3) return false;
  for (const auto& [amount, unit] : parts) {
    if (amount == 0) continue;
    RetentionRule rule;
    rule.period_seconds = FindUnit(unit)->seconds;
    rule.ttl_seconds = static_cast<double>(amount) * FindUnit(unit)->seconds;
    rule.text = "1" + unit + std::to_string(amount) + unit;
    rules->push_back(rule);
  }
  return true;
}

}  // namespace

std::string RetentionRule::Describe() const {
  size_t pos = 0;
  long period_amount = 0, ttl_amount = 0;
  std::string period_unit, ttl_unit;
  if (!ReadAmountAndUnit(text, &pos, &period_amount, &period_unit) ||
      !ReadAmountAndUnit(text, &pos, &ttl_amount, &ttl_unit)) {
    return "rule " + text;
  }
  return "keep one per " + Amount(period_amount, *FindUnit(period_unit)) + " for " +
         Amount(ttl_amount, *FindUnit(ttl_unit));
}

std::vector<std::string> RetentionSpec::Describe() const {
  std::vector<std::string> lines;
  if (keep_newest > 0) lines.push_back("keep the newest " + std::to_string(keep_newest));
  for (const RetentionRule& rule : rules) lines.push_back(rule.Describe());
  for (const auto& [tag, count] : keep_tags) {
    lines.push_back("keep the newest " + std::to_string(count) + " tagged " + tag);
  }
  if (lines.empty()) lines.push_back("keep only what is protected");
  return lines;
}

bool IsValidTag(const std::string& tag) {
  if (tag.empty() || tag.size() > 64) return false;
  for (char ch : tag) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-') return false;
  }
  return true;
}

std::vector<std::string> SplitTags(const std::string& text) {
  std::vector<std::string> tags;
  if (text == "-") return tags;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) tags.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return tags;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string text;
  for (const std::string& tag : tags) text += (text.empty() ? "" : ",") + tag;
  return text;
}

Result<std::map<std::string, int>> ParseTagKeeps(const std::string& text, const std::string& what) {
  const std::string usage = what + ": bad '" + text +
                            "'; write tag=count pairs separated by commas, e.g. daily=7,weekly=4";
  std::map<std::string, int> keeps;
  for (const std::string& part : SplitTags(text)) {
    const size_t eq = part.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == part.size() || eq + 7 < part.size()) {
      return InvalidArgument(usage);
    }
    if (!IsValidTag(part.substr(0, eq))) return InvalidArgument(usage);
    for (size_t i = eq + 1; i < part.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(part[i]))) return InvalidArgument(usage);
    }
    const int count = std::stoi(part.substr(eq + 1));
    if (count < 1) {
      return InvalidArgument(what + ": " + part +
                             ": keep at least 1 (leave the tag out to rotate it as untagged)");
    }
    if (!keeps.emplace(part.substr(0, eq), count).second) {
      return InvalidArgument(what + ": tag " + part.substr(0, eq) + " is given twice");
    }
  }
  if (keeps.empty()) return InvalidArgument(usage);
  return keeps;
}

Result<double> ParseThinningDuration(const std::string& text) {
  size_t pos = 0;
  long amount = 0;
  std::string unit;
  std::string lower = Lower(text);
  if (!ReadAmountAndUnit(lower, &pos, &amount, &unit) || pos != lower.size() ||
      FindUnit(unit) == nullptr) {
    return InvalidArgument("bad duration '" + text + "'; write e.g. 30min, 12h, 7d, 2w, 1m, 1y");
  }
  return static_cast<double>(amount) * FindUnit(unit)->seconds;
}

Result<RetentionSpec> ParseRetentionSpec(const std::string& text, const std::string& what) {
  RetentionSpec spec;
  spec.text = text;
  if (text.empty())
    return InvalidArgument(what + ": empty retention spec; write e.g. 5 or 10,1d1w");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part =
        Lower(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (part.empty()) return InvalidArgument(what + ": empty part in '" + text + "'");
    if (AllDigits(part)) {
      if (part.size() > 9) return InvalidArgument(what + ": count '" + part + "' is too large");
      spec.keep_newest = std::stoi(part);
    } else if (!ParseZbackRetention(part, &spec.rules)) {
      Result<RetentionRule> rule = ParseRule(part, what);
      if (!rule.ok()) return rule.status();
      spec.rules.push_back(*rule);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return spec;
}

}  // namespace zsend::orchestrator
