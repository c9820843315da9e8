#include "benchmark/benchmark.h"
#include "engine/geo_index.h"

BENCHMARK_MAIN();
