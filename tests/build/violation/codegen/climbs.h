// Deliberately climbs a layer: codegen may not include worker/ (configure must fail).
#include "worker/trainer.h"
