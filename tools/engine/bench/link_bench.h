// The link test of `zsend-engine bench --listen/--connect`, run over a Channel after the same
// session handshake as a transfer (session_handshake.h):
//
//   1. both sides send their CPU figures (stage_bench.h) in a sealed message;
//   2. round trips: the initiator sends small sealed ping messages, the responder echoes them;
//   3. upload: the initiator streams filler for `seconds`, the responder reports what arrived;
//   4. download: the same the other way.
//
// Messages are control frames (frame.h) of type status, sealed with the session keys and
// numbered from 1 in each direction (0 was the key confirmation). Filler travels as
// length-prefixed chunks of unsealed bytes: it measures the wire, and sealing is measured as a
// CPU figure; the receiving side times it from its first chunk to the end marker and sends the
// figures back sealed. The caller owns the Channel; one thread.
#pragma once

#include <functional>
#include <string>

#include "engine/wire/channel.h"
#include "engine/wire/session_handshake.h"
#include "tools/engine/bench/stage_bench.h"

namespace zsend {

struct LinkFigures {
  double upload_rate = 0;    // bytes/s initiator -> responder
  double download_rate = 0;  // bytes/s responder -> initiator
  double rtt_seconds = 0;    // median round trip of a small sealed message
  int pings = 0;
};

struct LinkBenchResult {
  LinkFigures link;
  CpuFigures peer;  // the far side's CPU figures
};

// Runs the whole exchange; `progress` (may be empty) hears each phase's name.
Result<LinkBenchResult> RunLinkBench(Channel& channel, const Session& session, bool initiator,
                                     const CpuFigures& local, double seconds,
                                     const std::function<void(const std::string&)>& progress);

}  // namespace zsend
