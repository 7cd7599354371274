#include "worker/malloc_tuning.h"

#include <malloc.h>

#include <mutex>

namespace unas::worker {
namespace {

// Blocks below this come from the heap, not from their own mmap. 32 MiB is
// glibc's largest dynamic threshold on 64-bit; a Fashion-MNIST or CIFAR
// batch of a μNAS candidate has no larger activation.
constexpr int kMmapThresholdBytes = 32 << 20;
// Free memory at the top of the heap is returned to the kernel only above
// this, so a training step's buffers stay mapped between steps.
constexpr int kTrimThresholdBytes = 256 << 20;

}  // namespace

void KeepTrainingBuffersInHeap() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
    mallopt(M_TRIM_THRESHOLD, kTrimThresholdBytes);
  });
}

}  // namespace unas::worker
