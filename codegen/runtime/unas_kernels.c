/* See unas_kernels.h. Right shifts of negative values are arithmetic on
 * every compiler this project supports (gcc, clang, arm-none-eabi-gcc). */
#include "unas_kernels.h"

/* round(a * b / 2^31), ties toward +infinity; a = b = -2^31 saturates. */
static int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  int64_t product;
  int64_t nudge;
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  product = (int64_t)a * (int64_t)b;
  nudge = product >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((product + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero. */
static int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t unas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  int64_t shifted = (int64_t)x * ((int64_t)1 << left);
  if (shifted > INT32_MAX) shifted = INT32_MAX;
  if (shifted < INT32_MIN) shifted = INT32_MIN;
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul((int32_t)shifted, multiplier),
                                right);
}

static int8_t clamp_int8(int32_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

static int8_t requantize(const unas_layer_params* p, int32_t acc, int32_t channel) {
  acc = unas_multiply_by_quantized_multiplier(acc, p->multiplier[channel], p->shift[channel]);
  return clamp_int8(acc + p->output_offset, p->act_min, p->act_max);
}

void unas_conv2d(const unas_layer_params* p, const int8_t* x, int8_t* y) {
  /* With valid padding a kernel row is kernel_w * in_c contiguous values. */
  const int32_t inner = p->kernel_w * p->in_c;
  int32_t oy, ox, oc, ky, k;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int8_t* patch = x + ((oy * p->stride_h) * p->in_w + ox * p->stride_w) * p->in_c;
      for (oc = 0; oc < p->out_c; ++oc) {
        const int8_t* w = p->weights + oc * p->kernel_h * inner;
        int32_t acc = 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          const int8_t* row = patch + ky * p->in_w * p->in_c;
          const int8_t* wrow = w + ky * inner;
          for (k = 0; k < inner; ++k) acc += ((int32_t)row[k] + p->input_offset) * wrow[k];
        }
        acc += p->bias[oc];
        y[(oy * p->out_w + ox) * p->out_c + oc] = requantize(p, acc, oc);
      }
    }
  }
}

void unas_depthwise_conv2d(const unas_layer_params* p, const int8_t* x, int8_t* y) {
  const int32_t channels = p->in_c;
  int32_t oy, ox, c, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      for (c = 0; c < channels; ++c) {
        int32_t acc = 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t iy = oy * p->stride_h + ky;
            const int32_t ix = ox * p->stride_w + kx;
            acc += ((int32_t)x[(iy * p->in_w + ix) * channels + c] + p->input_offset) *
                   p->weights[(ky * p->kernel_w + kx) * channels + c];
          }
        }
        acc += p->bias[c];
        y[(oy * p->out_w + ox) * channels + c] = requantize(p, acc, c);
      }
    }
  }
}

void unas_fully_connected(const unas_layer_params* p, const int8_t* x, int8_t* y) {
  const int32_t inner = p->in_h * p->in_w * p->in_c;
  int32_t oc, k;
  for (oc = 0; oc < p->out_c; ++oc) {
    const int8_t* w = p->weights + oc * inner;
    int32_t acc = 0;
    for (k = 0; k < inner; ++k) acc += ((int32_t)x[k] + p->input_offset) * w[k];
    acc += p->bias[oc];
    y[oc] = requantize(p, acc, oc);
  }
}

static void pool(const unas_layer_params* p, const int8_t* x, int8_t* y, int is_max) {
  const int32_t count = p->kernel_h * p->kernel_w;
  int32_t oy, ox, c, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      for (c = 0; c < p->out_c; ++c) {
        int32_t acc = is_max ? -128 : 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t iy = oy * p->stride_h + ky;
            const int32_t ix = ox * p->stride_w + kx;
            const int32_t v = x[(iy * p->in_w + ix) * p->in_c + c];
            if (is_max) {
              acc = v > acc ? v : acc;
            } else {
              acc += v;
            }
          }
        }
        /* Average: divide rounding half away from zero (TFLite). */
        if (!is_max) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        y[(oy * p->out_w + ox) * p->out_c + c] = clamp_int8(acc, p->act_min, p->act_max);
      }
    }
  }
}

void unas_max_pool(const unas_layer_params* p, const int8_t* x, int8_t* y) { pool(p, x, y, 1); }

void unas_avg_pool(const unas_layer_params* p, const int8_t* x, int8_t* y) { pool(p, x, y, 0); }

void unas_add(const unas_add_params* p, const int8_t* const* x, int8_t* y) {
  int32_t oy, ox, c, j;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      for (c = 0; c < p->out_c; ++c) {
        int32_t sum = 0;
        for (j = 0; j < p->num_inputs; ++j) {
          const unas_add_input* in = &p->inputs[j];
          int32_t shifted;
          /* Zero padding holds the real value 0: it adds nothing. */
          if (oy >= in->h || ox >= in->w || c >= in->c) continue;
          shifted = ((int32_t)x[j][(oy * in->w + ox) * in->c + c] - in->zero_point) *
                    ((int32_t)1 << p->left_shift);
          sum += unas_multiply_by_quantized_multiplier(shifted, in->multiplier, in->shift);
        }
        sum = unas_multiply_by_quantized_multiplier(sum, p->multiplier, p->shift);
        y[(oy * p->out_w + ox) * p->out_c + c] =
            clamp_int8(sum + p->output_offset, p->act_min, p->act_max);
      }
    }
  }
}
