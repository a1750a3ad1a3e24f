// Session streams: one connection carries stream after stream (docs/protocol.md 5.8), so a run
// over many datasets pays one handshake per connection instead of one per dataset.
//
//   client (initiator)                      server (`zsend-engine serve`)
//   open  [the far command's words]  --->   checks them (far_command.h), starts zfs
//                                    <---   ready   (or error: refused, nothing runs)
//   ... one transfer, TransferOptions::session_stream: data, end, status, close ...
//   the next stream's open, or the connection closes (the session's normal end)
//
// Each stream has keys of its own, derived from the connection's: every lane of every stream
// starts at sequence 0 or 1 again without ever reusing a nonce under one key.
//
// Thread-safety: functions on one channel from one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "engine/transfer/transfer_link.h"
#include "engine/wire/session_handshake.h"

namespace zsend {

// The keys of stream `index` (1, 2, ...): each direction's key is the first 32 bytes of
// HMAC-BLAKE2b(that direction's connection key, "zsend/1 stream" || index, 8 bytes big-endian).
Session StreamSession(const Session& connection, uint64_t index);

// Client: sends the open frame and waits up to `timeout_seconds` for the answer. OK on ready;
// kAborted on an error frame (refused, or its zfs could not start: the link stays in step),
// `*failure` then being the server's reason; any other code means the link failed.
Status OpenStream(Channel& channel, const Session& stream, const std::vector<std::string>& words,
                  double timeout_seconds, TransferFailure* failure);

// Server: waits, without a deadline, for the client's next open frame and returns its words.
// kNotFound when the client closed the connection between streams (the session's normal end);
// kInvalidArgument when the frame was sound but its words are not (refuse it; the link goes on).
Result<std::vector<std::string>> AwaitStream(Channel& channel, const Session& stream);
// Server: the answer to an open frame: ready, or an error frame with `failure` and `why`.
Status AcceptStream(Channel& channel, const Session& stream);
Status RefuseStream(Channel& channel, const Session& stream, TransferFailure failure,
                    const Status& why);

}  // namespace zsend
