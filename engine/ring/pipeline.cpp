#include "engine/ring/pipeline.h"

#include <pthread.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "base/units.h"
#include "engine/ring/digest.h"
#include "engine/ring/interrupt.h"
#include "engine/ring/rate_limiter.h"

namespace zsend {

const char* PipelineStageName(PipelineStage stage) {
  switch (stage) {
    case PipelineStage::kNone:
      return "none";
    case PipelineStage::kInput:
      return "input";
    case PipelineStage::kTransform:
      return "transform";
    case PipelineStage::kOutput:
      return "output";
    case PipelineStage::kWatchdog:
      return "watchdog";
    case PipelineStage::kStopped:
      return "stopped";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

// The first failure of a run and the stage it came from.
class FailureLatch {
 public:
  // Records the failure if it is the first; aborts the ring either way.
  void Fail(Ring& ring, PipelineStage stage, const Status& status) {
    {
      std::lock_guard lock(mu_);
      if (stage_ == PipelineStage::kNone) {
        stage_ = stage;
        status_ = status;
      }
    }
    ring.Abort(status);
  }
  PipelineStage stage() const {
    std::lock_guard lock(mu_);
    return stage_;
  }
  Status status() const {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  mutable std::mutex mu_;
  PipelineStage stage_ = PipelineStage::kNone;  // guarded by mu_
  Status status_;                               // guarded by mu_
};

// A stage thread that can be interrupted out of blocking calls and reports when it is done.
class StageThread {
 public:
  template <typename F>
  explicit StageThread(F body)
      : thread_([this, body = std::move(body)]() mutable {
          ClearThisThreadInterrupt();
          body();
          done_.store(true, std::memory_order_release);
        }) {}
  ~StageThread() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(std::memory_order_acquire); }
  void Interrupt() {
    if (!done()) zsend::Interrupt(thread_.native_handle());
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

struct Counters {
  std::atomic<uint64_t> in{0};
  std::atomic<uint64_t> out{0};
};

// After a short read (the source has nothing more just now), with part of a block in hand:
// true when the block should go to the consumer as it is, false to read on. It goes once the
// consumer runs dry, also when that happens while the source stays quiet: blocking in Read()
// with bytes in hand would stall a peer that waits for them before it sends more (a handshake
// through `buffer`). The source is polled every few milliseconds meanwhile.
bool HandOverPartialBlock(ByteSource& source, const Ring& ring) {
  constexpr int kPollMs = 5;
  for (;;) {
    if (ring.consumer_starving() || ring.aborted()) return true;
    if (source.WaitReadable(kPollMs)) return false;
  }
}

void ReaderLoop(ByteSource& source, Ring& ring, Counters& counters, Digest* digest, uint64_t rate,
                FailureLatch& failure) {
  RateLimiter limiter(rate);
  for (;;) {
    Block* block = ring.AcquireFree();
    if (block == nullptr) return;
    bool eof = false;
    while (block->size < block->capacity) {
      size_t want = limiter.MaxChunk(block->capacity - block->size);
      Status paced = limiter.Pace(want);
      if (!paced.ok()) {
        ring.Commit(block);
        return failure.Fail(ring, PipelineStage::kInput, paced);
      }
      Result<size_t> n = source.Read(block->data + block->size, want);
      if (n.ok()) limiter.Refund(want - *n);
      if (!n.ok()) {
        block->size = 0;
        ring.Commit(block);
        return failure.Fail(ring, PipelineStage::kInput, n.status());
      }
      if (*n == 0) {
        eof = true;
        break;
      }
      if (digest != nullptr) digest->Update(block->data + block->size, *n);
      block->size += *n;
      counters.in.fetch_add(*n, std::memory_order_relaxed);
      if (*n < want && HandOverPartialBlock(source, ring)) break;
    }
    ring.Commit(block);
    if (eof) {
      ring.CloseInput();
      return;
    }
  }
}

// The source as a BlockReader sees it: every byte counted, digested and paced.
class MeteredSource : public ByteSource {
 public:
  MeteredSource(ByteSource& source, Counters& counters, Digest* digest, uint64_t rate)
      : source_(source), counters_(counters), digest_(digest), limiter_(rate) {}
  Result<size_t> Read(std::byte* buf, size_t len) override {
    const size_t want = limiter_.MaxChunk(len);
    ZSEND_RETURN_IF_ERROR(limiter_.Pace(want));
    Result<size_t> n = source_.Read(buf, want);
    if (n.ok()) limiter_.Refund(want - *n);
    if (n.ok() && *n > 0) {
      if (digest_ != nullptr) digest_->Update(buf, *n);
      counters_.in.fetch_add(*n, std::memory_order_relaxed);
    }
    return n;
  }
  std::string Describe() const override { return source_.Describe(); }

 private:
  ByteSource& source_;
  Counters& counters_;
  Digest* digest_;
  RateLimiter limiter_;
};

void BlockReaderLoop(BlockReader& reader, ByteSource& source, Ring& ring, Counters& counters,
                     Digest* digest, uint64_t rate, FailureLatch& failure) {
  MeteredSource metered(source, counters, digest, rate);
  for (;;) {
    Block* block = ring.AcquireFree();
    if (block == nullptr) return;
    Result<bool> eof = reader.Fill(metered, *block);
    if (!eof.ok()) {
      block->size = 0;
      ring.Commit(block);
      return failure.Fail(ring, PipelineStage::kInput, eof.status());
    }
    ring.Commit(block);
    if (*eof) return ring.CloseInput();
  }
}

void WorkerLoop(Ring& ring, BlockTransform& transform, int index, FailureLatch& failure) {
  while (Block* block = ring.AcquireWork()) {
    Status status = transform.Apply(*block, index);
    if (!status.ok()) return failure.Fail(ring, PipelineStage::kTransform, status);
    ring.FinishWork(block);
  }
}

void WriterLoop(ByteSink& sink, Ring& ring, Counters& counters, uint64_t rate,
                OrderedTransform* ordered, FailureLatch& failure) {
  RateLimiter limiter(rate);
  while (Block* block = ring.AcquireNext()) {
    if (ordered != nullptr) {
      Status status = ordered->Apply(*block);
      if (!status.ok()) {
        ring.Release(block);
        return failure.Fail(ring, PipelineStage::kTransform, status);
      }
    }
    const std::byte* p = block->out;
    size_t left = block->out_size;
    while (left > 0) {
      size_t chunk = limiter.MaxChunk(left);
      Status status = limiter.Pace(chunk);
      if (status.ok()) status = sink.Write(p, chunk);
      if (!status.ok()) {
        ring.Release(block);
        return failure.Fail(ring, PipelineStage::kOutput, status);
      }
      p += chunk;
      left -= chunk;
      counters.out.fetch_add(chunk, std::memory_order_relaxed);
    }
    ring.Release(block);
  }
  if (ring.aborted()) return;
  Status finished = sink.Finish();
  if (!finished.ok()) failure.Fail(ring, PipelineStage::kOutput, finished);
}

// The writer waiting for a block means the input is what stalled, otherwise the output.
bool WatchdogApplies(PipelineOptions::WatchdogScope scope, bool consumer_waiting) {
  switch (scope) {
    case PipelineOptions::WatchdogScope::kInput:
      return consumer_waiting;
    case PipelineOptions::WatchdogScope::kOutput:
      return !consumer_waiting;
    default:
      return true;
  }
}

}  // namespace

PipelineResult Pipeline::Run(ByteSource& source, ByteSink& sink) {
  PipelineResult result;
  InstallInterruptHandler();
  RingOptions ring_options = options_.ring;
  ring_options.workers = options_.transform != nullptr;
  Result<std::unique_ptr<Ring>> made = Ring::Create(ring_options);
  if (!made.ok()) {
    result.status = made.status();
    result.failed_stage = PipelineStage::kInput;
    return result;
  }
  Ring& ring = **made;
  std::unique_ptr<Digest> digest;
  if (!options_.digest.empty()) {
    Result<std::unique_ptr<Digest>> d = Digest::Create(options_.digest);
    if (!d.ok()) {
      result.status = d.status();
      result.failed_stage = PipelineStage::kInput;
      return result;
    }
    digest = std::move(*d);
  }

  Counters counters;
  FailureLatch failure;
  const auto start = Clock::now();
  {
    std::vector<std::unique_ptr<StageThread>> threads;
    threads.push_back(std::make_unique<StageThread>([&] {
      if (options_.block_reader != nullptr) {
        BlockReaderLoop(*options_.block_reader, source, ring, counters, digest.get(),
                        options_.read_rate, failure);
      } else {
        ReaderLoop(source, ring, counters, digest.get(), options_.read_rate, failure);
      }
    }));
    for (int i = 0; options_.transform != nullptr && i < std::max(1, options_.workers); ++i) {
      threads.push_back(std::make_unique<StageThread>(
          [&, i] { WorkerLoop(ring, *options_.transform, i, failure); }));
    }
    threads.push_back(std::make_unique<StageThread>([&] {
      WriterLoop(sink, ring, counters, options_.write_rate, options_.ordered_transform, failure);
    }));

    // The monitor.
    auto last_report = start;
    auto last_motion = start;
    uint64_t seen_in = 0, seen_out = 0, report_in = 0, report_out = 0;
    const auto tick = std::chrono::milliseconds(20);
    for (;;) {
      bool all_done = true;
      for (auto& t : threads) all_done = all_done && t->done();
      if (all_done) break;
      std::this_thread::sleep_for(tick);
      const auto now = Clock::now();
      if (ring.aborted()) {
        for (auto& t : threads) t->Interrupt();
        continue;
      }
      if (options_.stop_requested && options_.stop_requested()) {
        failure.Fail(ring, PipelineStage::kStopped, Cancelled("stopped by a signal"));
        continue;
      }
      const uint64_t in = counters.in.load(std::memory_order_relaxed);
      const uint64_t out = counters.out.load(std::memory_order_relaxed);
      if (in != seen_in || out != seen_out) {
        seen_in = in;
        seen_out = out;
        last_motion = now;
      } else if (options_.watchdog_seconds > 0 &&
                 std::chrono::duration<double>(now - last_motion).count() >=
                     options_.watchdog_seconds &&
                 WatchdogApplies(options_.watchdog_scope, ring.consumer_waiting())) {
        // The writer waiting for a block means the input is what stalled; otherwise the
        // writer is stuck in (or paced before) a write the output does not accept.
        const bool input_side = ring.consumer_waiting();
        failure.Fail(
            ring, PipelineStage::kWatchdog,
            DeadlineExceeded(
                "watchdog: no data moved for " + FormatDuration(options_.watchdog_seconds) + " (" +
                (input_side ? "the input sent nothing" : "the output accepted nothing") + ")"));
        continue;
      }
      const double since_report = std::chrono::duration<double>(now - last_report).count();
      if (options_.on_progress && since_report >= options_.progress_interval) {
        PipelineProgress p;
        p.bytes_in = in;
        p.bytes_out = out;
        p.elapsed_seconds = std::chrono::duration<double>(now - start).count();
        p.rate_in = static_cast<double>(in - report_in) / since_report;
        p.rate_out = static_cast<double>(out - report_out) / since_report;
        p.fill_percent = 100.0 * static_cast<double>(ring.blocks_used()) /
                         static_cast<double>(ring.block_count());
        options_.on_progress(p);
        report_in = in;
        report_out = out;
        last_report = now;
      }
    }
  }  // joins every stage thread

  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.bytes_in = counters.in.load();
  result.bytes_out = counters.out.load();
  result.ring = ring.stats();
  result.failed_stage = failure.stage();
  result.status = failure.status();
  if (result.status.ok() && digest) result.digest_hex = digest->FinishHex();
  return result;
}

}  // namespace zsend
