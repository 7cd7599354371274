#include "int8/fixed_point.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace unas::int8 {

int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  if (a == kMin && b == kMin) return std::numeric_limits<int32_t>::max();
  const int64_t product = int64_t{a} * int64_t{b};
  const int64_t nudge = product >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // Integer division truncates toward zero; with the nudge this rounds the
  // doubled high half to nearest.
  return static_cast<int32_t>((product + nudge) / (int64_t{1} << 31));
}

int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // An arithmetic shift floors; the remainder test turns that into rounding
  // half away from zero.
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int64_t shifted = int64_t{x} * (int64_t{1} << left);
  const int32_t saturated = static_cast<int32_t>(std::clamp<int64_t>(
      shifted, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(saturated, multiplier), right);
}

QuantizedMultiplier QuantizeMultiplier(double real) {
  QuantizedMultiplier q;
  if (!(real > 0.0)) return q;
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);  // in [0.5, 1)
  int64_t fixed = std::llround(mantissa * static_cast<double>(int64_t{1} << 31));
  if (fixed == (int64_t{1} << 31)) {  // rounded up to 1.0
    fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) return q;  // below the smallest representable: zero
  if (exponent > 30) {
    q.multiplier = std::numeric_limits<int32_t>::max();
    q.shift = 30;
    return q;
  }
  q.multiplier = static_cast<int32_t>(fixed);
  q.shift = exponent;
  return q;
}

AffineParams ChooseActivationParams(float min, float max) {
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  AffineParams p;
  if (!(max > min)) return p;  // only zeros (or NaN): scale 1, zero point 0
  p.scale = (max - min) / 255.0f;
  const double zero_point_from_min = -128.0 - static_cast<double>(min) / p.scale;
  if (zero_point_from_min <= -128.0) {
    p.zero_point = -128;
  } else if (zero_point_from_min >= 127.0) {
    p.zero_point = 127;
  } else {
    p.zero_point = static_cast<int32_t>(std::round(zero_point_from_min));
  }
  return p;
}

float SymmetricWeightScale(float max_abs) { return max_abs > 0.0f ? max_abs / 127.0f : 1.0f; }

int32_t QuantizeValue(double value, double scale, int32_t zero_point, int32_t lo, int32_t hi) {
  const double q = std::round(value / scale) + zero_point;
  if (!(q >= lo)) return lo;  // also NaN
  if (q > hi) return hi;
  return static_cast<int32_t>(q);
}

ActivationRange FusedActivationRange(bool relu, int32_t output_zero_point) {
  ActivationRange r;
  if (relu) r.min = std::max(-128, output_zero_point);
  return r;
}

}  // namespace unas::int8
