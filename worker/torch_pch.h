// The precompiled header shared by every LibTorch target of worker/ (see
// worker/CMakeLists.txt). Sources still include the smallest LibTorch header
// they need themselves; this only makes those includes cheap.
#ifndef UNAS_WORKER_TORCH_PCH_H_
#define UNAS_WORKER_TORCH_PCH_H_

#include <torch/torch.h>

#endif  // UNAS_WORKER_TORCH_PCH_H_
