#include "coordinator/http/network_svg.h"

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "report/format.h"
#include "resource_models/operators.h"

namespace unas::dashboard {
namespace {

constexpr double kBoxWidth = 210;
constexpr double kBoxHeight = 52;
constexpr double kColumnGap = 24;
constexpr double kRowGap = 34;
constexpr double kMargin = 16;

std::string Num(double v) { return absl::StrFormat("%.1f", v); }

// The operator's hyper-parameters in a few characters.
std::string Params(const rm::Operator& op) {
  switch (op.kind) {
    case rm::OpKind::kConv2D: {
      const auto& p = std::get<rm::Conv2DParams>(op.params);
      return absl::StrCat(p.filters, " × ", p.kernel, "×", p.kernel,
                          p.stride > 1 ? absl::StrCat(" /", p.stride) : "");
    }
    case rm::OpKind::kDepthwiseConv2D: {
      const auto& p = std::get<rm::DepthwiseConv2DParams>(op.params);
      return absl::StrCat(p.kernel, "×", p.kernel,
                          p.stride > 1 ? absl::StrCat(" /", p.stride) : "");
    }
    case rm::OpKind::kPool: {
      const auto& p = std::get<rm::PoolParams>(op.params);
      return absl::StrCat(p.type == rm::PoolType::kMax ? "max " : "avg ", p.pool_h, "×", p.pool_w);
    }
    case rm::OpKind::kDense:
      return absl::StrCat(std::get<rm::DenseParams>(op.params).units, " units");
    case rm::OpKind::kAdd:
      return absl::StrCat(op.inputs.size(), " inputs");
    case rm::OpKind::kInput:
      return "";
  }
  return "";
}

std::string Fill(rm::OpKind kind) {
  switch (kind) {
    case rm::OpKind::kInput:
      return "#f1f3f5";
    case rm::OpKind::kConv2D:
      return "#e7f5ff";
    case rm::OpKind::kDepthwiseConv2D:
      return "#e3fafc";
    case rm::OpKind::kPool:
      return "#fff9db";
    case rm::OpKind::kDense:
      return "#f3f0ff";
    case rm::OpKind::kAdd:
      return "#ebfbee";
  }
  return "#ffffff";
}

// Shortens a long layer name from the left ("…blocks[1].layers[0]").
std::string Fit(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  return absl::StrCat("…", text.substr(text.size() - (max_chars - 1)));
}

}  // namespace

std::string RenderNetworkSvg(const rm::Graph& graph) {
  const int n = graph.num_ops();
  // Rank: the longest path from an input, so every arrow points down.
  std::vector<int> rank(n, 0);
  for (rm::OpId id = 0; id < n; ++id) {  // ops are added after their inputs
    for (rm::TensorId t : graph.op(id).inputs) {
      const rm::OpId producer = graph.tensor(t).producer;
      if (producer != rm::kNone && producer < id) rank[id] = std::max(rank[id], rank[producer] + 1);
    }
  }
  const int rows = n == 0 ? 0 : *std::max_element(rank.begin(), rank.end()) + 1;
  std::vector<std::vector<rm::OpId>> by_rank(rows);
  for (rm::OpId id = 0; id < n; ++id) by_rank[rank[id]].push_back(id);
  size_t columns = 1;
  for (const auto& row : by_rank) columns = std::max(columns, row.size());

  const double width = 2 * kMargin + columns * kBoxWidth + (columns - 1) * kColumnGap;
  const double height = 2 * kMargin + rows * kBoxHeight + std::max(0, rows - 1) * kRowGap;
  std::vector<double> cx(n, 0);
  std::vector<double> top(n, 0);
  for (int r = 0; r < rows; ++r) {
    const double row_width = by_rank[r].size() * kBoxWidth + (by_rank[r].size() - 1) * kColumnGap;
    double x = (width - row_width) / 2 + kBoxWidth / 2;
    for (rm::OpId id : by_rank[r]) {
      cx[id] = x;
      top[id] = kMargin + r * (kBoxHeight + kRowGap);
      x += kBoxWidth + kColumnGap;
    }
  }

  std::string out = absl::StrCat(
      "<svg id=\"network\" class=\"network\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ",
      Num(width), " ", Num(height), "\" width=\"", Num(width), "\" height=\"", Num(height),
      "\" role=\"img\" aria-label=\"network graph\" font-family=\"system-ui, 'DejaVu Sans', "
      "sans-serif\" font-size=\"11\">\n<title>network graph: ",
      n,
      " operators</title>\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" "
      "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path "
      "d=\"M0 0 L10 5 L0 10 z\" fill=\"#868e96\"/></marker></defs>\n<g class=\"edges\">\n");
  for (rm::OpId id = 0; id < n; ++id) {
    for (rm::TensorId t : graph.op(id).inputs) {
      const rm::OpId from = graph.tensor(t).producer;
      if (from == rm::kNone) continue;
      const double x0 = cx[from];
      const double y0 = top[from] + kBoxHeight;
      const double x1 = cx[id];
      const double y1 = top[id];
      const double bend = (y1 - y0) / 2;
      absl::StrAppend(&out, "<path class=\"edge\" d=\"M", Num(x0), " ", Num(y0), " C", Num(x0), " ",
                      Num(y0 + bend), " ", Num(x1), " ", Num(y1 - bend), " ", Num(x1), " ",
                      Num(y1 - 1),
                      "\" fill=\"none\" stroke=\"#868e96\" stroke-width=\"1.3\" "
                      "marker-end=\"url(#arrow)\"><title>",
                      report::EscapeHtml(graph.tensor(t).name), " ",
                      report::EscapeHtml(rm::ShapeToString(graph.tensor(t).shape)), ", ",
                      graph.tensor(t).bytes(), " B</title></path>\n");
    }
  }
  absl::StrAppend(&out, "</g>\n<g class=\"nodes\">\n");
  for (rm::OpId id = 0; id < n; ++id) {
    const rm::Operator& op = graph.op(id);
    const bool output = op.output != rm::kNone && graph.is_output(op.output);
    const double x = cx[id] - kBoxWidth / 2;
    const std::string kind(rm::OpKindName(op.kind));
    const std::string params = Params(op);
    const rm::Shape shape = op.output != rm::kNone ? graph.tensor(op.output).shape : rm::Shape{};
    std::string detail = rm::ShapeToString(shape);
    if (op.kind != rm::OpKind::kInput) {
      const rm::OpCost cost = rm::ComputeOpCost(graph, id);
      if (cost.macs > 0) absl::StrAppend(&detail, " · ", report::FormatCount(cost.macs), " MACs");
      if (op.kernel != rm::kNone && graph.tensor(op.kernel).sparse_size.has_value()) {
        absl::StrAppend(&detail, " · ", *graph.tensor(op.kernel).sparse_size, " nz");
      }
    }
    absl::StrAppend(&out, "<g class=\"node op-", report::EscapeHtml(kind), output ? " output" : "",
                    "\" data-op=\"", report::EscapeHtml(op.name), "\"><title>",
                    report::EscapeHtml(op.name), "</title>\n");
    absl::StrAppend(&out, "<rect x=\"", Num(x), "\" y=\"", Num(top[id]), "\" width=\"",
                    Num(kBoxWidth), "\" height=\"", Num(kBoxHeight), "\" rx=\"7\" fill=\"",
                    Fill(op.kind), "\" stroke=\"#495057\" stroke-width=\"", output ? 2.2 : 1,
                    "\"/>\n");
    if (output) {
      absl::StrAppend(&out, "<rect x=\"", Num(x + 3), "\" y=\"", Num(top[id] + 3), "\" width=\"",
                      Num(kBoxWidth - 6), "\" height=\"", Num(kBoxHeight - 6),
                      "\" rx=\"5\" fill=\"none\" stroke=\"#495057\"/>\n");
    }
    absl::StrAppend(&out, "<text x=\"", Num(cx[id]), "\" y=\"", Num(top[id] + 16),
                    "\" text-anchor=\"middle\" font-weight=\"600\" fill=\"#212529\">",
                    report::EscapeHtml(kind), params.empty() ? "" : " ", report::EscapeHtml(params),
                    "</text>\n");
    absl::StrAppend(&out, "<text x=\"", Num(cx[id]), "\" y=\"", Num(top[id] + 30),
                    "\" text-anchor=\"middle\" fill=\"#495057\" font-size=\"10\">",
                    report::EscapeHtml(Fit(op.name, 34)), "</text>\n");
    absl::StrAppend(&out, "<text x=\"", Num(cx[id]), "\" y=\"", Num(top[id] + 44),
                    "\" text-anchor=\"middle\" fill=\"#495057\" font-size=\"10\">",
                    report::EscapeHtml(detail), "</text>\n</g>\n");
  }
  absl::StrAppend(&out, "</g>\n</svg>\n");
  return out;
}

}  // namespace unas::dashboard
