#include "engine/transfer/session_stream.h"

#include <cstring>

#include "base/big_endian.h"
#include "engine/transfer/far_command.h"
#include "engine/wire/frame_codec.h"

namespace zsend {
namespace {

constexpr char kStreamLabel[] = "zsend/1 stream";

noise::CipherKey DeriveKey(const noise::CipherKey& key, uint64_t index) {
  std::byte be[8];
  PutBe(be, index, 8);
  noise::SecretArray<noise::kHashLen> mac;
  noise::Hmac(
      key.span(),
      {noise::ByteSpan(reinterpret_cast<const uint8_t*>(kStreamLabel), sizeof kStreamLabel - 1),
       noise::ByteSpan(reinterpret_cast<const uint8_t*>(be), sizeof be)},
      &mac);
  noise::CipherKey out;
  std::memcpy(out.data(), mac.data(), out.size());
  return out;
}

// The stream's first control frame in our direction (sequence 1).
Status SendFirst(Channel& channel, const Session& stream, FrameType type,
                 const std::string& payload) {
  FrameCipher cipher(stream.cipher, stream.send_key);
  Result<std::string> frame = BuildControlFrame(cipher, type, 1, payload);
  if (!frame.ok()) return frame.status();
  return channel.WriteAll(frame->data(), frame->size());
}

// The peer's first control frame of the stream; `*got` counts the bytes read before a failure.
Result<std::pair<FrameType, std::string>> ReadFirst(Channel& channel, const Session& stream,
                                                    size_t* got) {
  std::vector<std::byte> frame(kFrameHeaderSize + kMaxControlBody);
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(frame.data(), kFrameHeaderSize, got));
  Result<FrameHeader> header = DecodeFrameHeader(frame.data(), 0);
  if (!header.ok()) return header.status();
  if (header->sequence != 1) {
    return DataLoss(std::string(FrameTypeName(header->type)) + " frame " +
                    std::to_string(header->sequence) + " arrived where a stream's first was due");
  }
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(frame.data() + kFrameHeaderSize, header->length));
  FrameCipher opener(stream.cipher, stream.receive_key);
  Result<size_t> size = opener.Open(frame.data(), *header);
  if (!size.ok()) return size.status();
  return std::make_pair(
      header->type,
      std::string(reinterpret_cast<const char*>(frame.data()) + kFrameHeaderSize, *size));
}

}  // namespace

Session StreamSession(const Session& connection, uint64_t index) {
  Session stream = connection;
  stream.send_key = DeriveKey(connection.send_key, index);
  stream.receive_key = DeriveKey(connection.receive_key, index);
  return stream;
}

Status OpenStream(Channel& channel, const Session& stream, const std::vector<std::string>& words,
                  double timeout_seconds, TransferFailure* failure) {
  channel.SetDeadline(timeout_seconds);
  Status sent = SendFirst(channel, stream, FrameType::kOpen, EncodeCommandWords(words));
  Result<std::pair<FrameType, std::string>> answer = DataLoss("");
  if (sent.ok()) answer = ReadFirst(channel, stream, nullptr);
  if (!sent.ok() || !answer.ok()) {
    const Status& s = sent.ok() ? answer.status() : sent;
    *failure = ClassifyStatus(s);
    return s;
  }
  if (answer->first == FrameType::kReady) return Status::Ok();
  if (answer->first == FrameType::kError) {
    Result<ErrorPayload> error = DecodeError(answer->second);
    if (!error.ok()) {
      *failure = TransferFailure::kIntegrity;
      return error.status();
    }
    *failure = FromErrorReason(error->reason);
    return Aborted("the serving engine refused the stream: " + error->message);
  }
  *failure = TransferFailure::kIntegrity;
  return DataLoss(std::string("unexpected ") + FrameTypeName(answer->first) +
                  " frame in answer to an open frame");
}

Result<std::vector<std::string>> AwaitStream(Channel& channel, const Session& stream) {
  channel.SetDeadline(0);
  size_t got = 0;
  Result<std::pair<FrameType, std::string>> open = ReadFirst(channel, stream, &got);
  if (!open.ok()) {
    if (open.status().code() == StatusCode::kUnavailable && got == 0) {
      return Status(StatusCode::kNotFound, "the client ended the session");
    }
    return open.status();
  }
  if (open->first != FrameType::kOpen) {
    return DataLoss(std::string("unexpected ") + FrameTypeName(open->first) +
                    " frame where a stream's open frame was due");
  }
  Result<std::vector<std::string>> words = DecodeCommandWords(open->second);
  // The frame was authenticated: bad words are this stream's problem, not the link's.
  if (!words.ok()) return InvalidArgument(words.status().message());
  return words;
}

Status AcceptStream(Channel& channel, const Session& stream) {
  return SendFirst(channel, stream, FrameType::kReady, "");
}

Status RefuseStream(Channel& channel, const Session& stream, TransferFailure failure,
                    const Status& why) {
  return SendFirst(channel, stream, FrameType::kError,
                   EncodeError({ToErrorReason(failure), why.message()}));
}

}  // namespace zsend
