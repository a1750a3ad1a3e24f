// Parsing and printing of sizes, rates and durations as users type them.
//
// Sizes: "4096", "64k", "256M", "1G", "2T" (binary multiples, case-insensitive, optional "B" or
// "iB"), or "N%" of physical memory when the caller allows it. Rates use the same suffixes and
// mean bytes per second. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace zsend {

struct SizeOptions {
  bool allow_percent_of_ram = false;  // accept "25%"
  uint64_t min = 0;                   // inclusive bounds
  uint64_t max = UINT64_MAX;
};

// Parses `text` as a byte count; `what` names the option in the error ("--memory").
Result<uint64_t> ParseSize(const std::string& text, const std::string& what,
                           const SizeOptions& options = {});

// Parses a percentage "0".."100" (an optional trailing "%" is accepted).
Result<double> ParsePercent(const std::string& text, const std::string& what);

// Parses seconds: "30", "1.5", "2m", "1h".
Result<double> ParseSeconds(const std::string& text, const std::string& what);

// Physical memory of this machine in bytes.
uint64_t PhysicalMemoryBytes();

// "1.50 GiB", "12.0 MiB", "512 B".
std::string FormatBytes(double bytes);
// "812 MiB/s".
std::string FormatRate(double bytes_per_second);
// "1:02:03" or "4:05".
std::string FormatDuration(double seconds);

}  // namespace zsend
