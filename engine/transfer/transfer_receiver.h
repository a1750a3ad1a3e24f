// ReceiveTransfer: the receiving end of a zsend session, after the handshake.
//
//   Channel --reader (FrameReader: one data frame per block; control frames handled inline)-->
//     Ring --N workers (OpenTransform: authenticate and open in place [, decompress])-->
//     in-order writer --VerifyingSink (count, XXH3-128)--> consumer
//
// The end frame carries the sender's byte count and XXH3-128 digest; the consumer is finished (its
// stdin closed, a file renamed into place) only when both match what was written. Otherwise,
// and on every other failure, the consumer is abandoned (killed first, so `zfs recv` aborts;
// a partial file removed). The receiver then sends its final status (consumer exit code, bytes
// written, stderr tail) or an error frame, and drains the link so the sender reads it.
#pragma once

#include "engine/transfer/transfer_sender.h"

namespace zsend {

// Where the received stream goes.
class Consumer : public ByteSink {
 public:
  // Called instead of Finish() when the transfer failed: the consumer must not see success.
  virtual void Abandon() = 0;
  // After Finish() or Abandon(): the exit code of a consumer process (0 for files and stdout)
  // and the tail of its stderr.
  virtual int exit_code() const { return 0; }
  virtual std::string stderr_tail() const { return {}; }
};

TransferReport RunReceiveTransfer(Channel& channel, const Session& session, Consumer& consumer,
                                  const TransferOptions& options);

}  // namespace zsend
