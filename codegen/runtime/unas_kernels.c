/* See unas_kernels.h. Right shifts of negative values are arithmetic on
 * every compiler this project supports (gcc, clang, arm-none-eabi-gcc). */
#include "unas_kernels.h"

#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP == 1
#include <arm_acle.h>
#define UNAS_USE_DSP 1
#else
#define UNAS_USE_DSP 0
#endif

/* round(a * b / 2^31), ties toward +infinity (TFLite's nudge-and-truncate
 * form reduces to this single floor). TFLite saturates a = b = -2^31; the
 * multipliers b here are never negative, so that case cannot occur. */
static inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero. */
static inline int32_t rounding_divide_by_pot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Multipliers are in [0, 2^31) and shifts in [-31, 30] (the interpreter
 * admits no other model). */
static inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier,
                                                       int32_t shift) {
  if (shift > 0) {
    int64_t shifted = (int64_t)x * ((int64_t)1 << shift);
    if (shifted > INT32_MAX) shifted = INT32_MAX;
    if (shifted < INT32_MIN) shifted = INT32_MIN;
    return saturating_rounding_doubling_high_mul((int32_t)shifted, multiplier);
  }
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -shift);
}

int32_t unas_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int32_t shift) {
  return multiply_by_quantized_multiplier(x, multiplier, shift);
}

/* The output value of accumulator `acc` of channel `c`: requantised, then
 * clamped before the zero point is added (no int32 overflow, however small
 * the output's range). */
static inline int8_t requantize(const unas_layer_params* p, int32_t acc, int32_t c) {
  const int32_t v = multiply_by_quantized_multiplier(acc, p->multiplier[c], p->shift[c]);
  const int32_t lo = p->act_min - p->output_offset;
  const int32_t hi = p->act_max - p->output_offset;
  return (int8_t)((v < lo ? lo : (v > hi ? hi : v)) + p->output_offset);
}

static int8_t clamp_int8(int32_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

#if UNAS_USE_DSP
/* Four int8 values as one word (the Cortex-M4 loads it unaligned). */
static inline int32_t load4(const int8_t* p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}
/* Bytes 1 and 3 of v sign-extended to two halfwords (bytes 0 and 2:
 * __sxtb16(v)). */
static inline int32_t sxtb16_odd(int32_t v) {
  int32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
#endif

/* acc[0..3] += x . w of four interleaved channels (unas_layer_params.weights)
 * over one row of n values; returns the weights after the row. */
#if UNAS_USE_DSP
/* s[0..3] += four values of x times four values of each of four
 * interleaved channels (16 bytes of w). */
#define UNAS_BLOCK4(x, w)                         \
  do {                                            \
    const int32_t xv_ = load4(x);                 \
    const int32_t xe_ = __sxtb16(xv_);            \
    const int32_t xo_ = sxtb16_odd(xv_);          \
    int32_t v_ = load4(w);                        \
    s0 = __smlad(xe_, __sxtb16(v_), s0);          \
    s0 = __smlad(xo_, sxtb16_odd(v_), s0);        \
    v_ = load4((w) + 4);                          \
    s1 = __smlad(xe_, __sxtb16(v_), s1);          \
    s1 = __smlad(xo_, sxtb16_odd(v_), s1);        \
    v_ = load4((w) + 8);                          \
    s2 = __smlad(xe_, __sxtb16(v_), s2);          \
    s2 = __smlad(xo_, sxtb16_odd(v_), s2);        \
    v_ = load4((w) + 12);                         \
    s3 = __smlad(xe_, __sxtb16(v_), s3);          \
    s3 = __smlad(xo_, sxtb16_odd(v_), s3);        \
  } while (0)
#endif

/* acc[0..3] += x . w of four interleaved channels (unas_layer_params.weights)
 * over one row of n values; returns the weights after the row. */
static inline const int8_t* dot4(const int8_t* x, const int8_t* w, int32_t n, int32_t* acc) {
  int32_t s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];
  const int8_t* const end = x + (n & ~3);
  const int32_t tail = n & 3;
  int32_t k;
#if UNAS_USE_DSP
  for (; x != end; x += 4, w += 16) UNAS_BLOCK4(x, w);
#else
  for (; x != end; x += 4, w += 16) {
    for (k = 0; k < 4; ++k) {
      const int32_t xv = x[k];
      s0 += xv * w[k];
      s1 += xv * w[4 + k];
      s2 += xv * w[8 + k];
      s3 += xv * w[12 + k];
    }
  }
#endif
  for (k = 0; k < tail; ++k) {
    const int32_t xv = x[k];
    s0 += xv * w[k];
    s1 += xv * w[tail + k];
    s2 += xv * w[2 * tail + k];
    s3 += xv * w[3 * tail + k];
  }
  acc[0] = s0;
  acc[1] = s1;
  acc[2] = s2;
  acc[3] = s3;
  return w + 4 * tail;
}

/* n bytes from `from` to `to` (a window row into the gather buffer). */
static inline void copy_bytes(int8_t* to, const int8_t* from, int32_t n) {
#if UNAS_USE_DSP
  /* Words, then bytes. The empty asm keeps the compiler from turning the
   * loops back into a memcpy call (newlib-nano's copies byte by byte). */
  int32_t k = 0;
  for (; k + 4 <= n; k += 4) {
    int32_t v = load4(from + k);
    __asm__("" : "+r"(v));
    memcpy(to + k, &v, 4);
  }
  for (; k < n; ++k) {
    int32_t v = from[k];
    __asm__("" : "+r"(v));
    to[k] = (int8_t)v;
  }
#else
  memcpy(to, from, (size_t)n);
#endif
}

/* x . w over n int8 values, added to acc. */
static inline int32_t dot1(const int8_t* x, const int8_t* w, int32_t n, int32_t acc) {
  int32_t k = 0;
#if UNAS_USE_DSP
  for (; k + 4 <= n; k += 4) {
    const int32_t xv = load4(x + k), v = load4(w + k);
    acc = __smlad(__sxtb16(xv), __sxtb16(v), acc);
    acc = __smlad(sxtb16_odd(xv), sxtb16_odd(v), acc);
  }
#endif
  for (; k < n; ++k) acc += x[k] * w[k];
  return acc;
}

/* The output channels of one window: `rows` rows of `n` values, row r at
 * x + r * stride. */
static void channels(const unas_layer_params* p, const int8_t* x, int32_t rows, int32_t n,
                     int32_t stride, int8_t* out) {
  const int8_t* w = p->weights;
  int32_t oc, r;
  for (oc = 0; oc + 4 <= p->out_c; oc += 4) {
    int32_t acc[4] = {0, 0, 0, 0};
    for (r = 0; r < rows; ++r) w = dot4(x + r * stride, w, n, acc);
    out[oc] = requantize(p, acc[0] + p->bias[oc], oc);
    out[oc + 1] = requantize(p, acc[1] + p->bias[oc + 1], oc + 1);
    out[oc + 2] = requantize(p, acc[2] + p->bias[oc + 2], oc + 2);
    out[oc + 3] = requantize(p, acc[3] + p->bias[oc + 3], oc + 3);
  }
  for (; oc < p->out_c; ++oc) {
    int32_t acc = 0;
    for (r = 0; r < rows; ++r, w += n) acc = dot1(x + r * stride, w, n, acc);
    out[oc] = requantize(p, acc + p->bias[oc], oc);
  }
}

void unas_conv2d(const unas_layer_params* p, const int8_t* x, int8_t* y) {
  /* With valid padding a kernel row is kernel_w * in_c contiguous values. */
  const int32_t row = p->kernel_w * p->in_c;
  const int32_t line = p->in_w * p->in_c;
  int8_t window[UNAS_GATHER_BYTES];
  int32_t oy, ox, ky;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int8_t* base = x + (oy * p->stride_h * p->in_w + ox * p->stride_w) * p->in_c;
      int8_t* out = y + (oy * p->out_w + ox) * p->out_c;
      if (p->gather) {
        for (ky = 0; ky < p->kernel_h; ++ky) copy_bytes(window + ky * row, base + ky * line, row);
        channels(p, window, 1, p->kernel_h * row, 0, out);
      } else {
        channels(p, base, p->kernel_h, row, line, out);
      }
    }
  }
}

void unas_depthwise_conv2d(const unas_layer_params* p, const int8_t* x, int8_t* y) {
  const int32_t channels = p->in_c;
  const int32_t line = p->in_w * channels;
  const int32_t wrow = p->kernel_w * channels;
  int32_t oy, ox, c, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int8_t* base = x + (oy * p->stride_h * p->in_w + ox * p->stride_w) * channels;
      int8_t* out = y + (oy * p->out_w + ox) * channels;
      c = 0;
#if UNAS_USE_DSP
      /* Four channels per pass: channel c in the bottom halfword of the even
       * extraction, c + 2 in its top one, c + 1 and c + 3 in the odd one. */
      for (; c + 4 <= channels; c += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          const int8_t* xr = base + ky * line + c;
          const int8_t* wr = p->weights + ky * wrow + c;
          for (kx = 0; kx < p->kernel_w; ++kx, xr += channels, wr += channels) {
            const int32_t xv = load4(xr), wv = load4(wr);
            const int32_t xe = __sxtb16(xv), we = __sxtb16(wv);
            const int32_t xo = sxtb16_odd(xv), wo = sxtb16_odd(wv);
            s0 = __smlabb(xe, we, s0);
            s2 = __smlatt(xe, we, s2);
            s1 = __smlabb(xo, wo, s1);
            s3 = __smlatt(xo, wo, s3);
          }
        }
        out[c] = requantize(p, s0 + p->bias[c], c);
        out[c + 1] = requantize(p, s1 + p->bias[c + 1], c + 1);
        out[c + 2] = requantize(p, s2 + p->bias[c + 2], c + 2);
        out[c + 3] = requantize(p, s3 + p->bias[c + 3], c + 3);
      }
#endif
      for (; c < channels; ++c) {
        int32_t acc = 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          const int8_t* xr = base + ky * line + c;
          const int8_t* wr = p->weights + ky * wrow + c;
          for (kx = 0; kx < p->kernel_w; ++kx, xr += channels, wr += channels) acc += *xr * *wr;
        }
        out[c] = requantize(p, acc + p->bias[c], c);
      }
    }
  }
}

void unas_fully_connected(const unas_layer_params* p, const int8_t* x, int8_t* y) {
  channels(p, x, 1, p->in_h * p->in_w * p->in_c, 0, y);
}

static void pool(const unas_layer_params* p, const int8_t* x, int8_t* y, int is_max) {
  const int32_t count = p->kernel_h * p->kernel_w;
  const int32_t line = p->in_w * p->in_c;
  int32_t oy, ox, c, ky, kx;
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      const int8_t* base = x + (oy * p->stride_h * p->in_w + ox * p->stride_w) * p->in_c;
      int8_t* out = y + (oy * p->out_w + ox) * p->out_c;
      for (c = 0; c < p->out_c; ++c) {
        int32_t acc = is_max ? -128 : 0;
        for (ky = 0; ky < p->kernel_h; ++ky) {
          const int8_t* xr = base + ky * line + c;
          for (kx = 0; kx < p->kernel_w; ++kx) {
            const int32_t v = xr[kx * p->in_c];
            if (is_max) {
              acc = v > acc ? v : acc;
            } else {
              acc += v;
            }
          }
        }
        /* Average: divide rounding half away from zero (TFLite). */
        if (!is_max) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        out[c] = clamp_int8(acc, p->act_min, p->act_max);
      }
    }
  }
}

void unas_max_pool(const unas_layer_params* p, const int8_t* x, int8_t* y) { pool(p, x, y, 1); }

void unas_avg_pool(const unas_layer_params* p, const int8_t* x, int8_t* y) { pool(p, x, y, 0); }

/* One input value of an add, rescaled to the common scale. Input shifts are
 * never positive, and (v - zero point) * 2^left_shift fits int32. */
static inline int32_t add_term(const unas_add_params* p, const unas_add_input* in, int32_t v) {
  const int32_t shifted = (v - in->zero_point) * ((int32_t)1 << p->left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, in->multiplier),
                                -in->shift);
}

/* The sum's output value, clamped before the zero point is added. */
static inline int8_t add_output(const unas_add_params* p, int32_t sum) {
  const int32_t v = multiply_by_quantized_multiplier(sum, p->multiplier, p->shift);
  const int32_t lo = p->act_min - p->output_offset;
  const int32_t hi = p->act_max - p->output_offset;
  return (int8_t)((v < lo ? lo : (v > hi ? hi : v)) + p->output_offset);
}

/* The channels of one output pixel of a two-input add: inputs a and b
 * (null where the pixel lies in their zero padding) with ca, cb channels. */
static void add_pixel(const unas_add_params* p, const int8_t* xa, int32_t ca, const int8_t* xb,
                      int32_t cb, int8_t* out) {
  const unas_add_input* a = &p->inputs[0];
  const unas_add_input* b = &p->inputs[1];
  const int32_t both = ca < cb ? ca : cb;
  int32_t c = 0;
  for (; c < both; ++c) out[c] = add_output(p, add_term(p, a, xa[c]) + add_term(p, b, xb[c]));
  for (; c < ca; ++c) out[c] = add_output(p, add_term(p, a, xa[c]));
  for (; c < cb; ++c) out[c] = add_output(p, add_term(p, b, xb[c]));
  for (; c < p->out_c; ++c) out[c] = add_output(p, 0);
}

void unas_add(const unas_add_params* p, const int8_t* const* x, int8_t* y) {
  int32_t oy, ox, c, j;
  if (p->num_inputs == 2) {
    const unas_add_input* a = &p->inputs[0];
    const unas_add_input* b = &p->inputs[1];
    for (oy = 0; oy < p->out_h; ++oy) {
      for (ox = 0; ox < p->out_w; ++ox) {
        /* An in-place output shares its input's offsets: each value is read
         * before it is written. */
        const int in_a = oy < a->h && ox < a->w, in_b = oy < b->h && ox < b->w;
        add_pixel(p, in_a ? x[0] + (oy * a->w + ox) * a->c : 0, in_a ? a->c : 0,
                  in_b ? x[1] + (oy * b->w + ox) * b->c : 0, in_b ? b->c : 0,
                  y + (oy * p->out_w + ox) * p->out_c);
      }
    }
    return;
  }
  for (oy = 0; oy < p->out_h; ++oy) {
    for (ox = 0; ox < p->out_w; ++ox) {
      for (c = 0; c < p->out_c; ++c) {
        int32_t sum = 0;
        for (j = 0; j < p->num_inputs; ++j) {
          const unas_add_input* in = &p->inputs[j];
          /* Zero padding holds the real value 0: it adds nothing. */
          if (oy >= in->h || ox >= in->w || c >= in->c) continue;
          sum += add_term(p, in, x[j][(oy * in->w + ox) * in->c + c]);
        }
        y[(oy * p->out_w + ox) * p->out_c + c] = add_output(p, sum);
      }
    }
  }
}
