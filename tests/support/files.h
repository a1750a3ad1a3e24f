// Test support: whole-file reads and writes.
#pragma once

#include <string>

namespace zsend::test {

// The whole content of `path` ("" when it cannot be read).
std::string ReadFile(const std::string& path);
// Replaces `path` with `data`.
void WriteFile(const std::string& path, const std::string& data);

}  // namespace zsend::test
