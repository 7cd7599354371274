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
// per shape and thread and reused: only supplies and costs change. The
// vectors are scratch space of the calls on this shape, kept to save their
// allocations (a distance solves thousands of these small problems).
struct ShapeSolver {
  lemon::StaticDigraph graph;
  std::unique_ptr<lemon::StaticDigraph::NodeMap<int64_t>> supply;
  std::unique_ptr<Simplex> simplex;
  std::vector<int64_t> cost, flow, pi;
  std::vector<int> degree, incident, fill, stack;
  std::vector<char> seen;

  ShapeSolver(int a, int b) {
    std::vector<std::pair<int, int>> arcs;
    arcs.reserve(static_cast<size_t>(a + 1) * static_cast<size_t>(b + 1));
    for (int i = 0; i <= a; ++i) {
      for (int j = 0; j <= b; ++j) arcs.emplace_back(i, a + 1 + j);
    }
    graph.build(a + b + 2, arcs.begin(), arcs.end());
    supply = std::make_unique<lemon::StaticDigraph::NodeMap<int64_t>>(graph);
    simplex = std::make_unique<Simplex>(graph);
  }
};

// The simplex reads its costs through this view of ShapeSolver::cost (arc
// ids are the arc numbers), which saves copying them into an arc map first.
struct CostView {
  using Key = lemon::StaticDigraph::Arc;
  using Value = int64_t;
  const std::vector<int64_t>* cost;
  Value operator[](const Key& arc) const {
    return (*cost)[static_cast<size_t>(lemon::StaticDigraph::id(arc))];
  }
};

ShapeSolver& SolverFor(int a, int b) {
  // Shapes up to kDirect x kDirect by index (nearly all of them), larger
  // ones in a map.
  constexpr int kDirect = 32;
  thread_local std::vector<std::unique_ptr<ShapeSolver>> direct(kDirect * kDirect);
  thread_local std::map<std::pair<int, int>, std::unique_ptr<ShapeSolver>> others;
  std::unique_ptr<ShapeSolver>& s =
      a < kDirect && b < kDirect ? direct[static_cast<size_t>(a * kDirect + b)] : others[{a, b}];
  if (!s) s = std::make_unique<ShapeSolver>(a, b);
  return *s;
}

// std::llround for the non-negative values quantised here, without the
// library call: x - trunc(x) is exact, so halves round up as llround's do.
int64_t RoundNonNegative(double x) {
  const auto whole = static_cast<int64_t>(x);
  return whole + (x - static_cast<double>(whole) >= 0.5 ? 1 : 0);
}

int64_t QuantisedCost(double c) { return RoundNonNegative(std::min(c, kCostCap) * kCostUnits); }

// Whether `s.flow`, optimal for some costs, is optimal for `s.cost` too, by
// LP duality: potentials π with cost(u,v) + π(u) − π(v) = 0 on every arc
// carrying flow (π is fixed along the flow's forest, 0 at one node of each
// tree) and ≥ 0 on every arc. All integers, so a yes is exact; a no only
// means "solve it" (the forest's free constants might have had a better
// choice).
bool StillOptimal(int a, int b, ShapeSolver& s) {
  const std::vector<int64_t>& flow = s.flow;
  const std::vector<int64_t>& cost = s.cost;
  const int nodes = a + b + 2;
  // Arc e = i·(b+1) + j runs from node i to node a+1+j.
  std::vector<int>& degree = s.degree;
  degree.assign(static_cast<size_t>(nodes) + 1, 0);
  for (int i = 0, e = 0; i <= a; ++i) {
    for (int j = 0; j <= b; ++j, ++e) {
      if (flow[e] > 0) {
        ++degree[i + 1];
        ++degree[a + 2 + j];
      }
    }
  }
  for (int v = 0; v < nodes; ++v) degree[v + 1] += degree[v];
  std::vector<int>& incident = s.incident;
  incident.resize(static_cast<size_t>(degree[nodes]));
  std::vector<int>& fill = s.fill;
  fill.assign(degree.begin(), degree.end() - 1);
  for (int i = 0, e = 0; i <= a; ++i) {
    for (int j = 0; j <= b; ++j, ++e) {
      if (flow[e] > 0) {
        incident[fill[i]++] = e;
        incident[fill[a + 1 + j]++] = e;
      }
    }
  }
  auto source = [&](int e) { return e / (b + 1); };
  auto target = [&](int e) { return a + 1 + e % (b + 1); };
  std::vector<int64_t>& pi = s.pi;
  pi.assign(static_cast<size_t>(nodes), 0);
  std::vector<char>& seen = s.seen;
  seen.assign(static_cast<size_t>(nodes), 0);
  std::vector<int>& stack = s.stack;
  stack.clear();
  for (int root = 0; root < nodes; ++root) {
    if (seen[root]) continue;
    seen[root] = 1;
    stack.push_back(root);
    while (!stack.empty()) {
      int u = stack.back();
      stack.pop_back();
      for (int k = degree[u]; k < degree[u + 1]; ++k) {
        int e = incident[k];
        int from = source(e), to = target(e);
        int other = u == from ? to : from;
        int64_t want = u == from ? pi[u] + cost[e] : pi[u] - cost[e];
        if (seen[other]) {
          if (pi[other] != want) return false;
          continue;
        }
        seen[other] = 1;
        pi[other] = want;
        stack.push_back(other);
      }
    }
  }
  for (int i = 0, e = 0; i <= a; ++i) {
    for (int j = 0; j <= b; ++j, ++e) {
      if (cost[e] + pi[i] - pi[a + 1 + j] < 0) return false;
    }
  }
  return true;
}

// The optimum of a problem with one layer on one side (mass `single`)
// against `others` on the other, whose quantised costs to it are `cost`:
// moving a unit from the single layer to layer j instead of through both
// dummies saves 2 - c_j, so the cheapest layers are filled first. That
// greedy fill is optimal (a fractional knapsack, integral on integer data),
// so this is the simplex's optimal value exactly.
int64_t OneLayerOptimum(int64_t single, std::span<const int64_t> others,
                        std::span<const int64_t> cost) {
  const int64_t unit = QuantisedCost(1.0);
  int64_t total = single;
  thread_local std::vector<int> order;
  order.resize(others.size());
  for (size_t j = 0; j < others.size(); ++j) {
    total += others[j];
    order[j] = static_cast<int>(j);
  }
  total *= unit;  // everything through the dummies
  std::sort(order.begin(), order.end(), [&](int x, int y) { return cost[x] < cost[y]; });
  int64_t left = single;
  for (int j : order) {
    if (left == 0 || cost[j] >= 2 * unit) break;
    const int64_t moved = std::min(left, others[j]);
    total -= moved * (2 * unit - cost[j]);
    left -= moved;
  }
  return total;
}

}  // namespace

std::vector<double> SolveDummyTransport(std::span<const double> row_mass,
                                        std::span<const double> col_mass,
                                        std::span<const std::vector<double>> costs,
                                        bool shortcuts) {
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
  thread_local std::vector<int64_t> rows, cols;
  rows.resize(static_cast<size_t>(a));
  cols.resize(static_cast<size_t>(b));
  int64_t rows_total = 0, cols_total = 0;
  for (int i = 0; i < a; ++i) rows_total += rows[i] = RoundNonNegative(row_mass[i] / quantum);
  for (int j = 0; j < b; ++j) cols_total += cols[j] = RoundNonNegative(col_mass[j] / quantum);
  if (shortcuts && (a == 1 || b == 1)) {
    thread_local std::vector<int64_t> cost;
    cost.resize(static_cast<size_t>(a * b));
    for (size_t k = 0; k < costs.size(); ++k) {
      for (int e = 0; e < a * b; ++e) cost[e] = QuantisedCost(costs[k][e]);
      const int64_t optimum =
          a == 1 ? OneLayerOptimum(rows[0], cols, cost) : OneLayerOptimum(cols[0], rows, cost);
      result[k] = static_cast<double>(optimum) * quantum / kCostUnits;
    }
    return result;
  }
  ShapeSolver& s = SolverFor(a, b);
  for (int i = 0; i < a; ++i) (*s.supply)[s.graph.node(i)] = rows[i];
  for (int j = 0; j < b; ++j) (*s.supply)[s.graph.node(a + 1 + j)] = -cols[j];
  (*s.supply)[s.graph.node(a)] = cols_total;
  (*s.supply)[s.graph.node(a + 1 + b)] = -rows_total;
  s.simplex->supplyMap(*s.supply);
  // Arc (i, j) is number i·(b+1) + j; the dummy arcs cost 1 (0 between the
  // dummies) whatever the matrix.
  const int arcs = (a + 1) * (b + 1);
  std::vector<int64_t>& cost = s.cost;
  cost.resize(static_cast<size_t>(arcs));
  for (int i = 0; i <= a; ++i) cost[i * (b + 1) + b] = QuantisedCost(1.0);
  for (int j = 0; j < b; ++j) cost[a * (b + 1) + j] = QuantisedCost(1.0);
  cost[a * (b + 1) + b] = 0;
  std::vector<int64_t>& flow = s.flow;  // the last plan LEMON found
  flow.clear();
  for (size_t k = 0; k < costs.size(); ++k) {
    const std::vector<double>& c = costs[k];
    for (int i = 0; i < a; ++i) {
      for (int j = 0; j < b; ++j) {
        cost[i * (b + 1) + j] = QuantisedCost(c[static_cast<size_t>(i) * b + j]);
      }
    }
    if (shortcuts && !flow.empty() && StillOptimal(a, b, s)) {
      // The previous pair's plan is optimal here too: same value as a solve.
      int64_t total_cost = 0;
      for (int e = 0; e < arcs; ++e) total_cost += flow[e] * cost[e];
      result[k] = static_cast<double>(total_cost) * quantum / kCostUnits;
      continue;
    }
    s.simplex->costMap(CostView{&cost});
    // Balanced, uncapacitated and every row reaches the dummy column: always
    // optimal.
    s.simplex->run();
    result[k] = static_cast<double>(s.simplex->totalCost<int64_t>()) * quantum / kCostUnits;
    flow.resize(static_cast<size_t>(arcs));
    for (int e = 0; e < arcs; ++e) flow[e] = s.simplex->flow(s.graph.arc(e));
  }
  return result;
}

}  // namespace unas::search::bo
