// Process-wide malloc settings for training. A training step allocates and
// frees the same large activation and gradient buffers (megabytes each) every
// batch; with glibc's defaults those go to mmap or get trimmed back to the
// kernel, so every step pays page faults and page clearing for them (13 % of
// a CPU training profile). Keeping freed memory in the heap for reuse costs
// nothing in peak RSS: the buffers are needed again by the next batch.
#ifndef UNAS_WORKER_MALLOC_TUNING_H_
#define UNAS_WORKER_MALLOC_TUNING_H_

namespace unas::worker {

// Idempotent and thread-safe; the first call applies the settings.
void KeepTrainingBuffersInHeap();

}  // namespace unas::worker

#endif  // UNAS_WORKER_MALLOC_TUNING_H_
