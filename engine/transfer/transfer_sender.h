// SendTransfer: the sending end of a zsend session, after the handshake.
//
//   source --reader (BlockReader: room for the frame header, XXH3-128 of the stream)--> Ring
//     --N workers (SealTransform: [codec slot], header, seal in place)--> in-order writer
//     --FrameWriter--> Channel; Finish() adds the end frame (total bytes, XXH3-128).
//   control thread: reads the receiver's frames (heartbeat, error, status).
//   heartbeat thread: keeps the link alive while the producer is slow.
//
// Run() returns success only when the receiver's status says its consumer exited 0 after
// writing exactly the bytes sent. On any failure the producer (if `producer` is set) is killed
// and the receiver is told why with an error frame.
//
// One Run() per object; the caller owns the channel, the source and the producer.
#pragma once

#include <functional>

#include "engine/codec/codec.h"
#include "engine/ring/pipeline.h"
#include "engine/transfer/child_process.h"
#include "engine/transfer/transfer_link.h"
#include "engine/wire/session_handshake.h"

namespace zsend {

struct TransferOptions {
  PipelineOptions pipeline;     // ring.memory, rates, progress; block size comes from the session
  int workers = 2;              // sealing / opening threads
  double timeout_seconds = 60;  // the peer sent nothing for this long: fail
  double heartbeat_seconds = 5;
  CodecSpec codec;  // sender: how data frames are compressed (the receiver decodes any codec)
  // One stream of a session (docs/protocol.md 5.8) instead of the whole connection: the
  // control lanes start at 2 (1 carried the open or ready frame); the receiver always ends
  // with a status or error frame and then reads up to the sender's close frame; the sender
  // sends that close frame once it has the receiver's last word, so the link stays in step
  // for the next stream. Nothing is drained and the channel is not stopped for a failure of
  // the stream's own (a producer or consumer that failed).
  bool session_stream = false;
};

struct TransferReport {
  TransferFailure failure = TransferFailure::kNone;
  Status status;              // the message for the failure
  uint64_t stream_bytes = 0;  // raw stream bytes moved
  uint64_t wire_bytes = 0;    // frame bytes written (sender) or read (receiver)
  uint64_t dedup_bytes = 0;   // sender: stream bytes sent as references to earlier data
  double seconds = 0;
  std::string stream_digest_hex;  // XXH3-128 of the raw stream (kStreamDigest)
  std::string codec_level;        // sender: the codec level at the end ("zstd:3", "none")
  StatusPayload remote;           // sender: the receiver's final status
  PipelineResult pipeline;
  // Session streams: both ends are still in step, so the link can carry the next stream.
  bool link_reusable = false;
  bool ok() const { return failure == TransferFailure::kNone; }
};

TransferReport RunSendTransfer(Channel& channel, const Session& session, ByteSource& source,
                               ChildProcess* producer, const TransferOptions& options);

}  // namespace zsend
