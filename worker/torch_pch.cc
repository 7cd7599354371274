// Compiles worker/torch_pch.h once; the other LibTorch targets reuse it.
#include "worker/torch_pch.h"
