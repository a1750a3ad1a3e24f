#include "base/codec_spec.h"

#include <charconv>
#include <cstring>

namespace zsend {
namespace {

constexpr const char* kValidSpecs =
    "valid: none, auto, zstd[:LEVEL] (-5..19, default 1), gzip[:LEVEL] or zlib[:LEVEL] (1..9, "
    "default 6), lz4";

Status BadSpec(std::string_view text, const std::string& why) {
  return InvalidArgument("--compress '" + std::string(text) + "': " + why + "; " + kValidSpecs);
}

}  // namespace

const char* CodecFormatName(CodecFormat format) {
  switch (format) {
    case CodecFormat::kNone:
      return "none";
    case CodecFormat::kZstd:
      return "zstd";
    case CodecFormat::kGzip:
      return "gzip";
    case CodecFormat::kLz4:
      return "lz4";
  }
  return "?";
}

LevelRange LevelRangeOf(CodecFormat format) {
  switch (format) {
    case CodecFormat::kZstd:
      return {-5, 19, 1};
    case CodecFormat::kGzip:
      return {1, 9, 6};
    case CodecFormat::kLz4:
    case CodecFormat::kNone:
      break;
  }
  return {0, 0, 0};
}

Result<CodecSpec> ParseCodecSpec(std::string_view text) {
  std::string_view name = text;
  std::string_view level_text;
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    name = text.substr(0, colon);
    level_text = text.substr(colon + 1);
  }
  CodecSpec spec;
  if (name == "none") {
    spec.format = CodecFormat::kNone;
  } else if (name == "auto") {
    spec.format = CodecFormat::kZstd;
    spec.adaptive = true;
    spec.level = LevelRangeOf(CodecFormat::kZstd).default_level;
  } else if (name == "zstd") {
    spec.format = CodecFormat::kZstd;
  } else if (name == "gzip" || name == "zlib") {
    spec.format = CodecFormat::kGzip;
  } else if (name == "lz4") {
    spec.format = CodecFormat::kLz4;
  } else {
    return BadSpec(text, "unknown codec");
  }
  const LevelRange range = LevelRangeOf(spec.format);
  if (!spec.adaptive) spec.level = range.default_level;
  if (text.find(':') != std::string_view::npos) {
    if (spec.adaptive || range.min == range.max) {
      return BadSpec(text, std::string(name) + " takes no level");
    }
    int level = 0;
    const char* first = level_text.data();
    const char* last = first + level_text.size();
    auto [end, error] = std::from_chars(first, last, level);
    if (level_text.empty() || error != std::errc() || end != last) {
      return BadSpec(text, "level is not a number");
    }
    if (level < range.min || level > range.max) {
      return BadSpec(text, "level out of range " + std::to_string(range.min) + ".." +
                               std::to_string(range.max));
    }
    spec.level = level;
  }
  return spec;
}

std::string CodecSpecName(const CodecSpec& spec) {
  if (spec.adaptive) return "auto";
  const LevelRange range = LevelRangeOf(spec.format);
  std::string name = CodecFormatName(spec.format);
  if (range.min != range.max) name += ":" + std::to_string(spec.level);
  return name;
}

}  // namespace zsend
