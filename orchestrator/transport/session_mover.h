// The session transport: every stream of a run from this host to one target through one engine
// session (docs/protocol.md 5.8), instead of a receiver, a sender, a key and a handshake per
// dataset.
//
// At the first stream it makes one key on this host, starts on the target (through the run's
// ssh control connection when remote) `ENGINE serve --listen ... --announce --connections J
// --target-root TARGET_PATH` under the stop-on-stdin-EOF wrapper, and here `ENGINE session
// --send --connect HOST:PORT --connections J`. Each Move() then writes one request line to the
// session and waits for its result line; J (--jobs) streams move at once, one per connection.
// A stream whose far side failed fails alone. When the session itself is lost, the streams in
// flight fail (their bytes may have landed: data_moved), and a stream that had not started is
// sent once more over a fresh session. A session that cannot be started (an engine without
// sessions, no direct path) leaves the run to the per-stream engine mover given as `fallback`,
// with the reason in StreamResult::fallback.
//
// Pushes only: the source must be this host. Thread-safety as StreamMover.
#pragma once

#include <memory>

#include "orchestrator/transport/transport.h"

namespace zsend::orchestrator {

std::unique_ptr<StreamMover> MakeSessionMover(CommandRunner& source, CommandRunner& target,
                                              const TransportOptions& options,
                                              std::unique_ptr<StreamMover> fallback);

}  // namespace zsend::orchestrator
