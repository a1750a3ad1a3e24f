// Test support for the zsend CLI tests: the system python (with
// Debian's aiosmtpd and prometheus_client), golden files, and text normalisation.
#pragma once

#include <string>

#include "tests/support/peers/net.h"  // FreePort()

namespace zsend::test {

// Debian's python (the one with python3-aiosmtpd and python3-prometheus-client), not a
// python3 found first on PATH.
std::string SystemPython();
// True when SystemPython() can import `module`.
bool PythonHas(const std::string& module);
// Path of a file in tests/support/.
std::string SupportPath(const std::string& name);

// Compares `actual` with tests/golden/NAME; with ZSEND_UPDATE_GOLDEN=1 rewrites the file
// instead. Returns "" when equal, else a message with both texts.
std::string CompareGolden(const std::string& name, const std::string& actual);

// Replaces "YYYY-MM-DD hh:mm:ssZ" times with "<TIME>" and JSON epoch fields
// ("last_success": 1.7e9) with "<N>" (and age_seconds).
std::string NormaliseTimes(const std::string& text);

// Waits up to `seconds` until 127.0.0.1:port accepts connections.
bool WaitForPort(int port, double seconds);

}  // namespace zsend::test
