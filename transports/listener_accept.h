// A listener that cannot be knocked over by whoever reaches its port: it keeps accepting until
// one peer completes the handshake (so is authorized), running up to kMaxHandshakes
// handshakes at once, each with its own short deadline (kHandshakeSeconds, separate from the
// transfer's idle timeout). An idle connection, garbage or a wrong key costs one slot for at
// most that deadline and is logged; it never ends the listener. While every slot is busy new
// connections wait in the kernel's backlog rather than being refused.
//
// Thread-safety: one caller; the handshakes run on threads of their own, joined before return.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/wire/channel.h"
#include "engine/wire/session_handshake.h"
#include "transports/tcp.h"

namespace zsend {

inline constexpr size_t kMaxHandshakes = 16;
inline constexpr double kHandshakeSeconds = 10;

struct AcceptedPeer {
  std::unique_ptr<Channel> channel;
  Session session;
};

// `listener` must have a short accept timeout (it is the polling slice, for `stop`); a finished
// handshake ends the slice at once (an eventfd beside the listening socket), so an authorized
// peer's transfer never waits for it. `handshake` runs on each accepted channel (from several
// threads at once); `stop` is polled between slices;
// `say` logs each failed handshake. kCancelled when `stop` said so, or the listener's error.
Result<AcceptedPeer> AcceptAuthorized(TcpListener& listener,
                                      const std::function<Result<Session>(Channel&)>& handshake,
                                      const std::function<bool()>& stop,
                                      const std::function<void(const std::string&)>& say);

// The same for a session server: hands each of `count` authorized peers to `on_peer` (on the
// calling thread) as its handshake completes, keeping the handshakes of later peers running
// meanwhile. OK once `count` were accepted, else as above.
Status AcceptAuthorizedPeers(TcpListener& listener,
                             const std::function<Result<Session>(Channel&)>& handshake,
                             const std::function<bool()>& stop,
                             const std::function<void(const std::string&)>& say, int count,
                             const std::function<void(AcceptedPeer)>& on_peer);

}  // namespace zsend
