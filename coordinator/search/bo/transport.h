// The transport problem of the OTMANN distance, solved exactly by LEMON's
// network simplex: move the mass of one layer set onto another, where every
// unit of mass left unmatched goes to (or comes from) a dummy at cost 1. The
// supplies are the row masses plus a dummy holding the column total, the
// demands the column masses plus a dummy holding the row total; the dummy to
// dummy arc is free (docs/search.md).
//
// LEMON's simplex needs integer data: masses are quantised to 2^-36 of the
// problem's total mass and costs to 2^-24, so the optimum is exact for the
// quantised problem and within about 1e-7 (relative) of the real one. An arc
// costing 2 or more is never better than going through both dummies, so
// costs are capped at 2 without changing the optimum. A problem with one
// layer on each side has a closed-form optimum and skips the simplex, and so
// does one with a single layer on one side (filling the cheapest layers of
// the other first is optimal; exact on the quantised data). The
// matrices of one call differ only in how much position costs, and the plan
// the simplex found for one is often optimal for the next: that is checked
// exactly (LP duality on integers) before solving again.
#ifndef UNAS_COORDINATOR_SEARCH_BO_TRANSPORT_H_
#define UNAS_COORDINATOR_SEARCH_BO_TRANSPORT_H_

#include <span>
#include <vector>

namespace unas::search::bo {

// Optimal total cost (in mass units) of the problem above for each of
// `costs.size()` cost matrices over the same masses; each matrix is
// row_mass.size() x col_mass.size(), row-major, non-negative (infinity
// allowed). Both mass lists must be non-empty. `shortcuts` false runs the
// simplex for every matrix, and for one-layer sides too (tests compare the
// two).
std::vector<double> SolveDummyTransport(std::span<const double> row_mass,
                                        std::span<const double> col_mass,
                                        std::span<const std::vector<double>> costs,
                                        bool shortcuts = true);

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_TRANSPORT_H_
