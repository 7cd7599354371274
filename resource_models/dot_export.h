// Graphviz DOT export of a resource graph, for docs and debugging.

#ifndef UNAS_RESOURCE_MODELS_DOT_EXPORT_H_
#define UNAS_RESOURCE_MODELS_DOT_EXPORT_H_

#include <string>

#include "resource_models/graph.h"
#include "resource_models/pmu.h"

namespace unas::rm {

struct DotOptions {
  bool show_weights = true;  // draw weight/bias tensors as separate nodes
  // When set, operators are labelled with their step in this schedule and its step memory.
  const PmuResult* schedule = nullptr;
};

// Operators are boxes (kind, hyper-parameters, parameter count, sparse count), activation tensors
// are ellipses (name, shape, bytes); outputs are drawn with a double border.
std::string ToDot(const Graph& graph, const DotOptions& options = {});

}  // namespace unas::rm

#endif  // UNAS_RESOURCE_MODELS_DOT_EXPORT_H_
