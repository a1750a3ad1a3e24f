#include "fuzz/decode_common.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/codec/codec_stage.h"
#include "engine/codec/decompress_stage.h"

namespace zsend::fuzz {
namespace {

constexpr size_t kMaxOutput = 4 << 20;

class BytesSource : public ByteSource {
 public:
  BytesSource(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  Result<size_t> Read(std::byte* buf, size_t len) override {
    // Odd chunk sizes exercise the frame carry-over.
    const size_t n = std::min({len, size_ - pos_, size_t{777}});
    std::memcpy(buf, data_ + pos_, n);
    pos_ += n;
    return n;
  }
  std::string Describe() const override { return "fuzz input"; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

void WholeFrame(Codec& codec, const std::byte* in, size_t size) {
  FrameProbe probe = codec.Probe(in, size);
  if (probe.kind != FrameProbe::Kind::kComplete || probe.compressed_size > size) return;
  std::vector<std::byte> out(std::min<uint64_t>(probe.max_content_size, kMaxOutput) + 1);
  (void)codec.DecompressFrame(in, probe.compressed_size, out.data(), out.size());
}

void Stream(Codec& codec, const std::byte* in, size_t size) {
  std::unique_ptr<StreamDecoder> decoder = codec.NewStreamDecoder();
  std::vector<std::byte> out(64 << 10);
  size_t fed = 0, produced = 0;
  while (produced < kMaxOutput) {
    StreamBuffers b;
    b.in = in + fed;
    b.in_size = std::min<size_t>(size - fed, 1000);
    b.out = out.data();
    b.out_size = out.size();
    if (!decoder->Decode(b).ok()) return;
    fed += b.in_pos;
    produced += b.out_pos;
    if (b.in_pos == 0 && b.out_pos == 0) return;
  }
}

void Stage(const uint8_t* data, size_t size) {
  PipelineOptions pipeline;
  pipeline.ring.block_size = 64 << 10;
  pipeline.ring.memory = 4 * (128 << 10);
  CodecStageOptions options;
  options.mode = CodecStageOptions::Mode::kDecompress;
  options.threads = 1;
  Result<std::unique_ptr<CodecStage>> made = CodecStage::Create(options, pipeline);
  if (!made.ok()) __builtin_trap();
  auto* stage = static_cast<DecompressStage*>(made->get());
  std::vector<std::byte> memory(pipeline.ring.block_size + 4096);
  BytesSource source(data, size);
  size_t produced = 0;
  for (int blocks = 0; blocks < 1000 && produced < kMaxOutput; ++blocks) {
    Block block;
    block.data = memory.data();
    block.capacity = pipeline.ring.block_size;
    block.index = 0;
    Result<bool> eof = stage->Fill(source, block);
    if (!eof.ok()) return;
    if (block.size > block.capacity) __builtin_trap();
    block.out = block.data;
    block.out_size = block.size;
    if (block.size > 0 && !stage->Apply(block, 0).ok()) return;
    produced += block.out_size;
    if (*eof) return;
  }
}

}  // namespace

int DecodeOne(CodecFormat format, const uint8_t* data, size_t size) {
  Result<std::unique_ptr<Codec>> codec = MakeCodec(format, LevelRangeOf(format).default_level);
  if (!codec.ok()) return 0;
  const auto* in = reinterpret_cast<const std::byte*>(data);
  WholeFrame(**codec, in, size);
  Stream(**codec, in, size);
  Stage(data, size);
  return 0;
}

}  // namespace zsend::fuzz
