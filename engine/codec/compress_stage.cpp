#include "engine/codec/compress_stage.h"

#include <algorithm>

namespace zsend {
namespace {

// A block whose frame saves less than 1/64 (1.6%) of its size goes in the stored form: it
// decodes at memcpy speed and costs a few bytes instead of a few hundred.
bool WorthStoring(size_t raw, size_t coded) {
  return coded + raw / 64 >= raw;
}

}  // namespace

CompressStage::CompressStage(const CodecStageOptions& options, size_t ring_blocks)
    : options_(options),
      ring_blocks_(ring_blocks),
      level_(options.spec.level),
      controller_(options.adaptive) {
  if (options_.spec.adaptive) level_ = controller_.level();
}

Result<std::unique_ptr<CompressStage>> CompressStage::Create(const CodecStageOptions& options,
                                                             PipelineOptions& pipeline) {
  const size_t blocks = RingBlockCount(pipeline.ring);
  const size_t block_bytes = RingBlockBytes(pipeline.ring);
  if (blocks == 0) return InvalidArgument("--block-size must not be zero");
  std::unique_ptr<CompressStage> stage(new CompressStage(options, blocks));
  const int threads = CodecThreads(options.threads);
  for (int i = 0; i < threads; ++i) {
    Result<std::unique_ptr<Codec>> codec = MakeCodec(options.spec.format, options.spec.level);
    if (!codec.ok()) return codec.status();
    stage->codecs_.push_back(std::move(*codec));
  }
  Result<std::unique_ptr<OutputArena>> arena =
      OutputArena::Create(blocks, stage->codecs_[0]->MaxCompressedSize(block_bytes));
  if (!arena.ok()) return arena.status();
  stage->arena_ = std::move(*arena);
  // An empty stream still needs one frame for `zstd -d` and `gunzip` to accept it.
  if (options.spec.format != CodecFormat::kNone) {
    std::string empty(stage->codecs_[0]->MaxCompressedSize(0), '\0');
    Result<size_t> n = stage->codecs_[0]->Store(
        nullptr, 0, reinterpret_cast<std::byte*>(empty.data()), empty.size());
    if (!n.ok()) return n.status();
    empty.resize(*n);
    stage->sink_.set_empty_stream(std::move(empty));
  }
  pipeline.transform = stage.get();
  pipeline.workers = threads;
  // The output rate limit moves into our sink, where the controller can see it.
  stage->sink_.set_rate(pipeline.write_rate);
  pipeline.write_rate = 0;
  return stage;
}

ByteSink& CompressStage::WrapSink(ByteSink& sink) {
  sink_.Attach(&sink);
  return sink_;
}

Status CompressStage::Apply(Block& block, int worker) {
  const auto started = Clock::now();
  if (options_.spec.format == CodecFormat::kNone) {
    raw_.fetch_add(block.size, std::memory_order_relaxed);
    coded_.fetch_add(block.size, std::memory_order_relaxed);
    blocks_.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();  // block.out already points at the data
  }
  std::byte* slot = arena_->Slot(block.index);
  if (slot == nullptr || worker < 0 || static_cast<size_t>(worker) >= codecs_.size()) {
    return Internal("compress: block or worker index out of range");
  }
  Codec& codec = *codecs_[worker];
  const size_t capacity = arena_->slot_bytes();
  const int level = level_.load(std::memory_order_relaxed);
  bool stored = level == AdaptiveController::kStored;
  Result<size_t> n = size_t{0};
  if (!stored) {
    codec.set_level(level);
    n = codec.Compress(block.data, block.size, slot, capacity);
    if (!n.ok()) return n.status();
    // lz4 already stores incompressible blocks itself.
    stored = WorthStoring(block.size, *n) && codec.format() != CodecFormat::kLz4;
  }
  if (stored) {
    n = codec.Store(block.data, block.size, slot, capacity);
    if (!n.ok()) return n.status();
    stored_.fetch_add(1, std::memory_order_relaxed);
  }
  block.out = slot;
  block.out_size = *n;
  raw_.fetch_add(block.size, std::memory_order_relaxed);
  coded_.fetch_add(*n, std::memory_order_relaxed);
  blocks_.fetch_add(1, std::memory_order_relaxed);
  busy_ns_.fetch_add(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - started).count(),
      std::memory_order_relaxed);
  if (options_.spec.adaptive) MaybeAdapt();
  return Status::Ok();
}

void CompressStage::MaybeAdapt() {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start_).count();
  if (now < next_adapt_ns_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(adapt_mu_, std::try_to_lock);
  if (!lock.owns_lock() || now < next_adapt_ns_.load(std::memory_order_relaxed)) return;
  const auto interval = static_cast<int64_t>(options_.adaptive.interval_seconds * 1e9);
  next_adapt_ns_.store(now + interval, std::memory_order_relaxed);
  if (last_adapt_ns_ == 0) {  // the first call only starts the clock
    last_adapt_ns_ = now;
    last_busy_ns_ = busy_ns_.load();
    last_write_ns_ = sink_.write_ns();
    return;
  }
  const double wall = static_cast<double>(now - last_adapt_ns_);
  const int64_t busy = busy_ns_.load();
  AdaptiveSignals signals;
  signals.seconds = static_cast<double>(now) / 1e9;
  signals.workers_busy = std::min(1.0, static_cast<double>(busy - last_busy_ns_) /
                                           (wall * static_cast<double>(codecs_.size())));
  // Frames finished but not yet written, in blocks, as a share of the ring.
  const uint64_t blocks = blocks_.load(), coded = coded_.load(), written = sink_.bytes();
  const double per_block = blocks == 0 ? 1.0 : static_cast<double>(coded) / blocks;
  const double waiting =
      coded > written ? static_cast<double>(coded - written) / std::max(per_block, 1.0) : 0.0;
  signals.output_backlog = std::min(1.0, waiting / static_cast<double>(ring_blocks_));
  const int64_t write_ns = sink_.write_ns();
  signals.output_blocked = std::min(1.0, static_cast<double>(write_ns - last_write_ns_) / wall);
  last_adapt_ns_ = now;
  last_busy_ns_ = busy;
  last_write_ns_ = write_ns;
  level_.store(controller_.Observe(signals), std::memory_order_relaxed);
}

CodecStats CompressStage::stats() const {
  CodecStats s;
  s.mode = "compress";
  s.codec = CodecSpecName(options_.spec);
  s.blocks = blocks_.load();
  s.stored_blocks = stored_.load();
  s.raw_bytes = raw_.load();
  s.coded_bytes = coded_.load();
  const int level = level_.load();
  if (options_.spec.adaptive) {
    s.level = AdaptiveController::LevelName(level);
    std::lock_guard lock(adapt_mu_);
    s.decisions = controller_.decisions();
  } else {
    s.level = CodecSpecName(options_.spec);
  }
  return s;
}

}  // namespace zsend
