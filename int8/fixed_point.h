// The integer arithmetic of TFLite's int8 specification, written from its
// definition (gemmlowp's fixed-point primitives and TFLite's quantisation
// parameter rules), so the reference interpreter (interpreter.h) and code
// generated from a QuantizedModel compute bit for bit the same numbers.
//
// A real multiplier M > 0 is stored as a 32-bit fixed-point mantissa
// m in [2^30, 2^31) (that is, m / 2^31 in [0.5, 1)) and an exponent:
// M = m / 2^31 * 2^shift. x * M is computed as
// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^left, m), right)
// with left = max(shift, 0), right = max(-shift, 0).
#ifndef UNAS_INT8_FIXED_POINT_H_
#define UNAS_INT8_FIXED_POINT_H_

#include <cstdint>

namespace unas::int8 {

// round(a * b / 2^31) with ties toward +infinity (gemmlowp's nudge, then a
// division truncating toward zero), saturated: the one overflowing case,
// a = b = -2^31, gives 2^31 - 1.
int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b);

// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
int32_t RoundingDivideByPOT(int32_t x, int exponent);

// x * (multiplier / 2^31) * 2^shift with TFLite's rounding. shift in
// [-31, 30]. A positive shift first multiplies x by 2^shift; where that
// overflows int32 it saturates (TFLite leaves it undefined; our converter
// never emits such a case for realistic tensors, and saturation is the
// defined behaviour generated code must reproduce).
int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift);

struct QuantizedMultiplier {
  int32_t multiplier = 0;  // 0, or in [2^30, 2^31)
  int shift = 0;           // in [-31, 30]
};

// The fixed-point form of a real multiplier >= 0 (frexp; mantissa rounded to
// 31 bits, a carry to 2^31 renormalised). Multipliers below 2^-32 become
// zero; above 2^30 they saturate at the largest representable value.
QuantizedMultiplier QuantizeMultiplier(double real);

// Affine int8 parameters: real = scale * (q - zero_point).
struct AffineParams {
  float scale = 1.0f;
  int32_t zero_point = 0;
};

// Per-tensor asymmetric activation parameters from a calibrated range, as
// TFLite's converter chooses them: the range is widened to include 0, the
// scale is (max - min) / 255 and the zero point -128 - min / scale is rounded
// and clamped to [-128, 127], so that real 0 is exactly representable. A
// range of only zeros gives scale 1, zero point 0.
AffineParams ChooseActivationParams(float min, float max);

// Symmetric per-channel weight scale: max|w| / 127 (1 for an all-zero
// channel); values are quantised to round(w / scale) in [-127, 127].
float SymmetricWeightScale(float max_abs);

// round(value / scale) + zero_point clamped to [lo, hi] (ties away from zero).
int32_t QuantizeValue(double value, double scale, int32_t zero_point, int32_t lo, int32_t hi);

// The clamp of an op's int8 output: [-128, 127], or with a fused ReLU
// [max(-128, zero_point), 127] (real values below 0 are cut, as TFLite's
// CalculateActivationRangeQuantized does).
struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
};
ActivationRange FusedActivationRange(bool relu, int32_t output_zero_point);

// The left shift TFLite's int8 ADD applies to both inputs before rescaling
// them to a common scale, keeping 20 fractional bits of precision.
inline constexpr int kAddLeftShift = 20;

}  // namespace unas::int8

#endif  // UNAS_INT8_FIXED_POINT_H_
