#include "engine/ring/ring.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "base/units.h"

namespace zsend {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

size_t PercentOfBlocks(double percent, size_t count) {
  double blocks = std::ceil(percent / 100.0 * static_cast<double>(count));
  return std::clamp<size_t>(static_cast<size_t>(blocks), 0, count);
}

}  // namespace

Result<std::unique_ptr<Ring>> Ring::Create(const RingOptions& options) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (options.block_size == 0) return InvalidArgument("block size must not be zero");
  const size_t block_size = (options.block_size + page - 1) / page * page;
  const size_t count = options.memory / block_size;
  if (count < 2) {
    return InvalidArgument("buffer of " + FormatBytes(static_cast<double>(options.memory)) +
                           " holds fewer than 2 blocks of " +
                           FormatBytes(static_cast<double>(block_size)) +
                           "; raise --memory or lower --block-size");
  }
  const size_t mapped = count * block_size;
  void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    return Status(StatusCode::kResourceExhausted,
                  "cannot reserve " + FormatBytes(static_cast<double>(mapped)) +
                      " of address space for the buffer; lower --memory");
  }
  if (options.lock && mlock(base, mapped) != 0) {
    int err = errno;
    munmap(base, mapped);
    struct rlimit limit {};
    getrlimit(RLIMIT_MEMLOCK, &limit);
    std::string allowed = limit.rlim_cur == RLIM_INFINITY
                              ? "unlimited"
                              : FormatBytes(static_cast<double>(limit.rlim_cur));
    return Status(StatusCode::kResourceExhausted,
                  "cannot lock " + FormatBytes(static_cast<double>(mapped)) +
                      " of buffer memory (" +
                      std::string(err == ENOMEM || err == EPERM ? "RLIMIT_MEMLOCK is " + allowed
                                                                : "mlock failed") +
                      "); raise the limit with 'ulimit -l' or drop --lock");
  }
  return std::unique_ptr<Ring>(
      new Ring(static_cast<std::byte*>(base), mapped, block_size, count, options));
}

Ring::Ring(std::byte* base, size_t mapped, size_t block_size, size_t count, const RingOptions& o)
    : base_(base),
      mapped_bytes_(mapped),
      block_size_(block_size),
      options_(o),
      start_write_blocks_(PercentOfBlocks(o.start_write_percent, count)),
      resume_read_blocks_(std::max<size_t>(1, PercentOfBlocks(o.resume_read_percent, count))),
      blocks_(count) {
  free_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    blocks_[i].data = base_ + i * block_size_;
    blocks_[i].capacity = block_size_;
    blocks_[i].index = i;
  }
  // LIFO: block 0 on top, so a small stream only ever touches the first few blocks.
  for (size_t i = count; i-- > 0;) free_.push_back(&blocks_[i]);
  consumer_gate_open_ = start_write_blocks_ == 0;
  stats_.blocks_total = count;
}

Ring::~Ring() {
  munmap(base_, mapped_bytes_);
}

Block* Ring::AcquireFree() {
  std::unique_lock lock(mu_);
  auto start = Clock::now();
  bool waited = false;
  while (!aborted_ && !input_closed_ && (!producer_gate_open_ || free_.empty())) {
    if (free_.empty()) producer_gate_open_ = false;
    waited = true;
    free_cv_.wait(lock);
  }
  if (waited) stats_.producer_wait_seconds += SecondsSince(start);
  if (aborted_ || input_closed_) return nullptr;
  Block* block = free_.back();
  free_.pop_back();
  if (free_.empty()) producer_gate_open_ = false;
  block->state_ = Block::State::kFilling;
  block->size = 0;
  stats_.peak_blocks_used = std::max<uint64_t>(stats_.peak_blocks_used, UsedLocked());
  return block;
}

void Ring::Commit(Block* block) {
  std::lock_guard lock(mu_);
  if (block->size == 0 || aborted_) {
    block->state_ = Block::State::kFree;
    free_.push_back(block);
    if (UsedLocked() < resume_read_blocks_) producer_gate_open_ = true;
    free_cv_.notify_one();
    return;
  }
  block->sequence = next_sequence_++;
  block->out = block->data;
  block->out_size = block->size;
  block->out_flags = 0;
  in_order_.push_back(block);
  if (options_.workers) {
    block->state_ = Block::State::kCommitted;
    work_queue_.push_back(block);
    work_cv_.notify_one();
  } else {
    block->state_ = Block::State::kReady;
  }
  if (!consumer_gate_open_ && UsedLocked() >= start_write_blocks_) consumer_gate_open_ = true;
  ready_cv_.notify_one();
}

void Ring::CloseInput() {
  std::lock_guard lock(mu_);
  input_closed_ = true;
  consumer_gate_open_ = true;
  work_cv_.notify_all();
  ready_cv_.notify_all();
  free_cv_.notify_all();
}

Block* Ring::AcquireWork() {
  std::unique_lock lock(mu_);
  work_cv_.wait(lock, [&] { return aborted_ || !work_queue_.empty() || input_closed_; });
  if (aborted_ || work_queue_.empty()) return nullptr;
  Block* block = work_queue_.front();
  work_queue_.pop_front();
  block->state_ = Block::State::kWorking;
  return block;
}

void Ring::FinishWork(Block* block) {
  std::lock_guard lock(mu_);
  block->state_ = Block::State::kReady;
  if (!in_order_.empty() && in_order_.front() == block) ready_cv_.notify_one();
}

bool Ring::ConsumerGateOpenLocked() const {
  return consumer_gate_open_ && !in_order_.empty() &&
         in_order_.front()->state_ == Block::State::kReady;
}

Block* Ring::AcquireNext() {
  std::unique_lock lock(mu_);
  auto start = Clock::now();
  bool waited = false;
  for (;;) {
    if (aborted_) break;
    if (in_order_.empty()) {
      if (input_closed_) break;
      // Ran empty: wait for the -P threshold again before writing.
      if (start_write_blocks_ > 0) consumer_gate_open_ = false;
    }
    if (ConsumerGateOpenLocked()) {
      Block* block = in_order_.front();
      in_order_.pop_front();
      block->state_ = Block::State::kDraining;
      if (waited) stats_.consumer_wait_seconds += SecondsSince(start);
      return block;
    }
    waited = true;
    consumer_waiting_ = true;
    ready_cv_.wait(lock);
    consumer_waiting_ = false;
  }
  if (waited) stats_.consumer_wait_seconds += SecondsSince(start);
  return nullptr;
}

void Ring::Release(Block* block) {
  std::lock_guard lock(mu_);
  block->state_ = Block::State::kFree;
  block->size = 0;
  free_.push_back(block);
  if (UsedLocked() < resume_read_blocks_) producer_gate_open_ = true;
  if (producer_gate_open_) free_cv_.notify_one();
}

void Ring::Abort(const Status& status) {
  std::lock_guard lock(mu_);
  if (aborted_) return;
  aborted_ = true;
  abort_status_ = status.ok() ? Aborted("buffer aborted") : status;
  free_cv_.notify_all();
  work_cv_.notify_all();
  ready_cv_.notify_all();
}

bool Ring::aborted() const {
  std::lock_guard lock(mu_);
  return aborted_;
}

Status Ring::status() const {
  std::lock_guard lock(mu_);
  return abort_status_;
}

bool Ring::consumer_starving() const {
  std::lock_guard lock(mu_);
  return consumer_waiting_ && in_order_.empty();
}

bool Ring::consumer_waiting() const {
  std::lock_guard lock(mu_);
  return consumer_waiting_;
}

size_t Ring::blocks_used() const {
  std::lock_guard lock(mu_);
  return UsedLocked();
}

RingStats Ring::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace zsend
