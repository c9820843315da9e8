// Micro-benchmarks of GeoIndex on the reference load: 100k points uniform in a
// 20 km x 20 km square around Huzhou (about 4 per default cell). bench/geo_bench.cc
// measures latency percentiles and compares with Redis GEOSEARCH.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "engine/geo_index.h"

namespace yiyuan {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr GeoPoint kCenter{30.87, 120.09};
constexpr double kSideM = 20000;
constexpr int kPoints = 100000;

struct Value {
  int64_t handle;
};

// Uniform points in the square, from a fixed seed.
std::vector<GeoPoint> UniformPoints(int n, uint64_t seed) {
  const double lat_span = kSideM / (kEarthRadiusM * kPi / 180);
  const double lng_span = lat_span / std::cos(kCenter.lat * kPi / 180);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  std::vector<GeoPoint> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) {
    out.push_back({kCenter.lat + u(rng) * lat_span, kCenter.lng + u(rng) * lng_span});
  }
  return out;
}

std::string IdOf(int i) { return absl::StrCat("vol-", 1000000 + i); }

// The reference index, built once per cell size.
const GeoIndex<Value>& Reference(double cell_size_m) {
  static auto* built = new std::vector<std::pair<double, GeoIndex<Value>*>>;
  for (const auto& [size, index] : *built) {
    if (size == cell_size_m) return *index;
  }
  auto* index = new GeoIndex<Value>(GeoIndexOptions{cell_size_m});
  const std::vector<GeoPoint> points = UniformPoints(kPoints, 1);
  for (int i = 0; i < kPoints; ++i) {
    if (!index->Upsert(IdOf(i), points[i], Value{i}).ok()) std::abort();
  }
  built->push_back({cell_size_m, index});
  return *index;
}

// Range(0): cell size in metres (default GeoIndexOptions when 0).
double CellSize(const benchmark::State& state) {
  return state.range(0) == 0 ? GeoIndexOptions().cell_size_m : static_cast<double>(state.range(0));
}

void BM_Nearest16(benchmark::State& state) {
  const GeoIndex<Value>& index = Reference(CellSize(state));
  const std::vector<GeoPoint> centers = UniformPoints(10000, 2);
  size_t i = 0;
  for (auto _ : state) {
    auto hits = index.Nearest(centers[i++ % centers.size()], 16);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetLabel(absl::StrCat("cell ", CellSize(state), " m"));
}
BENCHMARK(BM_Nearest16)->Arg(0)->Arg(63)->Arg(88)->Arg(177)->Arg(250);

// Half the entries rejected by the filter (e.g. busy or lacking a skill).
void BM_Nearest16HalfFiltered(benchmark::State& state) {
  const GeoIndex<Value>& index = Reference(CellSize(state));
  const std::vector<GeoPoint> centers = UniformPoints(10000, 2);
  auto even = [](absl::string_view, const Value& v) { return v.handle % 2 == 0; };
  size_t i = 0;
  for (auto _ : state) {
    auto hits = index.Nearest(centers[i++ % centers.size()], 16,
                              std::numeric_limits<double>::infinity(), even);
    benchmark::DoNotOptimize(hits.data());
  }
}
BENCHMARK(BM_Nearest16HalfFiltered)->Arg(0);

void BM_WithinRadius500m(benchmark::State& state) {
  const GeoIndex<Value>& index = Reference(CellSize(state));
  const std::vector<GeoPoint> centers = UniformPoints(10000, 2);
  size_t i = 0;
  size_t found = 0;
  for (auto _ : state) {
    auto hits = index.WithinRadius(centers[i++ % centers.size()], 500);
    found += hits.size();
    benchmark::DoNotOptimize(hits.data());
  }
  state.counters["hits"] =
      benchmark::Counter(static_cast<double>(found) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_WithinRadius500m)->Arg(0);

// Moves of existing entries by up to ~50 m (a volunteer reporting a new position), most
// within the same cell; and moves to anywhere in the square.
void BM_Move(benchmark::State& state) {
  GeoIndex<Value> index;
  const std::vector<GeoPoint> points = UniformPoints(kPoints, 1);
  std::vector<std::string> ids;
  for (int i = 0; i < kPoints; ++i) {
    ids.push_back(IdOf(i));
    if (!index.Upsert(ids.back(), points[i], Value{i}).ok()) std::abort();
  }
  const bool far = state.range(0) == 1;
  const std::vector<GeoPoint> targets = UniformPoints(kPoints, 3);
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> step(-0.00025, 0.00025);
  std::vector<GeoPoint> steps;
  for (int i = 0; i < kPoints; ++i) {
    steps.push_back(far ? targets[i]
                        : GeoPoint{points[i].lat + step(rng), points[i].lng + step(rng)});
  }
  size_t i = 0;
  for (auto _ : state) {
    // Alternate passes go out to the targets and back, so that every call moves.
    const size_t j = i % kPoints;
    const bool out = (i++ / kPoints) % 2 == 0;
    benchmark::DoNotOptimize(index.Move(ids[j], out ? steps[j] : points[j]));
  }
  state.SetLabel(far ? "anywhere" : "walk <= ~40 m");
}
BENCHMARK(BM_Move)->Arg(0)->Arg(1);

// Upsert of a new id followed by its removal: the cost of an entry coming on duty and
// going off again.
void BM_UpsertRemove(benchmark::State& state) {
  GeoIndex<Value> index;
  const std::vector<GeoPoint> points = UniformPoints(kPoints, 1);
  for (int i = 0; i < kPoints; ++i) {
    if (!index.Upsert(IdOf(i), points[i], Value{i}).ok()) std::abort();
  }
  const std::vector<GeoPoint> extra = UniformPoints(1000, 5);
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(IdOf(kPoints + i));
  size_t i = 0;
  for (auto _ : state) {
    const size_t j = i++ % extra.size();
    benchmark::DoNotOptimize(index.Upsert(ids[j], extra[j], Value{0}));
    benchmark::DoNotOptimize(index.Remove(ids[j]));
  }
}
BENCHMARK(BM_UpsertRemove);

void BM_Build100k(benchmark::State& state) {
  const std::vector<GeoPoint> points = UniformPoints(kPoints, 1);
  std::vector<std::string> ids;
  for (int i = 0; i < kPoints; ++i) ids.push_back(IdOf(i));
  for (auto _ : state) {
    GeoIndex<Value> index;
    for (int i = 0; i < kPoints; ++i) {
      benchmark::DoNotOptimize(index.Upsert(ids[i], points[i], Value{i}));
    }
  }
  state.SetItemsProcessed(state.iterations() * kPoints);
}
BENCHMARK(BM_Build100k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace yiyuan

BENCHMARK_MAIN();
