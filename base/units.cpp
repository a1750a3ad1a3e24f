#include "base/units.h"

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>

namespace zsend {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits "12.5Mib" into 12.5 and "mib". Returns false when there is no leading number.
bool SplitNumber(const std::string& text, double* number, std::string* suffix) {
  size_t used = 0;
  try {
    *number = std::stod(text, &used);
  } catch (...) {
    return false;
  }
  if (used == 0 || !std::isfinite(*number)) return false;
  *suffix = Lower(text.substr(used));
  return true;
}

}  // namespace

Result<uint64_t> ParseSize(const std::string& text, const std::string& what,
                           const SizeOptions& options) {
  const std::string hint = what + " takes a size such as 4096, 64k, 256M or 2G" +
                           (options.allow_percent_of_ram ? " or 25%" : "") + ", got '" + text + "'";
  double number = 0;
  std::string suffix;
  if (text.empty() || !SplitNumber(text, &number, &suffix) || number < 0) {
    return InvalidArgument(hint);
  }
  double multiplier = 1;
  if (suffix == "%") {
    if (!options.allow_percent_of_ram || number > 100) return InvalidArgument(hint);
    multiplier = static_cast<double>(PhysicalMemoryBytes()) / 100.0;
  } else {
    if (suffix.size() >= 2 && suffix.substr(suffix.size() - 2) == "ib") {
      suffix.resize(suffix.size() - 2);
    } else if (!suffix.empty() && suffix.back() == 'b') {
      suffix.pop_back();
    }
    if (suffix.empty())
      multiplier = 1;
    else if (suffix == "k")
      multiplier = 1024.0;
    else if (suffix == "m")
      multiplier = 1024.0 * 1024;
    else if (suffix == "g")
      multiplier = 1024.0 * 1024 * 1024;
    else if (suffix == "t")
      multiplier = 1024.0 * 1024 * 1024 * 1024;
    else
      return InvalidArgument(hint);
  }
  double bytes = std::floor(number * multiplier);
  if (bytes >= 18446744073709551615.0)
    return InvalidArgument(what + " is too large: '" + text + "'");
  auto value = static_cast<uint64_t>(bytes);
  if (value < options.min || value > options.max) {
    return InvalidArgument(what + " must be between " +
                           FormatBytes(static_cast<double>(options.min)) + " and " +
                           FormatBytes(static_cast<double>(options.max)) + ", got '" + text + "'");
  }
  return value;
}

Result<double> ParsePercent(const std::string& text, const std::string& what) {
  double number = 0;
  std::string suffix;
  if (!SplitNumber(text, &number, &suffix) || (suffix != "" && suffix != "%") || number < 0 ||
      number > 100) {
    return InvalidArgument(what + " takes a percentage from 0 to 100, got '" + text + "'");
  }
  return number;
}

Result<double> ParseSeconds(const std::string& text, const std::string& what) {
  double number = 0;
  std::string suffix;
  if (!SplitNumber(text, &number, &suffix) || number < 0) {
    return InvalidArgument(what + " takes a duration in seconds (30, 1.5, 2m, 1h), got '" + text +
                           "'");
  }
  if (suffix.empty() || suffix == "s") return number;
  if (suffix == "m") return number * 60;
  if (suffix == "h") return number * 3600;
  return InvalidArgument(what + " takes a duration in seconds (30, 1.5, 2m, 1h), got '" + text +
                         "'");
}

uint64_t PhysicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES);
  long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

std::string FormatBytes(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  char out[32];
  if (unit == 0)
    std::snprintf(out, sizeof out, "%.0f %s", bytes, kUnits[unit]);
  else if (bytes < 10)
    std::snprintf(out, sizeof out, "%.2f %s", bytes, kUnits[unit]);
  else if (bytes < 100)
    std::snprintf(out, sizeof out, "%.1f %s", bytes, kUnits[unit]);
  else
    std::snprintf(out, sizeof out, "%.0f %s", bytes, kUnits[unit]);
  return out;
}

std::string FormatRate(double bytes_per_second) {
  return FormatBytes(bytes_per_second) + "/s";
}

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto total = static_cast<long long>(seconds + 0.5);
  char out[32];
  if (total >= 3600) {
    std::snprintf(out, sizeof out, "%lld:%02lld:%02lld", total / 3600, (total / 60) % 60,
                  total % 60);
  } else {
    std::snprintf(out, sizeof out, "%lld:%02lld", total / 60, total % 60);
  }
  return out;
}

}  // namespace zsend
