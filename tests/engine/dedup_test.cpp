// Dedup (engine/codec/dedup.h): the sender's index and the receiver's history, block by block, as
// the transfer uses them; and every malformed reference refused.
#include "engine/codec/dedup.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace zsend {
namespace {

using Bytes = std::vector<std::byte>;

Bytes Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::byte>(rng());
  return b;
}

void Append(Bytes& to, const Bytes& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Encodes `stream` in blocks of `block` through one index, decodes through one history, and
// returns the decoded stream; `encoded` counts blocks that carried references.
Bytes RoundTrip(const Bytes& stream, size_t block, uint64_t window, DedupIndex& index,
                int* encoded) {
  DedupHistory history(window, block);
  Bytes out, scratch(block);
  *encoded = 0;
  for (size_t start = 0; start < stream.size(); start += block) {
    const size_t n = std::min(block, stream.size() - start);
    const size_t e = index.Encode(stream.data() + start, n, start, scratch.data());
    if (e == 0) {
      history.Append(stream.data() + start, n);
      out.insert(out.end(), stream.begin() + static_cast<long>(start),
                 stream.begin() + static_cast<long>(start + n));
      continue;
    }
    ++*encoded;
    EXPECT_LT(e, n) << "an encoded block must be smaller than the raw one";
    Result<std::span<const std::byte>> raw = history.Expand(scratch.data(), e);
    EXPECT_TRUE(raw.ok()) << raw.status().message();
    if (!raw.ok()) return out;
    history.Append(raw->data(), raw->size());
    out.insert(out.end(), raw->begin(), raw->end());
  }
  return out;
}

TEST(Dedup, RepeatsBecomeReferencesAndDecodeByteExact) {
  // 3 MiB of random data, then the same again shifted by an odd amount, then a third copy.
  const Bytes a = Random(3 << 20, 1);
  Bytes stream = a;
  Append(stream, Random(777, 2));
  Append(stream, a);
  Append(stream, a);
  DedupIndex index(64 << 20);
  int encoded = 0;
  const Bytes out = RoundTrip(stream, 1 << 20, 64 << 20, index, &encoded);
  EXPECT_TRUE(out == stream);
  EXPECT_GE(encoded, 5);
  // Nearly both repeats (6 MiB) go as references; chunk edges at the seams do not.
  EXPECT_GT(index.saved_bytes(), (6u << 20) - (256u << 10));
}

TEST(Dedup, ARepeatedBlockBecomesOneReference) {
  // The second copy starts on a block boundary, so its blocks are cut exactly like the first
  // copy's: every chunk repeats, and consecutive chunks merge into one reference per block.
  const Bytes a = Random(2 << 20, 15);
  DedupIndex index(64 << 20);
  Bytes scratch(1 << 20);
  for (size_t start = 0; start < a.size(); start += 1 << 20) {
    EXPECT_EQ(index.Encode(a.data() + start, 1 << 20, start, scratch.data()), 0u);
  }
  for (size_t start = 0; start < a.size(); start += 1 << 20) {
    const size_t e = index.Encode(a.data() + start, 1 << 20, a.size() + start, scratch.data());
    ASSERT_EQ(e, 4 + kDedupRefSize) << "block at " << start;
    EXPECT_EQ(static_cast<uint8_t>(scratch[3]), 1) << "one reference";
  }
  EXPECT_EQ(index.saved_bytes(), a.size());
}

TEST(Dedup, TheWindowThatFitsLeavesFourBlocksAndTheExpansionBuffer) {
  // 1 MiB blocks are 1 MiB + 4 KiB in the ring (framing rounded up to a page).
  const uint64_t room = 4 * ((1 << 20) + 4096) + (1 << 20);
  EXPECT_EQ(DedupWindowThatFits(128 << 20, 256 << 20, 1 << 20), 128u << 20);
  EXPECT_EQ(DedupWindowThatFits(128 << 20, 64 << 20, 1 << 20), (64u << 20) - room);
  EXPECT_EQ(DedupWindowThatFits(128 << 20, 256 << 20, 64 << 20), 0u);  // 5 x 64 MiB > 256 MiB
  EXPECT_EQ(DedupWindowThatFits(128 << 20, room + (512 << 10), 1 << 20), 0u);  // under 1 MiB
  EXPECT_EQ(DedupWindowThatFits(0, 256 << 20, 1 << 20), 0u);
}

TEST(Dedup, RandomDataHasNothingToReference) {
  const Bytes stream = Random(4 << 20, 3);
  DedupIndex index(64 << 20);
  int encoded = 0;
  EXPECT_TRUE(RoundTrip(stream, 1 << 20, 64 << 20, index, &encoded) == stream);
  EXPECT_EQ(encoded, 0);
  EXPECT_EQ(index.saved_bytes(), 0u);
}

TEST(Dedup, RepeatsOlderThanTheWindowAreSentAgain) {
  const Bytes a = Random(1 << 20, 4);
  Bytes stream = a;
  Append(stream, Random(4 << 20, 5));
  Append(stream, a);  // 5 MiB after its first copy
  DedupIndex index(2 << 20);
  int encoded = 0;
  EXPECT_TRUE(RoundTrip(stream, 1 << 20, 2 << 20, index, &encoded) == stream);
  EXPECT_EQ(index.saved_bytes(), 0u);
}

TEST(Dedup, ABlockNeverReferencesALaterBlockEncodedFirst) {
  // Workers finish out of order: block 1 is indexed before block 0 with the same content.
  const Bytes a = Random(1 << 20, 6);
  DedupIndex index(64 << 20);
  Bytes scratch(1 << 20);
  EXPECT_EQ(index.Encode(a.data(), a.size(), 1 << 20, scratch.data()), 0u);
  EXPECT_EQ(index.Encode(a.data(), a.size(), 0, scratch.data()), 0u);
  // Block 2 may use either copy.
  EXPECT_GT(index.Encode(a.data(), a.size(), 2 << 20, scratch.data()), 0u);
}

TEST(Dedup, WorkersEncodingConcurrentlyDecodeByteExact) {
  // As the transfer's workers do: blocks taken from a shared counter by four threads, so they
  // are indexed out of order; the receiver decodes in order. The first copy is indexed before
  // the workers start, so its repeats are found whatever the order.
  constexpr size_t kBlock = 256 << 10;
  const Bytes a = Random(2 << 20, 12);
  Bytes stream = a;
  Append(stream, Random(1 << 20, 13));
  Append(stream, a);
  Append(stream, Random(1 << 20, 14));
  Append(stream, a);
  const size_t blocks = stream.size() / kBlock;
  const size_t first = a.size() / kBlock;
  DedupIndex index(64 << 20);
  std::vector<Bytes> encoded(blocks, Bytes(kBlock));
  std::vector<size_t> sizes(blocks);
  auto encode = [&](size_t i) {
    sizes[i] = index.Encode(stream.data() + i * kBlock, kBlock, i * kBlock, encoded[i].data());
  };
  for (size_t i = 0; i < first; ++i) encode(i);
  std::atomic<size_t> next{first};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < blocks;) encode(i);
    });
  }
  for (std::thread& t : workers) t.join();

  DedupHistory history(64 << 20, kBlock);
  Bytes out;
  for (size_t i = 0; i < blocks; ++i) {
    const std::byte* raw = stream.data() + i * kBlock;
    size_t n = kBlock;
    if (sizes[i] > 0) {
      Result<std::span<const std::byte>> r = history.Expand(encoded[i].data(), sizes[i]);
      ASSERT_TRUE(r.ok()) << "block " << i << ": " << r.status().message();
      raw = r->data();
      n = r->size();
    }
    history.Append(raw, n);
    out.insert(out.end(), raw, raw + n);
  }
  EXPECT_TRUE(out == stream);
  EXPECT_GT(index.saved_bytes(), 3u << 20);  // most of the two later copies of `a`
}

// A hand-built encoded block: refs then literals.
Bytes Encoded(std::vector<std::array<uint64_t, 3>> refs, const Bytes& literals,
              uint32_t count_override = UINT32_MAX) {
  Bytes b;
  auto put = [&](uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<std::byte>(v >> (8 * i)));
  };
  put(count_override == UINT32_MAX ? refs.size() : count_override, 4);
  for (const auto& r : refs) {
    put(r[0], 4);
    put(r[1], 4);
    put(r[2], 8);
  }
  Append(b, literals);
  return b;
}

class DedupHistoryChecks : public ::testing::Test {
 protected:
  void SetUp() override { history_.Append(past_.data(), past_.size()); }
  Status Expand(const Bytes& b) { return history_.Expand(b.data(), b.size()).status(); }
  Bytes past_ = Random(8192, 7);
  DedupHistory history_{16384, 4096};
};

TEST_F(DedupHistoryChecks, ResolvesAReferenceBetweenLiterals) {
  const Bytes lit = Random(100, 8);
  const Bytes b = Encoded({{40, 1000, 8192}}, lit);  // 40 literals, 1000 from the past, 60
  Result<std::span<const std::byte>> raw = history_.Expand(b.data(), b.size());
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  ASSERT_EQ(raw->size(), 1100u);
  EXPECT_EQ(0, std::memcmp(raw->data(), lit.data(), 40));
  EXPECT_EQ(0, std::memcmp(raw->data() + 40, past_.data(), 1000));
  EXPECT_EQ(0, std::memcmp(raw->data() + 1040, lit.data() + 40, 60));
}

TEST_F(DedupHistoryChecks, RefusesEveryMalformedBlock) {
  struct Case {
    const char* name;
    Bytes block;
    const char* words;
  };
  const Bytes lit = Random(64, 9);
  const Case cases[] = {
      {"too short", Bytes(3), "too short"},
      {"no references", Encoded({}, lit), "announces 0"},
      {"count past the end", Encoded({{0, 10, 100}}, {}, 2), "room for 1"},
      {"before any history", Encoded({{0, 10, 9000}}, lit), "outside the window"},
      {"farther than the window", Encoded({{0, 10, 20000}}, lit), "outside the window"},
      {"longer than its distance", Encoded({{0, 200, 100}}, lit), "outside the window"},
      {"zero length", Encoded({{0, 0, 100}}, lit), "out of order"},
      {"out of order", Encoded({{50, 10, 100}, {20, 10, 100}}, lit), "out of order"},
      {"past the block", Encoded({{4090, 10, 100}}, lit), "past the block"},
      {"literals missing", Encoded({{100, 10, 100}}, lit), "ends inside its literals"},
      {"decodes past the block size", Encoded({{0, 4000, 8000}}, Random(200, 10)), "block size"},
  };
  for (const Case& c : cases) {
    Status s = Expand(c.block);
    EXPECT_EQ(s.code(), StatusCode::kDataLoss) << c.name;
    EXPECT_NE(s.message().find(c.words), std::string::npos) << c.name << ": " << s.message();
  }
}

TEST_F(DedupHistoryChecks, WindowWrapsAround) {
  // 12 KiB more history (20 KiB in all) wraps the 16 KiB ring; the newest 16 KiB stay reachable.
  const Bytes more = Random(12288, 11);
  history_.Append(more.data(), more.size());
  // Stream bytes 14384..18384 sit at the ring's end and start.
  Bytes b = Encoded({{0, 4000, 20480 - 14384}}, {});
  Result<std::span<const std::byte>> raw = history_.Expand(b.data(), b.size());
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  ASSERT_EQ(raw->size(), 4000u);
  EXPECT_EQ(0, std::memcmp(raw->data(), more.data() + (14384 - 8192), 4000));
  // The oldest byte still held is 16 KiB back.
  b = Encoded({{0, 4000, 16384}}, {});
  raw = history_.Expand(b.data(), b.size());
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ(0, std::memcmp(raw->data(), past_.data() + 4096, 4000));
  EXPECT_EQ(Expand(Encoded({{0, 10, 16385}}, {})).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace zsend
