// A picture of a candidate's network: its resource graph (the layers the
// resource model counts) drawn as an SVG of our own, one row per layer of a
// layered layout from the input down, so that no graphviz is needed at run
// time. Each operator is a box with its kind, hyper-parameters, output
// shape and MACs; arrows follow the activations; outputs get a double
// border. `unasctl arch resources --dot` gives the same graph as DOT.
#ifndef UNAS_COORDINATOR_HTTP_NETWORK_SVG_H_
#define UNAS_COORDINATOR_HTTP_NETWORK_SVG_H_

#include <string>

#include "resource_models/graph.h"

namespace unas::dashboard {

std::string RenderNetworkSvg(const rm::Graph& graph);

}  // namespace unas::dashboard

#endif  // UNAS_COORDINATOR_HTTP_NETWORK_SVG_H_
