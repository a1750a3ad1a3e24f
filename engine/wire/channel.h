// Channel: the byte link a zsend session runs over, as the engine sees it. The engine reads and
// writes bytes, closes its outgoing direction, stops blocked calls and sets an idle deadline;
// how the bytes travel (a TCP socket, ssh's stdin/stdout, our own stdio) is the business of
// transports/, which opens links (transports/link.h) and implements this interface
// (transports/fd_channel.h for anything that is a file descriptor).
//
// Contract for an implementation:
//   - ReadSome() returns at least one byte, or 0 once the peer closed its outgoing direction;
//   - Stop() (from any thread) ends every blocked and later call soon (about 100 ms) with
//     kCancelled, as does an interrupt of the calling thread (engine/ring/interrupt.h);
//   - SetDeadline(s) is an idle timeout, not a deadline for a whole frame: a read fails with
//     kDeadlineExceeded once no byte arrived for `s` seconds (counted from the call and from
//     each byte read), a write once none could be written for `s` seconds (counted from the
//     start of WriteAll and from each byte written); 0 turns it off. A slow link that keeps
//     moving bytes never times out, a stalled one does, in either direction;
//   - other failures of the link are kUnavailable and name the link.
// Thread-safety: one reader thread and one writer thread may use a Channel at the same time;
// writers serialize among themselves (FrameWriter does); Stop() and stopped() from any thread.
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace zsend {

class Channel {
 public:
  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  virtual ~Channel() = default;

  // At least one byte, or 0 when the peer closed the stream.
  virtual Result<size_t> ReadSome(void* buf, size_t n) = 0;
  // All `n` bytes.
  virtual Status WriteAll(const void* buf, size_t n) = 0;
  // Closes the outgoing direction (FIN on a socket, EOF on a pipe); reading goes on.
  virtual void CloseWrite() = 0;
  // Ends every blocked and later call with kCancelled.
  virtual void Stop() = 0;
  virtual bool stopped() const = 0;
  // The idle timeout described above; 0 turns it off.
  virtual void SetDeadline(double seconds) = 0;
  // "tcp host:port", "ssh HOST", "stdio": for messages.
  virtual const std::string& name() const = 0;

  // Exactly `n` bytes, by ReadSome(). kUnavailable when the peer closed the stream first
  // ("connection closed by the peer", with `*got` bytes read before).
  Status ReadExact(void* buf, size_t n, size_t* got = nullptr);
};

}  // namespace zsend
