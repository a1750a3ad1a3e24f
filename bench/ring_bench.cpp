// Micro-benchmark of the ring's hand-off cost: one producer and one consumer thread moving
// blocks without touching their contents, so the figure is the synchronisation overhead alone.
#include <benchmark/benchmark.h>

#include <thread>

#include "engine/ring/ring.h"

namespace zsend {
namespace {

void BM_RingHandOff(benchmark::State& state) {
  RingOptions options;
  options.block_size = static_cast<uint64_t>(state.range(0));
  options.memory = options.block_size * 64;
  auto ring = std::move(Ring::Create(options).value());
  for (auto _ : state) {
    const int kBlocks = 1000;
    std::thread producer([&] {
      for (int i = 0; i < kBlocks; ++i) {
        Block* b = ring->AcquireFree();
        b->size = 1;
        ring->Commit(b);
      }
    });
    for (int i = 0; i < kBlocks; ++i) ring->Release(ring->AcquireNext());
    producer.join();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_RingHandOff)->Arg(64 << 10)->Arg(1 << 20)->UseRealTime();

}  // namespace
}  // namespace zsend

BENCHMARK_MAIN();
