// A small SVG plotting module for the report: 2-D plots with linear or
// logarithmic axes, ticks, grid lines, axis labels, a legend, markers with
// hover tooltips (<title>), dashed reference lines (bounds) and step lines.
//
// The SVG carries its look in presentation attributes, so it renders the
// same inline in a page, saved on its own or pasted into slides; every
// element also has a class (pt-pareto, pt-feasible, pt-infeasible,
// bound-line, ...) for styling and for tests. No JavaScript.
#ifndef UNAS_REPORT_SVG_PLOT_H_
#define UNAS_REPORT_SVG_PLOT_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace unas::report::svg {

enum class Scale { kLinear, kLog };

struct Tick {
  double value = 0;
  std::string label;  // empty for a minor tick (grid line only)
};

// A fitted axis: its domain and ticks. Values are mapped into [0, 1].
class Axis {
 public:
  // Fits a domain around `values` (non-finite ones ignored; on a log axis
  // also the values <= 0, which are drawn on the axis floor). `format`
  // writes tick labels. Degenerate inputs (none, one value, all equal,
  // nothing positive on a log axis) still give a usable axis.
  static Axis Fit(Scale scale, const std::vector<double>& values,
                  std::function<std::string(double)> format, bool integer_ticks = false);

  Scale scale() const { return scale_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  // Position in [0, 1]; values outside the domain are clamped, and on a
  // log axis values <= 0 map to 0 (the floor).
  double Map(double value) const;
  // True where Map() had to clamp a value that is not within the domain.
  bool Clamped(double value) const;
  const std::vector<Tick>& ticks() const { return ticks_; }

 private:
  Scale scale_ = Scale::kLinear;
  double lo_ = 0;
  double hi_ = 1;
  std::vector<Tick> ticks_;
};

enum class Marker { kDot, kHollow, kLine, kDashedLine };

// Visual style of one kind of mark; the class names it in the SVG.
struct Style {
  std::string css_class;
  std::string fill = "none";
  std::string stroke = "none";
  double stroke_width = 1;
  double opacity = 1;
  double radius = 4;  // markers
  std::string dash;   // stroke-dasharray, lines
};

struct Point {
  double x = 0;
  double y = 0;
  const Style* style = nullptr;  // must outlive Render()
  std::string tooltip;           // plain text; escaped when written
  std::string id;                // optional data-id attribute
};

struct RefLine {
  bool vertical = false;  // a vertical line at x = value, else horizontal at y = value
  double value = 0;
  std::string label;
  const Style* style = nullptr;
};

struct Polyline {
  std::vector<std::pair<double, double>> points;  // data coordinates
  bool step = false;  // horizontal then vertical between points ("step-after")
  const Style* style = nullptr;
};

struct LegendEntry {
  Marker marker = Marker::kDot;
  const Style* style = nullptr;
  std::string label;
};

struct Plot {
  std::string id;         // id attribute of the <svg>
  std::string css_class;  // class attribute of the <svg>
  std::string title;
  std::string x_label;
  std::string y_label;
  Scale x_scale = Scale::kLinear;
  Scale y_scale = Scale::kLinear;
  std::function<std::string(double)> x_format;
  std::function<std::string(double)> y_format;
  bool x_integer = false;
  bool y_integer = false;
  std::vector<Point> points;  // drawn in order: put the highlighted ones last
  std::vector<RefLine> ref_lines;
  std::vector<Polyline> lines;  // drawn under the points
  std::vector<LegendEntry> legend;
  // Shades {x <= x_max, y <= y_max} (either may be absent) when one is set:
  // the region within the bounds of a minimisation.
  std::optional<double> shade_x_max;
  std::optional<double> shade_y_max;
  // Shown in the middle of the frame when there are no points.
  std::string empty_message = "No data yet";
  // Shown at the top of the frame whether or not there are points.
  std::string notice;
  double width = 600;
  double height = 400;
};

// The <svg> element of a plot. The axis domains cover the points, the line
// vertices and the reference lines.
std::string Render(const Plot& plot);

}  // namespace unas::report::svg

#endif  // UNAS_REPORT_SVG_PLOT_H_
