/* Integer-only int8 kernels of a network exported by unasctl (C99, no
 * floating point, no allocation). Their arithmetic is TFLite's int8
 * specification exactly as unas' reference interpreter computes it: int32
 * accumulation, per-channel requantisation by a rounding doubling high
 * multiply and a rounding division by a power of two, valid padding.
 * Tensors are NHWC; weights OHWI (conv2d), 1HWC (depthwise), [out][in]
 * (fully connected), with the conv2d and fully connected weights of each
 * group of four output channels interleaved (unas_layer_params.weights).
 *
 * Speed: the generator folds the input zero point into the bias (bias -
 * zero point * sum of the channel's weights, as CMSIS-NN does), so the inner
 * loops multiply raw int8 values. On a Cortex-M with the DSP extension
 * (__ARM_FEATURE_DSP: Cortex-M4, M7, M33) the dot products take four
 * products per two SMLAD instructions; elsewhere a portable loop the
 * compiler may vectorise. Both give the same bits. Each function has one
 * CMSIS-NN counterpart (see docs/deploy.md of unas). */
#ifndef UNAS_KERNELS_H_
#define UNAS_KERNELS_H_

#include <stdint.h>

/* Conv2d, depthwise conv2d, fully connected (in_h = in_w = 1, in_c = the
 * flattened input size) and pools (no weights, bias or multipliers). */
typedef struct {
  int32_t in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t kernel_h, kernel_w, stride_h, stride_w;
  int32_t output_offset; /* the output zero point */
  int32_t act_min, act_max;
  /* Conv2d: 1 when a window (kernel_h * kernel_w * in_c values) fits
   * UNAS_GATHER_BYTES: each window is first copied to a contiguous buffer on
   * the stack and read as one row; 0: read row by row (kernel_w * in_c
   * contiguous values each). */
  int32_t gather;
  /* Conv2d and fully connected: the OHWI (or [out][in]) weights of output
   * channels 4g..4g+3 are interleaved: for each row (see gather; a fully
   * connected layer has one row of in_c values), blocks of four values of
   * channel 4g, 4g+1, 4g+2, 4g+3 in turn, then the row's last (length mod 4)
   * values of each channel in turn. The out_c mod 4 last channels follow in
   * plain order. Depthwise: 1HWC as it is. */
  const int8_t* weights;
  const int32_t* bias;       /* per output channel, the input zero point folded in */
  const int32_t* multiplier; /* per output channel */
  const int32_t* shift;      /* per output channel */
} unas_layer_params;

/* One input of an add: its extent (smaller ones are zero-padded at the
 * bottom, right and last channels), zero point and rescaling. */
typedef struct {
  int32_t h, w, c;
  int32_t zero_point;
  int32_t multiplier, shift;
} unas_add_input;

typedef struct {
  int32_t out_h, out_w, out_c;
  int32_t output_offset;
  int32_t multiplier, shift; /* of the sum */
  int32_t left_shift;        /* applied to every input first */
  int32_t act_min, act_max;
  int32_t num_inputs;
  const unas_add_input* inputs;
} unas_add_params;

/* The window buffer of a gathering conv2d, on the stack. */
#define UNAS_GATHER_BYTES 256

/* x * (multiplier / 2^31) * 2^shift with TFLite's rounding. */
int32_t unas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift);

void unas_conv2d(const unas_layer_params* p, const int8_t* x, int8_t* y);
void unas_depthwise_conv2d(const unas_layer_params* p, const int8_t* x, int8_t* y);
void unas_fully_connected(const unas_layer_params* p, const int8_t* x, int8_t* y);
void unas_max_pool(const unas_layer_params* p, const int8_t* x, int8_t* y);
void unas_avg_pool(const unas_layer_params* p, const int8_t* x, int8_t* y);
/* y may be one of the inputs when that input has y's extent (in place). */
void unas_add(const unas_add_params* p, const int8_t* const* x, int8_t* y);

#endif /* UNAS_KERNELS_H_ */
