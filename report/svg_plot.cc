#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/format.h"

namespace unas::report::svg {
namespace {

constexpr double kFontSize = 12;
constexpr double kInset = 8;  // data never touches the frame

// 1, 2, 2.5, 5 times a power of ten, at least `raw` (1, 2, 5 for integers).
double NiceStep(double raw, bool integer) {
  if (!(raw > 0)) return 1;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / power;
  double nice = 10;
  if (f <= 1) {
    nice = 1;
  } else if (f <= 2) {
    nice = 2;
  } else if (f <= 2.5 && !integer) {
    nice = 2.5;
  } else if (f <= 5) {
    nice = 5;
  }
  double step = nice * power;
  if (integer) step = std::max(1.0, std::round(step));
  return step;
}

std::string Num(double v) { return absl::StrFormat("%.1f", v); }

// Presentation attributes of a style (and its class).
// Legend keys get the class prefixed with "legend-key " so that selecting
// class="pt pt-pareto" finds the data marks only.
std::string StyleAttrs(const Style& s, bool marker, absl::string_view class_prefix = "") {
  std::string out =
      absl::StrCat(" class=\"", class_prefix, EscapeHtml(s.css_class), "\" fill=\"", s.fill,
                   "\" stroke=\"", s.stroke, "\" stroke-width=\"", s.stroke_width, "\"");
  if (s.opacity < 1) {
    absl::StrAppend(&out, marker ? " fill-opacity=\"" : " opacity=\"", s.opacity, "\"");
  }
  if (!s.dash.empty()) absl::StrAppend(&out, " stroke-dasharray=\"", s.dash, "\"");
  return out;
}

const Style& DefaultStyle() {
  static const Style* style = [] {
    auto* s = new Style;
    s->css_class = "mark";
    s->fill = "#495057";
    return s;
  }();
  return *style;
}

const Style& StyleOr(const Style* s) { return s != nullptr ? *s : DefaultStyle(); }

// Text with a white halo, readable over grid lines and points.
std::string HaloText(double x, double y, absl::string_view anchor, absl::string_view css_class,
                     absl::string_view fill, absl::string_view text) {
  return absl::StrCat("<text class=\"", css_class, "\" x=\"", Num(x), "\" y=\"", Num(y),
                      "\" text-anchor=\"", anchor, "\" fill=\"", fill,
                      "\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\" "
                      "font-size=\"11\">",
                      EscapeHtml(text), "</text>\n");
}

}  // namespace

Axis Axis::Fit(Scale scale, const std::vector<double>& values,
               std::function<std::string(double)> format, bool integer_ticks) {
  if (!format) format = [](double v) { return FormatMinimalDecimals(v); };
  Axis axis;
  axis.scale_ = scale;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  for (double v : values) {
    if (!std::isfinite(v) || (scale == Scale::kLog && v <= 0)) continue;
    min = std::min(min, v);
    max = std::max(max, v);
  }

  if (scale == Scale::kLinear) {
    if (!(min <= max)) {
      min = 0;
      max = 1;
    } else if (max - min <= 1e-12 * std::max(1.0, std::fabs(max))) {
      const double v = min;
      const double pad = integer_ticks ? 1.0 : (v == 0 ? 1.0 : std::fabs(v) * 0.1);
      min = v - pad;
      max = v + pad;
      if (v >= 0 && min < 0) min = 0;  // non-negative data keeps a non-negative axis
    }
    const double step = NiceStep((max - min) / 5, integer_ticks);
    axis.lo_ = std::floor(min / step + 1e-9) * step;
    axis.hi_ = std::ceil(max / step - 1e-9) * step;
    if (axis.hi_ <= axis.lo_) axis.hi_ = axis.lo_ + step;
    const int count = static_cast<int>(std::round((axis.hi_ - axis.lo_) / step));
    for (int k = 0; k <= count; ++k) {
      double v = axis.lo_ + k * step;
      if (std::fabs(v) < step * 1e-9) v = 0;
      axis.ticks_.push_back({v, format(v)});
    }
    return axis;
  }

  // Logarithmic: at least 0.6 decades, padded by 6 % of the span each side.
  double lmin = 0;
  double lmax = 1;
  if (min <= max) {
    lmin = std::log10(min);
    lmax = std::log10(max);
  }
  if (lmax - lmin < 0.6) {
    const double center = (lmin + lmax) / 2;
    lmin = center - 0.3;
    lmax = center + 0.3;
  }
  const double pad = std::max(0.05, 0.06 * (lmax - lmin));
  lmin -= pad;
  lmax += pad;
  axis.lo_ = std::pow(10.0, lmin);
  axis.hi_ = std::pow(10.0, lmax);
  const double span = lmax - lmin;

  // Labelled mantissas: the sparsest set giving at least three labels
  // (decades only on wide axes), else the one giving the most.
  static const std::vector<std::vector<int>> kMantissaSets = {
      {1}, {1, 3}, {1, 2, 5}, {1, 2, 3, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
  const int decade_stride = span > 8 ? 2 : 1;
  const int first = static_cast<int>(std::floor(lmin));
  const int last = static_cast<int>(std::ceil(lmax));
  auto in_domain = [&](double v) {
    return v >= axis.lo_ * (1 - 1e-9) && v <= axis.hi_ * (1 + 1e-9);
  };
  auto labelled = [&](const std::vector<int>& set) {
    std::vector<double> values;
    for (int e = first; e <= last; ++e) {
      if (e % decade_stride != 0) continue;
      for (int m : set) {
        const double v = m * std::pow(10.0, e);
        if (in_domain(v)) values.push_back(v);
      }
    }
    return values;
  };
  std::vector<double> major;
  for (const std::vector<int>& set : kMantissaSets) {
    std::vector<double> values = labelled(set);
    if (values.size() > major.size()) major = std::move(values);
    if (major.size() >= 3) break;
  }
  for (int e = first; e <= last; ++e) {
    const double power = std::pow(10.0, e);
    for (int m = 1; m <= 9; ++m) {
      const double v = m * power;
      if (!in_domain(v)) continue;
      const bool is_major = std::any_of(major.begin(), major.end(),
                                        [&](double x) { return std::fabs(x - v) <= 1e-9 * v; });
      if (is_major) {
        axis.ticks_.push_back({v, format(v)});
      } else if (span <= 4) {
        axis.ticks_.push_back({v, ""});  // minor grid line
      }
    }
  }
  return axis;
}

double Axis::Map(double value) const {
  double t = 0;
  if (scale_ == Scale::kLog) {
    if (!(value > 0)) return 0;
    t = (std::log10(value) - std::log10(lo_)) / (std::log10(hi_) - std::log10(lo_));
  } else {
    t = (value - lo_) / (hi_ - lo_);
  }
  if (!std::isfinite(t)) return 0;
  return std::clamp(t, 0.0, 1.0);
}

bool Axis::Clamped(double value) const {
  if (scale_ == Scale::kLog && !(value > 0)) return true;
  const double tolerance = (hi_ - lo_) * 1e-9;
  return !(value >= lo_ - tolerance && value <= hi_ + tolerance);
}

std::string Render(const Plot& plot) {
  const double width = plot.width;
  const double height = plot.height;
  const double left = 78;
  const double right = 24;
  const double top = 62;
  const double bottom = 56;
  const double px0 = left;
  const double px1 = width - right;
  const double py0 = top;
  const double py1 = height - bottom;

  std::vector<double> xs;
  std::vector<double> ys;
  for (const Point& p : plot.points) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  for (const Polyline& line : plot.lines) {
    for (const auto& [x, y] : line.points) {
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  for (const RefLine& r : plot.ref_lines) (r.vertical ? xs : ys).push_back(r.value);
  const Axis x_axis = Axis::Fit(plot.x_scale, xs, plot.x_format, plot.x_integer);
  const Axis y_axis = Axis::Fit(plot.y_scale, ys, plot.y_format, plot.y_integer);
  auto X = [&](double v) { return px0 + kInset + x_axis.Map(v) * (px1 - px0 - 2 * kInset); };
  auto Y = [&](double v) { return py1 - kInset - y_axis.Map(v) * (py1 - py0 - 2 * kInset); };

  std::string out =
      absl::StrCat("<svg id=\"", EscapeHtml(plot.id), "\" class=\"", EscapeHtml(plot.css_class),
                   "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", width, " ", height,
                   "\" role=\"img\" aria-label=\"", EscapeHtml(plot.title),
                   "\" font-family=\"system-ui, "
                   "-apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif\" font-size=\"",
                   kFontSize, "\">\n<title>", EscapeHtml(plot.title), "</title>\n");

  // Title and legend.
  absl::StrAppend(&out, "<text class=\"plot-title\" x=\"", Num(px0 - 60),
                  "\" y=\"22\" "
                  "font-size=\"15\" font-weight=\"600\" fill=\"#212529\">",
                  EscapeHtml(plot.title), "</text>\n<g class=\"legend\">\n");
  double lx = px0 - 60;
  const double ly = 44;
  for (const LegendEntry& entry : plot.legend) {
    const Style& s = StyleOr(entry.style);
    switch (entry.marker) {
      case Marker::kDot:
      case Marker::kHollow:
        absl::StrAppend(&out, "<circle", StyleAttrs(s, true, "legend-key "), " cx=\"", Num(lx + 6),
                        "\" cy=\"", Num(ly - 4), "\" r=\"", std::min(s.radius, 5.5), "\"/>\n");
        lx += 16;
        break;
      case Marker::kLine:
      case Marker::kDashedLine:
        absl::StrAppend(&out, "<line", StyleAttrs(s, false, "legend-key "), " x1=\"", Num(lx),
                        "\" x2=\"", Num(lx + 22), "\" y1=\"", Num(ly - 4), "\" y2=\"", Num(ly - 4),
                        "\"/>\n");
        lx += 28;
        break;
    }
    absl::StrAppend(&out, "<text x=\"", Num(lx), "\" y=\"", Num(ly), "\" fill=\"#495057\">",
                    EscapeHtml(entry.label), "</text>\n");
    // No text metrics without a browser: an average glyph width is close
    // enough for short labels.
    lx += 6.6 * static_cast<double>(entry.label.size()) + 18;
  }
  absl::StrAppend(&out, "</g>\n");

  // Frame, region within bounds, grid.
  absl::StrAppend(&out, "<rect class=\"frame\" x=\"", Num(px0), "\" y=\"", Num(py0), "\" width=\"",
                  Num(px1 - px0), "\" height=\"", Num(py1 - py0),
                  "\" fill=\"#fcfcfd\" stroke=\"#ced4da\"/>\n");
  if (plot.shade_x_max || plot.shade_y_max) {
    const double sx1 = plot.shade_x_max ? X(*plot.shade_x_max) : px1;
    const double sy0 = plot.shade_y_max ? Y(*plot.shade_y_max) : py0;
    if (sx1 > px0 && sy0 < py1) {
      absl::StrAppend(&out, "<rect class=\"feasible-region\" x=\"", Num(px0), "\" y=\"", Num(sy0),
                      "\" width=\"", Num(sx1 - px0), "\" height=\"", Num(py1 - sy0),
                      "\" fill=\"#2f9e44\" fill-opacity=\"0.07\"/>\n");
    }
  }
  absl::StrAppend(&out, "<g class=\"grid\">\n");
  for (const Tick& t : x_axis.ticks()) {
    const double x = X(t.value);
    absl::StrAppend(&out, "<line x1=\"", Num(x), "\" x2=\"", Num(x), "\" y1=\"", Num(py0),
                    "\" y2=\"", Num(py1), "\" stroke=\"", t.label.empty() ? "#f1f3f5" : "#e2e6ea",
                    "\"/>\n");
  }
  for (const Tick& t : y_axis.ticks()) {
    const double y = Y(t.value);
    absl::StrAppend(&out, "<line x1=\"", Num(px0), "\" x2=\"", Num(px1), "\" y1=\"", Num(y),
                    "\" y2=\"", Num(y), "\" stroke=\"", t.label.empty() ? "#f1f3f5" : "#e2e6ea",
                    "\"/>\n");
  }
  absl::StrAppend(&out, "</g>\n<g class=\"axis x-axis\" fill=\"#495057\">\n");
  for (const Tick& t : x_axis.ticks()) {
    if (t.label.empty()) continue;
    const double x = X(t.value);
    absl::StrAppend(&out, "<line x1=\"", Num(x), "\" x2=\"", Num(x), "\" y1=\"", Num(py1),
                    "\" y2=\"", Num(py1 + 5),
                    "\" stroke=\"#868e96\"/>\n<text class=\"tick-label\" "
                    "x=\"",
                    Num(x), "\" y=\"", Num(py1 + 19), "\" text-anchor=\"middle\">",
                    EscapeHtml(t.label), "</text>\n");
  }
  absl::StrAppend(&out, "<text class=\"axis-label\" x=\"", Num((px0 + px1) / 2), "\" y=\"",
                  Num(height - 12), "\" text-anchor=\"middle\" font-size=\"13\" fill=\"#343a40\">",
                  EscapeHtml(plot.x_label), "</text>\n</g>\n");
  absl::StrAppend(&out, "<g class=\"axis y-axis\" fill=\"#495057\">\n");
  for (const Tick& t : y_axis.ticks()) {
    if (t.label.empty()) continue;
    const double y = Y(t.value);
    absl::StrAppend(&out, "<line x1=\"", Num(px0 - 5), "\" x2=\"", Num(px0), "\" y1=\"", Num(y),
                    "\" y2=\"", Num(y), "\" stroke=\"#868e96\"/>\n<text class=\"tick-label\" x=\"",
                    Num(px0 - 8), "\" y=\"", Num(y), "\" dy=\"0.32em\" text-anchor=\"end\">",
                    EscapeHtml(t.label), "</text>\n");
  }
  const double label_y = (py0 + py1) / 2;
  absl::StrAppend(&out, "<text class=\"axis-label\" x=\"18\" y=\"", Num(label_y),
                  "\" transform=\"rotate(-90 18 ", Num(label_y),
                  ")\" text-anchor=\"middle\" font-size=\"13\" fill=\"#343a40\">",
                  EscapeHtml(plot.y_label), "</text>\n</g>\n");

  // Lines, reference lines, points.
  for (const Polyline& line : plot.lines) {
    if (line.points.empty()) continue;
    std::string d;
    for (size_t i = 0; i < line.points.size(); ++i) {
      const double x = X(line.points[i].first);
      const double y = Y(line.points[i].second);
      if (i == 0) {
        absl::StrAppend(&d, "M", Num(x), " ", Num(y));
      } else if (line.step) {
        absl::StrAppend(&d, " H", Num(x), " V", Num(y));
      } else {
        absl::StrAppend(&d, " L", Num(x), " ", Num(y));
      }
    }
    absl::StrAppend(&out, "<path", StyleAttrs(StyleOr(line.style), false), " d=\"", d,
                    "\" stroke-linejoin=\"round\"/>\n");
  }
  for (const RefLine& r : plot.ref_lines) {
    const Style& s = StyleOr(r.style);
    if (r.vertical) {
      const double x = X(r.value);
      absl::StrAppend(&out, "<line", StyleAttrs(s, false), " x1=\"", Num(x), "\" x2=\"", Num(x),
                      "\" y1=\"", Num(py0), "\" y2=\"", Num(py1), "\"/>\n");
      const bool flip = x > px1 - 140;
      absl::StrAppend(&out, HaloText(flip ? x - 5 : x + 5, py0 + 14, flip ? "end" : "start",
                                     "bound-label", s.stroke, r.label));
    } else {
      const double y = Y(r.value);
      absl::StrAppend(&out, "<line", StyleAttrs(s, false), " x1=\"", Num(px0), "\" x2=\"", Num(px1),
                      "\" y1=\"", Num(y), "\" y2=\"", Num(y), "\"/>\n");
      const double ty = y < py0 + 16 ? y + 14 : y - 5;
      absl::StrAppend(&out, HaloText(px1 - 5, ty, "end", "bound-label", s.stroke, r.label));
    }
  }
  int on_floor = 0;
  for (const Point& p : plot.points) {
    if ((plot.x_scale == Scale::kLog && !(p.x > 0)) ||
        (plot.y_scale == Scale::kLog && !(p.y > 0))) {
      ++on_floor;
    }
    const Style& s = StyleOr(p.style);
    absl::StrAppend(&out, "<circle", StyleAttrs(s, true), " cx=\"", Num(X(p.x)), "\" cy=\"",
                    Num(Y(p.y)), "\" r=\"", s.radius, "\"");
    if (!p.id.empty()) absl::StrAppend(&out, " data-id=\"", EscapeHtml(p.id), "\"");
    if (p.tooltip.empty()) {
      absl::StrAppend(&out, "/>\n");
    } else {
      absl::StrAppend(&out, "><title>", EscapeHtml(p.tooltip), "</title></circle>\n");
    }
  }
  if (on_floor > 0) {
    absl::StrAppend(&out, HaloText(px1 - 6, py1 - 6, "end", "floor-note", "#868e96",
                                   absl::StrCat(on_floor, on_floor == 1 ? " point" : " points",
                                                " at 0, drawn on the axis floor")));
  }
  if (plot.points.empty() && plot.lines.empty()) {
    // On a white label: the bound lines may cross the middle of the frame.
    const double box_width = 7.5 * static_cast<double>(plot.empty_message.size()) + 28;
    const double cx = (px0 + px1) / 2;
    const double cy = py0 + (py1 - py0) * 0.38;
    absl::StrAppend(&out, "<rect class=\"empty-box\" x=\"", Num(cx - box_width / 2), "\" y=\"",
                    Num(cy - 16), "\" width=\"", Num(box_width),
                    "\" height=\"28\" rx=\"6\" "
                    "fill=\"#ffffff\" stroke=\"#dee2e6\"/>\n<text class=\"empty-message\" x=\"",
                    Num(cx), "\" y=\"", Num(cy + 3),
                    "\" text-anchor=\"middle\" font-size=\"14\" "
                    "font-style=\"italic\" fill=\"#868e96\">",
                    EscapeHtml(plot.empty_message), "</text>\n");
  }
  if (!plot.notice.empty()) {
    absl::StrAppend(&out, "<text class=\"notice\" x=\"", Num((px0 + px1) / 2), "\" y=\"",
                    Num(py0 + 24),
                    "\" text-anchor=\"middle\" font-size=\"14\" "
                    "font-style=\"italic\" fill=\"#868e96\" stroke=\"#ffffff\" stroke-width=\"3\" "
                    "paint-order=\"stroke\">",
                    EscapeHtml(plot.notice), "</text>\n");
  }
  absl::StrAppend(&out, "</svg>\n");
  return out;
}

}  // namespace unas::report::svg
