// The report's formatting (escaping, numbers) and SVG plotting (axes, ticks,
// labels) on their own.
#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "report/format.h"
#include "report/svg_plot.h"

namespace unas::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(FormatTest, Escaping) {
  EXPECT_EQ(EscapeHtml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

TEST(FormatTest, Numbers) {
  EXPECT_EQ(ShortestDouble(0.1), "0.1");
  EXPECT_EQ(ShortestDouble(12345), "12345");
  EXPECT_EQ(ShortestDouble(std::nan("")), "");
  const double awkward = 0.1 + 0.2;
  EXPECT_EQ(std::strtod(ShortestDouble(awkward).c_str(), nullptr), awkward);
  EXPECT_EQ(FormatBytes(950), "950 B");
  EXPECT_EQ(FormatBytes(16000), "16 kB");
  EXPECT_EQ(FormatBytes(12345), "12.3 kB");
  EXPECT_EQ(FormatBytes(2.5e6), "2.5 MB");
  EXPECT_EQ(FormatBytes(999999), "1 MB");
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatCount(1234567), "1.23M");
  EXPECT_EQ(FormatCount(500), "500");
  EXPECT_EQ(FormatPercent(0.1234), "12.34%");
  EXPECT_EQ(GroupThousands(1234567), "1,234,567");
  EXPECT_EQ(GroupThousands(-1000), "-1,000");
  EXPECT_EQ(GroupThousands(999), "999");
  EXPECT_EQ(FormatMinimalDecimals(2.5), "2.5");
  EXPECT_EQ(FormatMinimalDecimals(20), "20");
  EXPECT_EQ(FormatMinimalDecimals(0.125), "0.125");
}

// --- svg_plot.h ---------------------------------------------------------------

TEST(SvgAxisTest, LinearAxisHasNiceTicksCoveringTheData) {
  const svg::Axis axis = svg::Axis::Fit(svg::Scale::kLinear, {0.113, 0.42, 0.27}, nullptr);
  EXPECT_LE(axis.lo(), 0.113);
  EXPECT_GE(axis.hi(), 0.42);
  ASSERT_GE(axis.ticks().size(), 3u);
  EXPECT_LE(axis.ticks().size(), 8u);
  const double step = axis.ticks()[1].value - axis.ticks()[0].value;
  for (size_t i = 1; i < axis.ticks().size(); ++i) {
    EXPECT_NEAR(axis.ticks()[i].value - axis.ticks()[i - 1].value, step, 1e-12);
  }
  EXPECT_EQ(axis.Map(axis.lo()), 0);
  EXPECT_EQ(axis.Map(axis.hi()), 1);
}

TEST(SvgAxisTest, DegenerateLinearAxes) {
  const svg::Axis none = svg::Axis::Fit(svg::Scale::kLinear, {}, nullptr);
  EXPECT_LT(none.lo(), none.hi());
  const svg::Axis one = svg::Axis::Fit(svg::Scale::kLinear, {0.2}, nullptr);
  EXPECT_LT(one.lo(), 0.2);
  EXPECT_GT(one.hi(), 0.2);
  EXPECT_GE(one.lo(), 0);
  const svg::Axis zero = svg::Axis::Fit(svg::Scale::kLinear, {0, 0}, nullptr);
  EXPECT_EQ(zero.lo(), 0);
  EXPECT_GT(zero.hi(), 0);
  const svg::Axis ints =
      svg::Axis::Fit(svg::Scale::kLinear, {1, 3}, nullptr, /*integer_ticks=*/true);
  for (const auto& t : ints.ticks()) EXPECT_EQ(t.value, std::round(t.value));
}

TEST(SvgAxisTest, LogAxisIgnoresZerosAndLabelsDecades) {
  const svg::Axis axis =
      svg::Axis::Fit(svg::Scale::kLog, {0, 150, 2e5, -1}, [](double v) { return FormatBytes(v); });
  EXPECT_GT(axis.lo(), 0);
  EXPECT_LE(axis.lo(), 150);
  EXPECT_GE(axis.hi(), 2e5);
  EXPECT_EQ(axis.Map(0), 0);
  EXPECT_TRUE(axis.Clamped(0));
  EXPECT_FALSE(axis.Clamped(1000));
  std::vector<std::string> labels;
  for (const auto& t : axis.ticks()) {
    if (!t.label.empty()) labels.push_back(t.label);
  }
  EXPECT_THAT(labels, ::testing::IsSupersetOf({"1 kB", "10 kB", "100 kB"}));
  EXPECT_NEAR(axis.Map(std::sqrt(axis.lo() * axis.hi())), 0.5, 1e-9);
}

TEST(SvgAxisTest, NarrowLogAxisStillHasTwoLabelledTicks) {
  for (const std::vector<double>& values :
       std::vector<std::vector<double>>{{12000}, {11000, 13000}, {}, {0}}) {
    const svg::Axis axis = svg::Axis::Fit(svg::Scale::kLog, values, nullptr);
    int labelled = 0;
    for (const auto& t : axis.ticks()) labelled += t.label.empty() ? 0 : 1;
    EXPECT_GE(labelled, 2);
    for (double v : values) {
      if (v > 0) {
        EXPECT_GT(axis.Map(v), 0);
        EXPECT_LT(axis.Map(v), 1);
      }
    }
  }
}

TEST(SvgPlotTest, RendersEscapedLabelsAndEmptyMessage) {
  svg::Plot plot;
  plot.id = "p";
  plot.title = "A <b> title";
  plot.empty_message = "nothing & none";
  const std::string out = svg::Render(plot);
  EXPECT_THAT(out, HasSubstr("<svg id=\"p\""));
  EXPECT_THAT(out, HasSubstr("A &lt;b&gt; title"));
  EXPECT_THAT(out, HasSubstr("nothing &amp; none"));
  EXPECT_THAT(out, HasSubstr("viewBox=\"0 0 600 400\""));
  EXPECT_EQ(out.substr(out.size() - 7), "</svg>\n");
}

}  // namespace
}  // namespace unas::report
