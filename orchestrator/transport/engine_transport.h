// The engine transports (tcp, ssh) and the auto choice between them and the pipe transport.
//
// Before the first transfer the mover checks each host's zsend-engine against the engine
// contract (engine_probe.h: `ENGINE version --json`, ENGINE being --remote-engine or
// zsend-engine on PATH); the answer is cached. Then, per transfer:
//   tcp   the target runs `ENGINE recv --listen 0 --once --announce --authorize PUB --exec
//         'zfs receive ...'`; its announced port and key are read from the first stdout line;
//         the source runs `ENGINE send --exec 'zfs send ...' --connect HOST:PORT --peer KEY
//         --key FILE`, FILE a fresh key made by `ENGINE keygen` in a private temp directory on
//         the source host (removed afterwards). HOST is the address the run's ssh session
//         reached on a push, the one it came from on a pull (tcp_addresses.h). The receiver
//         runs under a sh wrapper that stops it when its stdin closes: a receiver whose sender
//         failed (and that would wait for a connection for ever) is stopped, also on a far host
//         (announcing_child.h).
//   ssh   the (local) source runs `ENGINE send --exec 'zfs send ...' --ssh TARGET -- --exec
//         'zfs receive ...'`.
//   auto  tcp; ssh when the direct connection fails; pipe when a host's engine fails the check.
// Every fallback is logged in StreamResult::fallback. Thread-safety as StreamMover.
#pragma once

#include <memory>

#include "orchestrator/transport/transport.h"

namespace zsend::orchestrator {

// `pipe` is the pipe mover used as the last fallback (owned).
std::unique_ptr<StreamMover> MakeEngineMover(CommandRunner& source, CommandRunner& target,
                                             const TransportOptions& options,
                                             std::unique_ptr<StreamMover> pipe);

}  // namespace zsend::orchestrator
