// Operator kinds and their hyper-parameters for the resource graph.
//
// Every operator has exactly one output tensor. Spatial operators work on NHWC tensors; all
// convolutions use "valid" padding (no implicit zero padding), as in the μNAS search spaces.

#ifndef UNAS_RESOURCE_MODELS_OPS_H_
#define UNAS_RESOURCE_MODELS_OPS_H_

#include <cstdint>
#include <string_view>

namespace unas::rm {

enum class OpKind {
  kInput,            // a model input; produces its tensor, costs nothing, never scheduled
  kConv2D,           // k×k convolution, valid padding
  kDepthwiseConv2D,  // k×k depthwise convolution, depth multiplier 1, valid padding
  kPool,             // max or average pooling
  kDense,            // fully connected; flattens its input (everything but the batch)
  kAdd,              // element-wise sum of n >= 1 inputs
};

std::string_view OpKindName(OpKind kind);

struct Conv2DParams {
  int64_t filters = 0;
  int64_t kernel = 1;  // square kernel: kernel × kernel
  int64_t stride = 1;  // same stride in both spatial dimensions
  bool use_bias = true;
};

struct DepthwiseConv2DParams {
  int64_t kernel = 1;
  int64_t stride = 1;
  bool use_bias = true;
};

enum class PoolType { kMax, kAvg };

// How the number of pooling windows along one axis is rounded when the windows do not tile the
// input exactly. kFloor is "valid" pooling, floor((H - p) / s) + 1: only whole windows. It is what
// the trained network does and the project's convention everywhere. kCeil, ceil((H - p) / s) + 1
// (ceil(H / p) when s == p), reproduces the original μNAS resource model, which describes a
// partial last window; keep it for comparing with the paper's numbers only.
enum class PoolRounding { kFloor, kCeil };

struct PoolParams {
  PoolType type = PoolType::kMax;
  int64_t pool_h = 2;
  int64_t pool_w = 2;
  int64_t stride_h = 0;  // 0 means "same as pool_h"
  int64_t stride_w = 0;  // 0 means "same as pool_w"
  PoolRounding rounding = PoolRounding::kFloor;
};

struct DenseParams {
  int64_t units = 0;
  bool use_bias = true;
};

enum class AddMode {
  kEqualShapes,   // every input must have the same shape
  kZeroPadToMax,  // inputs of equal rank; output is the element-wise maximum of the shapes and
                  // smaller inputs are zero-padded at the end of each axis (the CNN space's Add)
};

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_OPS_H_
