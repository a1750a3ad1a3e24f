// The session transport: every stream of a run from the source host to the target host through
// one engine session (docs/protocol.md 5.8), instead of a receiver, a sender, a key and a
// handshake per dataset.
//
// The near side is the source and the far side the target (a push), except on a pull (a remote
// source, the target this host), where this host is the near side and the source the far one.
// A remote host is reached through the run's ssh control connection; remote to remote, the near
// session runs on the source host through its connection (its requests and results travel over
// ssh's stdio) and connects directly to the serve on the target. At the first stream the mover
// makes one key on the near host, starts on the far host `ENGINE serve --listen ... --announce
// --connections J --target-root ROOT` (a push) or `--source-root ROOT...` (a pull) under the
// stop-on-stdin-EOF wrapper, and on the near host `ENGINE session --send` (a push) or `--recv`
// (a pull) `--connect HOST:PORT --connections J`. Each Move() then writes one request line to
// the session and waits for its result line; J (--jobs) streams move at once, one per
// connection. The sending side (the far serve on a pull, the near session on a push) gets
// --codec and -r. A stream whose far side failed fails alone. When the session itself is lost
// (a link broke), the streams in flight on the broken link fail (their bytes may have landed:
// data_moved), the ones on its other links finish there, and a stream that had not started is
// sent once more over a fresh session. A session that cannot be started (an engine without
// sessions, no direct path) leaves the run to the per-stream engine mover given as `fallback`,
// with the reason in StreamResult::fallback.
//
// A local to local run is a push. Thread-safety as StreamMover.
#pragma once

#include <memory>

#include "orchestrator/transport/transport.h"

namespace zsend::orchestrator {

// Whether a session between these hosts is a pull (a remote source, the target this host: the
// far serve sends from --source-root) rather than a push (the far serve receives below
// --target-root). TransportOptions::session_roots must be the roots of that kind.
bool SessionIsPull(const CommandRunner& source, const CommandRunner& target);

std::unique_ptr<StreamMover> MakeSessionMover(CommandRunner& source, CommandRunner& target,
                                              const TransportOptions& options,
                                              std::unique_ptr<StreamMover> fallback);

}  // namespace zsend::orchestrator
