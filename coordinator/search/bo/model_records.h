// What Bayesian optimisation stores of its model (the model_state table) so
// that a restart need not fit it again: the hyper-parameters of the last
// fit, tagged with a checksum of the observations they were fitted on, as
// bytes that are the same in every process.
#ifndef UNAS_COORDINATOR_SEARCH_BO_MODEL_RECORDS_H_
#define UNAS_COORDINATOR_SEARCH_BO_MODEL_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "coordinator/search/bo/surrogate.h"

namespace unas::search::bo {

// What a fit on the first m observations depends on: their networks,
// sparsities and errors, in order.
uint64_t ObservationChecksum(const Surrogate& surrogate, int m);

// The fitted hyper-parameters and the checksum of their observations.
std::string EncodeHyper(const HyperParameters& h, uint64_t checksum);
// nullopt for bytes EncodeHyper did not write (another size).
std::optional<std::pair<HyperParameters, uint64_t>> DecodeHyper(const std::string& bytes);

}  // namespace unas::search::bo

#endif  // UNAS_COORDINATOR_SEARCH_BO_MODEL_RECORDS_H_
