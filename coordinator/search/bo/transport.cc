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

// Whether `flow`, optimal for some costs, is optimal for `cost` too, by LP
// duality: potentials π with cost(u,v) + π(u) − π(v) = 0 on every arc
// carrying flow (π is fixed along the flow's forest, 0 at one node of each
// tree) and ≥ 0 on every arc. All integers, so a yes is exact; a no only
// means "solve it" (the forest's free constants might have had a better
// choice).
bool StillOptimal(int a, int b, const std::vector<int64_t>& flow,
                  const std::vector<int64_t>& cost) {
  const int nodes = a + b + 2;
  const int arcs = (a + 1) * (b + 1);
  auto source = [&](int e) { return e / (b + 1); };
  auto target = [&](int e) { return a + 1 + e % (b + 1); };
  std::vector<int> degree(static_cast<size_t>(nodes) + 1, 0);
  for (int e = 0; e < arcs; ++e) {
    if (flow[e] > 0) {
      ++degree[source(e) + 1];
      ++degree[target(e) + 1];
    }
  }
  for (int v = 0; v < nodes; ++v) degree[v + 1] += degree[v];
  std::vector<int> incident(static_cast<size_t>(degree[nodes]));
  std::vector<int> fill(degree.begin(), degree.end() - 1);
  for (int e = 0; e < arcs; ++e) {
    if (flow[e] > 0) {
      incident[fill[source(e)]++] = e;
      incident[fill[target(e)]++] = e;
    }
  }
  std::vector<int64_t> pi(static_cast<size_t>(nodes), 0);
  std::vector<char> seen(static_cast<size_t>(nodes), 0);
  std::vector<int> stack;
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
  for (int e = 0; e < arcs; ++e) {
    if (cost[e] + pi[source(e)] - pi[target(e)] < 0) return false;
  }
  return true;
}

}  // namespace

std::vector<double> SolveDummyTransport(std::span<const double> row_mass,
                                        std::span<const double> col_mass,
                                        std::span<const std::vector<double>> costs,
                                        bool reuse_optimal_plans) {
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
  const int arcs = (a + 1) * (b + 1);
  std::vector<int64_t> cost(static_cast<size_t>(arcs));
  for (int i = 0; i <= a; ++i) cost[i * (b + 1) + b] = QuantisedCost(1.0);
  for (int j = 0; j < b; ++j) cost[a * (b + 1) + j] = QuantisedCost(1.0);
  cost[a * (b + 1) + b] = 0;
  std::vector<int64_t> flow;  // the last plan LEMON found
  for (size_t k = 0; k < costs.size(); ++k) {
    const std::vector<double>& c = costs[k];
    for (int i = 0; i < a; ++i) {
      for (int j = 0; j < b; ++j) {
        cost[i * (b + 1) + j] = QuantisedCost(c[static_cast<size_t>(i) * b + j]);
      }
    }
    if (reuse_optimal_plans && !flow.empty() && StillOptimal(a, b, flow, cost)) {
      // The previous pair's plan is optimal here too: same value as a solve.
      int64_t total_cost = 0;
      for (int e = 0; e < arcs; ++e) total_cost += flow[e] * cost[e];
      result[k] = static_cast<double>(total_cost) * quantum / kCostUnits;
      continue;
    }
    for (int e = 0; e < arcs; ++e) (*s.cost)[s.graph.arc(e)] = cost[e];
    s.simplex->costMap(*s.cost);
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
