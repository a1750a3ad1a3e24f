#include "engine/codec/dedup.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <string>

#include "base/big_endian.h"
#include "engine/ring/xxhash_fast.h"
#include "engine/wire/frame.h"

namespace zsend {
namespace {

constexpr size_t kMinChunk = 4096;
constexpr size_t kMaxChunk = 64 * 1024;
constexpr int kAverageBits = 11;  // a cut every 2 KiB on average after the minimum
constexpr uint64_t kCutMask = ((uint64_t{1} << kAverageBits) - 1) << (64 - kAverageBits);
// Chunks shorter than this (a block's tail) are never worth a 16-byte reference.
constexpr size_t kMinReference = 256;
// The index is set-associative: a chunk's copy may sit in any of the kWays slots of its bucket.
constexpr size_t kWays = 4;

// The gear table: 256 fixed pseudo-random words (splitmix64), so cut points depend on content
// only and repeat wherever the content repeats.
constexpr std::array<uint64_t, 256> MakeGear() {
  std::array<uint64_t, 256> gear{};
  uint64_t x = 0x7a73656e64646564ull;  // "zsenddeed"
  for (uint64_t& g : gear) {
    x += 0x9e3779b97f4a7c15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    g = z ^ (z >> 31);
  }
  return gear;
}
constexpr std::array<uint64_t, 256> kGear = MakeGear();

// The end of the chunk that starts at data[0] (at most n bytes).
size_t NextCut(const std::byte* data, size_t n) {
  if (n <= kMinChunk) return n;
  const size_t end = std::min(n, kMaxChunk);
  uint64_t h = 0;
  for (size_t i = kMinChunk; i < end; ++i) {
    h = (h << 1) + kGear[static_cast<uint8_t>(data[i])];
    if ((h & kCutMask) == 0) return i + 1;
  }
  return end;
}

struct Chunk {
  uint32_t at = 0;
  uint32_t length = 0;
  XXH128_hash_t hash{};
};

struct Ref {
  uint32_t at = 0;
  uint32_t length = 0;
  uint64_t distance = 0;
};

}  // namespace

uint64_t DedupWindowThatFits(uint64_t cap, uint64_t memory, uint64_t block_size) {
  constexpr uint64_t kPage = 4096;
  const uint64_t framed = block_size + kFrameHeaderSize + kFrameTagSize;
  const uint64_t ring_block = (framed + kPage - 1) / kPage * kPage;
  const uint64_t room = 4 * ring_block + block_size;
  if (memory <= room) return 0;
  const uint64_t window = std::min(cap, memory - room);
  return window < (uint64_t{1} << 20) ? 0 : window;
}

DedupIndex::DedupIndex(uint64_t window) : window_(window) {
  // About four slots per chunk the window can hold (chunks average about 6 KiB), so that few
  // live chunks collide: 4 MiB of index for the default 128 MiB window.
  const uint64_t chunks =
      std::max<uint64_t>(1, window / (kMinChunk + (uint64_t{1} << kAverageBits)));
  slots_.resize(std::bit_ceil(std::clamp<uint64_t>(chunks * 4, 1024, uint64_t{1} << 24)));
  static_assert(kWays <= 1024 && (kWays & (kWays - 1)) == 0);
}

size_t DedupIndex::Encode(const std::byte* payload, size_t n, uint64_t start, std::byte* out) {
  thread_local std::vector<Chunk> chunks;
  thread_local std::vector<Ref> refs;
  chunks.clear();
  refs.clear();
  for (size_t at = 0; at < n;) {
    const size_t len = NextCut(payload + at, n - at);
    chunks.push_back(
        {static_cast<uint32_t>(at), static_cast<uint32_t>(len), XXH3_128bits(payload + at, len)});
    at += len;
  }
  const size_t buckets = slots_.size() / kWays;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const Chunk& c : chunks) {
      // The chunk's bucket of kWays slots: its earlier copy, if indexed, is one of them.
      Slot* bucket = &slots_[(c.hash.low64 & (buckets - 1)) * kWays];
      Slot* same = nullptr;
      Slot* oldest = bucket;
      for (Slot* slot = bucket; slot < bucket + kWays; ++slot) {
        if (slot->offset != UINT64_MAX && slot->hash_lo == c.hash.low64 &&
            slot->hash_hi == c.hash.high64 && slot->length == c.length) {
          same = slot;
          break;
        }
        // Empty slots first, then the copy that leaves the window soonest.
        if (oldest->offset != UINT64_MAX &&
            (slot->offset == UINT64_MAX || slot->offset < oldest->offset)) {
          oldest = slot;
        }
      }
      const uint64_t offset = start + c.at;
      if (same != nullptr && c.length >= kMinReference && same->offset + c.length <= start &&
          start - same->offset <= window_) {
        const uint64_t distance = start - same->offset;
        // A chunk that follows the previous reference's source too extends it. (Distances
        // count from the block's start, so a contiguous source is `length` bytes nearer.)
        if (!refs.empty() && refs.back().at + refs.back().length == c.at &&
            refs.back().distance - refs.back().length == distance) {
          refs.back().length += c.length;
        } else {
          refs.push_back({c.at, c.length, distance});
        }
      }
      // The newest copy stays in the window longest.
      Slot& slot = same != nullptr ? *same : *oldest;
      if (&slot != same || slot.offset < offset) {
        slot = {c.hash.low64, c.hash.high64, offset, c.length};
      }
    }
  }
  if (refs.empty()) return 0;

  std::byte* p = out;
  PutBe(p, refs.size(), 4);
  p += 4;
  uint64_t saved = 0;
  for (const Ref& r : refs) {
    PutBe(p, r.at, 4);
    PutBe(p + 4, r.length, 4);
    PutBe(p + 8, r.distance, 8);
    p += kDedupRefSize;
    saved += r.length;
  }
  size_t pos = 0;
  for (const Ref& r : refs) {
    std::memcpy(p, payload + pos, r.at - pos);
    p += r.at - pos;
    pos = r.at + r.length;
  }
  std::memcpy(p, payload + pos, n - pos);
  p += n - pos;
  saved_.fetch_add(saved, std::memory_order_relaxed);
  return static_cast<size_t>(p - out);
}

DedupHistory::DedupHistory(uint64_t window, size_t block_size)
    : window_(window), ring_(new std::byte[window]), out_(block_size) {}

void DedupHistory::CopyOut(uint64_t from, size_t n, std::byte* to) const {
  while (n > 0) {
    const size_t at = static_cast<size_t>(from % window_);
    const size_t run = std::min<size_t>(n, window_ - at);
    std::memcpy(to, ring_.get() + at, run);
    to += run;
    from += run;
    n -= run;
  }
}

void DedupHistory::Append(const std::byte* raw, size_t n) {
  if (n > window_) {  // only the last window_ bytes can ever be referenced
    total_ += n - window_;
    raw += n - window_;
    n = static_cast<size_t>(window_);
  }
  while (n > 0) {
    const size_t at = static_cast<size_t>(total_ % window_);
    const size_t run = std::min<size_t>(n, window_ - at);
    std::memcpy(ring_.get() + at, raw, run);
    raw += run;
    total_ += run;
    n -= run;
  }
}

Result<std::span<const std::byte>> DedupHistory::Expand(const std::byte* in, size_t n) {
  if (n < 4) return DataLoss("dedup block too short for its reference count");
  const uint64_t count = GetBe(in, 4);
  if (count == 0 || count > (n - 4) / kDedupRefSize) {
    return DataLoss("dedup block announces " + std::to_string(count) +
                    " references but has room for " + std::to_string((n - 4) / kDedupRefSize));
  }
  const std::byte* ref = in + 4;
  const std::byte* literal = ref + count * kDedupRefSize;
  size_t literal_left = static_cast<size_t>(in + n - literal);
  size_t pos = 0;
  for (uint64_t i = 0; i < count; ++i, ref += kDedupRefSize) {
    const uint64_t at = GetBe(ref, 4), length = GetBe(ref + 4, 4), distance = GetBe(ref + 8, 8);
    if (at < pos || length == 0 || at + length > out_.size()) {
      return DataLoss("dedup reference " + std::to_string(i) +
                      " is out of order or past the block");
    }
    if (distance < length || distance > window_ || distance > total_) {
      return DataLoss("dedup reference " + std::to_string(i) + " points outside the window");
    }
    const size_t gap = static_cast<size_t>(at - pos);
    if (gap > literal_left) return DataLoss("dedup block ends inside its literals");
    std::memcpy(out_.data() + pos, literal, gap);
    literal += gap;
    literal_left -= gap;
    CopyOut(total_ - distance, static_cast<size_t>(length), out_.data() + at);
    pos = static_cast<size_t>(at + length);
  }
  if (literal_left > out_.size() - pos) return DataLoss("dedup block decodes past the block size");
  std::memcpy(out_.data() + pos, literal, literal_left);
  return std::span<const std::byte>(out_.data(), pos + literal_left);
}

}  // namespace zsend
