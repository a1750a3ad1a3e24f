// Codec specs: the --compress/--codec values both programs accept ("zstd:3", "gzip:6", "lz4",
// "none", "auto"), their formats and level ranges. Part of the contract between zsend and
// zsend-engine: zsend checks a --codec value with the same parser the engine uses, without
// linking the engine. Plain values and functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace zsend {

enum class CodecFormat { kNone, kZstd, kGzip, kLz4 };
const char* CodecFormatName(CodecFormat format);

struct LevelRange {
  int min = 0;
  int max = 0;
  int default_level = 0;
};
LevelRange LevelRangeOf(CodecFormat format);

// A parsed --compress value.
struct CodecSpec {
  CodecFormat format = CodecFormat::kNone;
  int level = 0;
  bool adaptive = false;  // "auto": zstd frames, level chosen while running
};

// Parses "zstd", "zstd:3", "zstd:-5", "gzip:6", "zlib:6" (an alias of gzip), "lz4", "none",
// "auto". The error is one line listing the valid specs.
Result<CodecSpec> ParseCodecSpec(std::string_view text);
// "zstd:3", "gzip:6", "lz4", "none", "auto".
std::string CodecSpecName(const CodecSpec& spec);

}  // namespace zsend
