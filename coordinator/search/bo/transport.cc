#include "coordinator/search/bo/transport.h"

#include <lemon/network_simplex.h>
#include <lemon/static_graph.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>

namespace unas::search::bo {
namespace {

constexpr double kMassUnits = 68719476736.0;  // 2^36 per problem total
constexpr double kCostUnits = 16777216.0;     // 2^24 per unit cost
constexpr double kCostCap = 2.0;              // both dummies: 1 + 1

using Simplex = lemon::NetworkSimplex<lemon::StaticDigraph, int64_t, int64_t>;

// The complete bipartite graph of an a x b problem (rows 0..a, the dummy row
// a; columns a+1..a+b+1, the dummy column last) with its simplex, built once
// per shape and thread and reused: only supplies and costs change.
struct ShapeSolver {
  lemon::StaticDigraph graph;
  std::unique_ptr<lemon::StaticDigraph::ArcMap<int64_t>> cost;
  std::unique_ptr<lemon::StaticDigraph::NodeMap<int64_t>> supply;
  std::unique_ptr<Simplex> simplex;

  ShapeSolver(int a, int b) {
    std::vector<std::pair<int, int>> arcs;
    arcs.reserve(static_cast<size_t>(a + 1) * static_cast<size_t>(b + 1));
    for (int i = 0; i <= a; ++i) {
      for (int j = 0; j <= b; ++j) arcs.emplace_back(i, a + 1 + j);
    }
    graph.build(a + b + 2, arcs.begin(), arcs.end());
    cost = std::make_unique<lemon::StaticDigraph::ArcMap<int64_t>>(graph);
    supply = std::make_unique<lemon::StaticDigraph::NodeMap<int64_t>>(graph);
    simplex = std::make_unique<Simplex>(graph);
  }
};

ShapeSolver& SolverFor(int a, int b) {
  thread_local std::map<std::pair<int, int>, std::unique_ptr<ShapeSolver>> solvers;
  std::unique_ptr<ShapeSolver>& s = solvers[{a, b}];
  if (!s) s = std::make_unique<ShapeSolver>(a, b);
  return *s;
}

int64_t QuantisedCost(double c) { return std::llround(std::min(c, kCostCap) * kCostUnits); }

}  // namespace

std::vector<double> SolveDummyTransport(std::span<const double> row_mass,
                                        std::span<const double> col_mass,
                                        std::span<const std::vector<double>> costs) {
  const int a = static_cast<int>(row_mass.size());
  const int b = static_cast<int>(col_mass.size());
  double rows_sum = 0, cols_sum = 0;
  for (double m : row_mass) rows_sum += m;
  for (double m : col_mass) cols_sum += m;
  const double total = rows_sum + cols_sum;  // commutative: d(a, b) == d(b, a) exactly
  std::vector<double> result(costs.size(), 0.0);
  if (total <= 0) return result;
  if (a == 1 && b == 1) {
    // One layer on each side (always the case for the input and output
    // layers): the common mass moves at min(c, 2), the rest goes to a dummy.
    const double common = std::min(row_mass[0], col_mass[0]);
    for (size_t k = 0; k < costs.size(); ++k) {
      result[k] = common * std::min(costs[k][0], kCostCap) + std::abs(row_mass[0] - col_mass[0]);
    }
    return result;
  }
  const double quantum = total / kMassUnits;
  ShapeSolver& s = SolverFor(a, b);
  int64_t rows_total = 0, cols_total = 0;
  for (int i = 0; i < a; ++i) {
    int64_t m = std::llround(row_mass[i] / quantum);
    (*s.supply)[s.graph.node(i)] = m;
    rows_total += m;
  }
  for (int j = 0; j < b; ++j) {
    int64_t m = std::llround(col_mass[j] / quantum);
    (*s.supply)[s.graph.node(a + 1 + j)] = -m;
    cols_total += m;
  }
  (*s.supply)[s.graph.node(a)] = cols_total;
  (*s.supply)[s.graph.node(a + 1 + b)] = -rows_total;
  s.simplex->supplyMap(*s.supply);
  // Arc (i, j) is number i·(b+1) + j; the dummy arcs cost 1 (0 between the
  // dummies) whatever the matrix.
  for (int i = 0; i <= a; ++i) (*s.cost)[s.graph.arc(i * (b + 1) + b)] = QuantisedCost(1.0);
  for (int j = 0; j < b; ++j) (*s.cost)[s.graph.arc(a * (b + 1) + j)] = QuantisedCost(1.0);
  (*s.cost)[s.graph.arc(a * (b + 1) + b)] = 0;
  for (size_t k = 0; k < costs.size(); ++k) {
    const std::vector<double>& c = costs[k];
    for (int i = 0; i < a; ++i) {
      for (int j = 0; j < b; ++j) {
        (*s.cost)[s.graph.arc(i * (b + 1) + j)] = QuantisedCost(c[static_cast<size_t>(i) * b + j]);
      }
    }
    s.simplex->costMap(*s.cost);
    // Balanced, uncapacitated and every row reaches the dummy column: always
    // optimal.
    s.simplex->run();
    result[k] = static_cast<double>(s.simplex->totalCost<int64_t>()) * quantum / kCostUnits;
  }
  return result;
}

}  // namespace unas::search::bo
