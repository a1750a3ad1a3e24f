#include "engine/wire/session_handshake.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "base/engine_contract.h"
#include "engine/codec/dedup.h"
#include "engine/crypto/noise_handshake.h"

namespace zsend {
namespace {

constexpr uint8_t kMagic[4] = {'Z', 'S', 'N', 'D'};
constexpr uint16_t kVersion = engine_contract::kProtocolVersion;
constexpr size_t kPreambleSize = 8;
constexpr char kPrologueLabel[] = "zsend/1 handshake";
constexpr uint8_t kPayloadVersion = 1;

enum TlvType : uint8_t {
  kTlvDirection = 1,
  kTlvCiphersOffered = 2,
  kTlvCipherChosen = 4,
  kTlvBlockSize = 6,
  kTlvDedupWindow = 8,
};

using noise::Bytes;

Status PermissionDenied(std::string message) {
  return {StatusCode::kPermissionDenied, std::move(message)};
}

struct Payload {
  std::optional<uint8_t> direction;  // 0: the initiator sends
  std::vector<BulkCipher> offered;
  std::optional<BulkCipher> chosen;
  std::optional<uint32_t> block_size;
  std::optional<uint64_t> dedup_window;
};

void PutTlv(Bytes& out, uint8_t type, const Bytes& value) {
  out.push_back(type);
  out.push_back(static_cast<uint8_t>(value.size() >> 8));
  out.push_back(static_cast<uint8_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
}

Bytes Be32(uint32_t v) {
  return {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
}

Bytes EncodePayload(const Payload& p) {
  Bytes out{kPayloadVersion};
  if (p.direction) PutTlv(out, kTlvDirection, {*p.direction});
  if (!p.offered.empty()) {
    Bytes ids;
    for (BulkCipher c : p.offered) ids.push_back(static_cast<uint8_t>(c));
    PutTlv(out, kTlvCiphersOffered, ids);
  }
  if (p.chosen) PutTlv(out, kTlvCipherChosen, {static_cast<uint8_t>(*p.chosen)});
  if (p.block_size) PutTlv(out, kTlvBlockSize, Be32(*p.block_size));
  if (p.dedup_window) {
    Bytes be = Be32(static_cast<uint32_t>(*p.dedup_window >> 32));
    const Bytes lo = Be32(static_cast<uint32_t>(*p.dedup_window));
    be.insert(be.end(), lo.begin(), lo.end());
    PutTlv(out, kTlvDedupWindow, be);
  }
  return out;
}

Result<BulkCipher> CipherId(uint8_t id) {
  if (id > 2) return PermissionDenied("handshake: unknown cipher id " + std::to_string(id));
  return static_cast<BulkCipher>(id);
}

Result<Payload> DecodePayload(const Bytes& in) {
  if (in.empty() || in[0] != kPayloadVersion) {
    return PermissionDenied("handshake: unsupported payload version");
  }
  Payload p;
  size_t at = 1;
  while (at < in.size()) {
    if (in.size() - at < 3) return PermissionDenied("handshake: truncated payload record");
    const uint8_t type = in[at];
    const size_t len = (static_cast<size_t>(in[at + 1]) << 8) | in[at + 2];
    at += 3;
    if (in.size() - at < len) return PermissionDenied("handshake: truncated payload record");
    const uint8_t* v = in.data() + at;
    at += len;
    switch (type) {
      case kTlvDirection:
        if (len != 1 || v[0] > 1) return PermissionDenied("handshake: bad direction record");
        p.direction = v[0];
        break;
      case kTlvCiphersOffered:
        for (size_t i = 0; i < len; ++i) {
          Result<BulkCipher> c = CipherId(v[i]);
          if (!c.ok()) return c.status();
          p.offered.push_back(*c);
        }
        break;
      case kTlvCipherChosen: {
        if (len != 1) return PermissionDenied("handshake: bad cipher record");
        Result<BulkCipher> c = CipherId(v[0]);
        if (!c.ok()) return c.status();
        p.chosen = *c;
        break;
      }
      case kTlvBlockSize:
        if (len != 4) return PermissionDenied("handshake: bad block size record");
        p.block_size = (uint32_t{v[0]} << 24) | (uint32_t{v[1]} << 16) | (uint32_t{v[2]} << 8) |
                       uint32_t{v[3]};
        break;
      case kTlvDedupWindow: {
        if (len != 8) return PermissionDenied("handshake: bad dedup window record");
        uint64_t w = 0;
        for (size_t i = 0; i < 8; ++i) w = (w << 8) | v[i];
        p.dedup_window = w;
        break;
      }
      default:
        break;  // unknown records are skipped
    }
  }
  return p;
}

Status WriteMessage(Channel& channel, const Bytes& message) {
  uint8_t len[2] = {static_cast<uint8_t>(message.size() >> 8),
                    static_cast<uint8_t>(message.size())};
  ZSEND_RETURN_IF_ERROR(channel.WriteAll(len, 2));
  return channel.WriteAll(message.data(), message.size());
}

Result<Bytes> ReadMessage(Channel& channel) {
  uint8_t len[2];
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(len, 2));
  Bytes message((size_t{len[0]} << 8) | len[1]);
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(message.data(), message.size()));
  return message;
}

// A lost connection while the peer is deciding whether to trust us means it did not.
Status Refused(const Status& status, bool initiator) {
  if (status.code() != StatusCode::kUnavailable) return status;
  return PermissionDenied(
      initiator ? "the listener closed the connection during the handshake: its key is not the "
                  "--peer key given here, or this side's key is not in its authorized keys"
                : "the peer closed the connection during the handshake");
}

BulkCipher Choose(const std::vector<BulkCipher>& offered, const std::vector<BulkCipher>& mine,
                  bool* found) {
  for (BulkCipher c : {BulkCipher::kAesGcm, BulkCipher::kChaChaPoly, BulkCipher::kNone}) {
    if (std::find(offered.begin(), offered.end(), c) != offered.end() &&
        std::find(mine.begin(), mine.end(), c) != mine.end()) {
      *found = true;
      return c;
    }
  }
  *found = false;
  return BulkCipher::kChaChaPoly;
}

std::string CipherList(const std::vector<BulkCipher>& list) {
  std::string out;
  for (BulkCipher c : list) out += (out.empty() ? "" : ",") + std::string(BulkCipherName(c));
  return out.empty() ? "nothing" : out;
}

// Sends our first heartbeat and reads the peer's: proof that the peer holds this session's keys.
Status ConfirmKeys(Channel& channel, Session& session) {
  FrameCipher sealer(session.cipher, session.send_key);
  Result<std::string> hello = BuildControlFrame(sealer, FrameType::kHeartbeat, 0, "");
  if (!hello.ok()) return hello.status();
  ZSEND_RETURN_IF_ERROR(channel.WriteAll(hello->data(), hello->size()));
  std::byte header_bytes[kFrameHeaderSize + kMaxControlBody];
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(header_bytes, kFrameHeaderSize));
  Result<FrameHeader> header = DecodeFrameHeader(header_bytes, 0);
  if (!header.ok() || header->type != FrameType::kHeartbeat || header->sequence != 0) {
    return PermissionDenied("key confirmation: the peer's first frame is not a heartbeat");
  }
  ZSEND_RETURN_IF_ERROR(channel.ReadExact(header_bytes + kFrameHeaderSize, header->length));
  FrameCipher opener(session.cipher, session.receive_key);
  Result<size_t> opened = opener.Open(header_bytes, *header);
  if (!opened.ok())
    return PermissionDenied("key confirmation failed: " + opened.status().message());
  return Status::Ok();
}

}  // namespace

bool CpuHasAes() {
  noise::EnsureSodiumInitialized();
  return crypto_aead_aes256gcm_is_available() != 0;
}

std::vector<BulkCipher> AutoCiphers(bool allow_none) {
  std::vector<BulkCipher> list;
  if (CpuHasAes()) list.push_back(BulkCipher::kAesGcm);
  list.push_back(BulkCipher::kChaChaPoly);
  if (allow_none) list.push_back(BulkCipher::kNone);
  return list;
}

Result<Session> RunHandshake(Channel& channel, const SessionOptions& options) {
  channel.SetDeadline(options.timeout_seconds);
  const bool initiator = options.initiator;

  // Preambles, sent at once by both sides.
  uint8_t mine[kPreambleSize] = {kMagic[0], kMagic[1], kMagic[2], kMagic[3], 0, kVersion, 0, 0};
  uint8_t theirs[kPreambleSize];
  ZSEND_RETURN_IF_ERROR(channel.WriteAll(mine, kPreambleSize));
  Status read = channel.ReadExact(theirs, kPreambleSize);
  if (!read.ok()) return Refused(read, initiator);
  if (std::memcmp(theirs, kMagic, 4) != 0) {
    return FailedPrecondition(channel.name() + " is not a zsend peer (wrong magic)");
  }
  const uint16_t version = static_cast<uint16_t>((theirs[4] << 8) | theirs[5]);
  if (version != kVersion) {
    return FailedPrecondition("the peer speaks zsend protocol version " + std::to_string(version) +
                              ", this side version " + std::to_string(kVersion));
  }

  noise::HandshakeConfig config;
  config.protocol_name =
      options.anonymous ? "Noise_NN_25519_ChaChaPoly_BLAKE2b" : "Noise_IK_25519_ChaChaPoly_BLAKE2b";
  config.role = initiator ? noise::Role::kInitiator : noise::Role::kResponder;
  config.prologue.assign(kPrologueLabel, kPrologueLabel + sizeof kPrologueLabel - 1);
  const uint8_t* first = initiator ? mine : theirs;
  const uint8_t* second = initiator ? theirs : mine;
  config.prologue.insert(config.prologue.end(), first, first + kPreambleSize);
  config.prologue.insert(config.prologue.end(), second, second + kPreambleSize);
  if (!options.anonymous) {
    config.local_static = options.local_static;
    if (initiator) config.remote_static = options.peer;
  }
  Result<noise::HandshakeState> made = noise::HandshakeState::Create(config);
  if (!made.ok()) return made.status();
  noise::HandshakeState& hs = *made;

  Session session;
  if (initiator) {
    Payload offer;
    offer.direction = options.we_send ? 0 : 1;
    offer.offered = options.ciphers;
    if (options.we_send) offer.block_size = options.block_size;
    offer.dedup_window = options.dedup_window;
    Result<Bytes> m1 = hs.WriteMessage(EncodePayload(offer));
    if (!m1.ok()) return m1.status();
    ZSEND_RETURN_IF_ERROR(WriteMessage(channel, *m1));
    Result<Bytes> m2 = ReadMessage(channel);
    if (!m2.ok()) return Refused(m2.status(), true);
    Result<Bytes> answer_bytes = hs.ReadMessage(*m2);
    if (!answer_bytes.ok()) return answer_bytes.status();
    Result<Payload> answer = DecodePayload(*answer_bytes);
    if (!answer.ok()) return answer.status();
    if (!answer->chosen || std::find(options.ciphers.begin(), options.ciphers.end(),
                                     *answer->chosen) == options.ciphers.end()) {
      return PermissionDenied("handshake: the peer chose a cipher this side did not offer");
    }
    session.cipher = *answer->chosen;
    session.block_size = options.we_send ? options.block_size : answer->block_size.value_or(0);
    session.dedup_window = std::min(options.dedup_window, answer->dedup_window.value_or(0));
    // A receiver that offered first did not know the sender's block size yet.
    if (!options.we_send && options.receiver_memory > 0 &&
        session.dedup_window > DedupWindowThatFits(session.dedup_window, options.receiver_memory,
                                                   session.block_size)) {
      return FailedPrecondition(
          "the dedup window (" + std::to_string(session.dedup_window >> 20) +
          " MiB) and four of the sender's " + std::to_string(session.block_size >> 10) +
          " KiB blocks do not fit in this receiver's --memory; raise -m, or lower "
          "--dedup-window (0 turns dedup off)");
    }
  } else {
    Result<Bytes> m1 = ReadMessage(channel);
    if (!m1.ok()) return m1.status();
    Result<Bytes> offer_bytes = hs.ReadMessage(*m1);
    if (!offer_bytes.ok()) {
      return PermissionDenied("handshake from a peer that does not know this side's key (" +
                              offer_bytes.status().message() + ")");
    }
    if (!options.anonymous && !options.accept_any_peer) {
      const noise::PublicKey& key = *hs.remote_static();
      if (options.authorized == nullptr || options.authorized->Find(key) == nullptr) {
        return PermissionDenied("peer key " + FormatPublicKey(key) + " is not authorized");
      }
    }
    Result<Payload> offer = DecodePayload(*offer_bytes);
    if (!offer.ok()) return offer.status();
    if (!offer->direction || (*offer->direction == 0) == options.we_send) {
      return FailedPrecondition(options.we_send ? "both sides want to send the stream"
                                                : "both sides want to receive the stream");
    }
    bool found = false;
    session.cipher = Choose(offer->offered, options.ciphers, &found);
    if (!found) {
      return FailedPrecondition("no common cipher: the peer offers " + CipherList(offer->offered) +
                                ", this side accepts " + CipherList(options.ciphers));
    }
    Payload answer;
    answer.chosen = session.cipher;
    if (options.we_send) answer.block_size = options.block_size;
    answer.dedup_window = options.dedup_window;
    if (!options.we_send && options.receiver_memory > 0) {
      answer.dedup_window = DedupWindowThatFits(options.dedup_window, options.receiver_memory,
                                                offer->block_size.value_or(0));
    }
    Result<Bytes> m2 = hs.WriteMessage(EncodePayload(answer));
    if (!m2.ok()) return m2.status();
    ZSEND_RETURN_IF_ERROR(WriteMessage(channel, *m2));
    session.block_size = options.we_send ? options.block_size : offer->block_size.value_or(0);
    session.dedup_window = std::min(*answer.dedup_window, offer->dedup_window.value_or(0));
  }
  if (session.block_size == 0 || session.block_size > kMaxBlockSize) {
    return FailedPrecondition("handshake: the sender's block size " +
                              std::to_string(session.block_size) + " is outside 1.." +
                              std::to_string(kMaxBlockSize));
  }
  Result<noise::TransportState> transport = hs.Finish();
  if (!transport.ok()) return transport.status();
  session.send_key = transport->send.key();
  session.receive_key = transport->receive.key();
  session.handshake_hash = transport->handshake_hash;
  session.peer = transport->remote_static;
  Status confirmed = ConfirmKeys(channel, session);
  if (!confirmed.ok()) return Refused(confirmed, initiator);
  channel.SetDeadline(0);
  return session;
}

}  // namespace zsend
