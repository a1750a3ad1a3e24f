// Output of `zsend-engine bench`: the human table and the --json document for both modes.
// Plain functions over the engine's figures; they write to stdout only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/codec/bench_advice.h"
#include "tools/engine/bench/link_bench.h"
#include "tools/engine/bench/stage_bench.h"

namespace zsend::tool {

struct LocalBench {
  std::string sample_source;  // "synthetic" or the --sample path
  size_t sample_bytes = 0;
  double seconds = 0;
  CpuFigures cpu;
  LoopbackFigure loopback;
};

struct LinkBench {
  std::string role;  // "listen" or "connect"
  double seconds = 0;
  double send_rate = 0, receive_rate = 0;  // this host -> peer, peer -> this host
  LinkFigures link;
  CpuFigures local, peer;
  Advice sending, receiving;  // this host sends / this host receives
};

// The slowest stage a transfer without compression goes through, and its rate.
std::pair<std::string, double> Bottleneck(const LocalBench& bench);

nlohmann::json LocalJson(const LocalBench& bench);
nlohmann::json LinkJson(const LinkBench& bench);
void PrintLocal(const LocalBench& bench);
void PrintLink(const LinkBench& bench);

}  // namespace zsend::tool
