#include "engine/geo_index.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace yiyuan {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

// Wuxing district, Huzhou: the middle of the test area.
constexpr GeoPoint kHuzhou{30.87, 120.09};
// A 20 km square around it, in degrees.
constexpr double kSquareLatDeg = 20000 / (kEarthRadiusM * kPi / 180);
const double kSquareLngDeg = kSquareLatDeg / std::cos(kHuzhou.lat * kPi / 180);

// The textbook haversine formula, independent of the index's chord arithmetic.
double HaversineMeters(GeoPoint a, GeoPoint b) {
  const double rad = kPi / 180;
  const double dlat = (b.lat - a.lat) * rad;
  const double dlng = (b.lng - a.lng) * rad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * rad) * std::cos(b.lat * rad) * std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

// The index's contents kept the obvious way, queried by sorting everything.
class BruteForce {
 public:
  struct Hit {
    std::string id;
    int value;
    GeoPoint location;
    double distance_m;
  };

  void Upsert(const std::string& id, GeoPoint p, int value) { entries_[id] = {p, value}; }
  void Move(const std::string& id, GeoPoint p) { entries_.at(id).first = p; }
  void Remove(const std::string& id) { entries_.erase(id); }
  size_t size() const { return entries_.size(); }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const auto& [id, e] : entries_) out.push_back(id);
    return out;
  }

  // Every entry passing `filter` within `radius_m` of `center`, by (distance, id), cut to k.
  template <typename Filter>
  std::vector<Hit> Query(GeoPoint center, size_t k, double radius_m, Filter filter) const {
    using Ranked = std::pair<double, const std::string*>;
    std::vector<Ranked> all;
    for (const auto& [id, e] : entries_) {
      const double d = GreatCircleMeters(center, e.first);
      if (d <= radius_m && filter(id, e.second)) all.push_back({d, &id});
    }
    auto before = [](const Ranked& a, const Ranked& b) {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    };
    k = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + k, all.end(), before);
    std::vector<Hit> out;
    for (size_t i = 0; i < k; ++i) {
      const auto& e = entries_.at(*all[i].second);
      out.push_back({*all[i].second, e.second, e.first, all[i].first});
    }
    return out;
  }

 private:
  std::map<std::string, std::pair<GeoPoint, int>> entries_;
};

using Index = GeoIndex<int>;

// Checks `got` against `want` exactly: ids, order, values, locations and distances.
void ExpectSameHits(const std::vector<Index::Hit>& got, const std::vector<BruteForce::Hit>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("hit ", i));
    ASSERT_NE(got[i].id, nullptr);
    ASSERT_NE(got[i].value, nullptr);
    EXPECT_EQ(*got[i].id, want[i].id);
    EXPECT_EQ(*got[i].value, want[i].value);
    EXPECT_EQ(got[i].location.lat, want[i].location.lat);
    EXPECT_EQ(got[i].location.lng, want[i].location.lng);
    EXPECT_EQ(got[i].distance_m, want[i].distance_m);
  }
}

// A random query filter: everything, nothing, a predicate on the value, or an id
// exclusion set (as when volunteers who declined are left out).
struct RandomFilter {
  int kind = 0;
  int modulus = 1;
  absl::flat_hash_set<std::string> excluded;

  bool operator()(absl::string_view id, int value) const {
    switch (kind) {
      case 0:
        return true;
      case 1:
        return false;
      case 2:
        return value % modulus != 0;
      default:
        return !excluded.contains(id);
    }
  }
};

RandomFilter MakeFilter(std::mt19937_64& rng, const BruteForce& model) {
  RandomFilter f;
  std::uniform_int_distribution<int> kind(0, 9);
  const int pick = kind(rng);
  f.kind = pick < 4 ? 0 : pick == 4 ? 1 : pick < 7 ? 2 : 3;
  f.modulus = std::uniform_int_distribution<int>(2, 5)(rng);
  if (f.kind == 3) {
    std::vector<std::string> ids = model.ids();
    std::uniform_int_distribution<size_t> any(0, ids.empty() ? 0 : ids.size() - 1);
    const int n = std::uniform_int_distribution<int>(0, 200)(rng);
    for (int i = 0; i < n && !ids.empty(); ++i) f.excluded.insert(ids[any(rng)]);
  }
  return f;
}

// Points in the 20 km square, with repeats: some share the location of an earlier point,
// some sit on a 0.001 degree lattice (so that many distances tie, or nearly tie, in
// floating point), and one spot holds a crowd.
class PointMaker {
 public:
  explicit PointMaker(std::mt19937_64& rng) : rng_(rng) {}

  GeoPoint Next() {
    const int kind = std::uniform_int_distribution<int>(0, 19)(rng_);
    GeoPoint p;
    if (kind == 0 && !made_.empty()) {
      p = made_[std::uniform_int_distribution<size_t>(0, made_.size() - 1)(rng_)];
    } else if (kind == 1) {
      p = kCrowd;
    } else if (kind < 5) {
      p = Lattice(InSquare(0));
    } else {
      p = InSquare(0);
    }
    made_.push_back(p);
    return p;
  }

  // A uniform point in the square widened by `margin_deg` on each side.
  GeoPoint InSquare(double margin_deg) {
    std::uniform_real_distribution<double> u(-0.5, 0.5);
    return GeoPoint{kHuzhou.lat + u(rng_) * (kSquareLatDeg + 2 * margin_deg),
                    kHuzhou.lng + u(rng_) * (kSquareLngDeg + 2 * margin_deg)};
  }

  static GeoPoint Lattice(GeoPoint p) {
    return GeoPoint{std::round(p.lat * 1000) / 1000, std::round(p.lng * 1000) / 1000};
  }

 private:
  static constexpr GeoPoint kCrowd{30.8712, 120.0934};
  std::mt19937_64& rng_;
  std::vector<GeoPoint> made_;
};

// Checks the searched-radius promise: every entry passing the filter within it is a hit,
// unless the result is full and the entry ranks no better than the last hit. `within`
// holds every entry passing the filter within `searched_m`, by (distance, id).
void ExpectSearchedRadiusHolds(const std::vector<BruteForce::Hit>& within, size_t k,
                               double max_radius_m, double searched_m,
                               const std::vector<Index::Hit>& got) {
  EXPECT_LE(searched_m, max_radius_m);
  absl::flat_hash_set<std::string> got_ids;
  for (const Index::Hit& g : got) got_ids.insert(*g.id);
  for (const BruteForce::Hit& h : within) {
    if (got_ids.contains(h.id)) continue;
    ASSERT_EQ(got.size(), k) << h.id << " at " << h.distance_m << " m is missing";
    EXPECT_GE(std::tie(h.distance_m, h.id), std::tie(got.back().distance_m, *got.back().id));
  }
}

// Runs `queries` random k-nearest queries against `index` and `model`.
void RunRandomQueries(std::mt19937_64& rng, const Index& index, const BruteForce& model,
                      int queries) {
  PointMaker centers(rng);
  std::uniform_int_distribution<int> pick(0, 19);
  for (int q = 0; q < queries; ++q) {
    SCOPED_TRACE(absl::StrCat("query ", q));
    GeoPoint center = centers.InSquare(0.02);
    if (pick(rng) < 4) center = PointMaker::Lattice(center);
    int k;
    switch (pick(rng) % 5) {
      case 0:
        k = 0;
        break;
      case 1:
        k = static_cast<int>(model.size()) + std::uniform_int_distribution<int>(0, 10)(rng);
        break;
      case 2:
        k = std::uniform_int_distribution<int>(1, 3)(rng);
        break;
      default:
        k = std::uniform_int_distribution<int>(1, 64)(rng);
    }
    double radius;
    switch (pick(rng) % 4) {
      case 0:
        radius = kInf;
        break;
      case 1:
        radius = std::uniform_real_distribution<double>(0, 300)(rng);
        break;
      default:
        radius = std::uniform_real_distribution<double>(0, 5000)(rng);
    }
    const RandomFilter filter = MakeFilter(rng, model);
    SCOPED_TRACE(absl::StrCat("center (", center.lat, ", ", center.lng, ") k=", k,
                              " radius=", radius, " filter kind ", filter.kind));
    double searched = -1;
    const std::vector<Index::Hit> got = index.Nearest(center, k, radius, filter, &searched);
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameHits(got, model.Query(center, static_cast<size_t>(k), radius, filter)));
    if (k > 0) {
      ASSERT_NO_FATAL_FAILURE(
          ExpectSearchedRadiusHolds(model.Query(center, model.size(), searched, filter),
                                    static_cast<size_t>(k), radius, searched, got));
    } else {
      EXPECT_EQ(searched, 0);
    }
  }
}

std::string IdOf(int i) { return absl::StrCat("v", i); }

TEST(GreatCircleMeters, OneDegreeOfLatitude) {
  EXPECT_NEAR(GreatCircleMeters({0, 0}, {1, 0}), 111195.08, 0.01);
  EXPECT_NEAR(GreatCircleMeters({30, 120}, {31, 120}), 111195.08, 0.01);
  EXPECT_NEAR(GreatCircleMeters({0, 0}, {0, 1}), 111195.08, 0.01);
  EXPECT_EQ(GreatCircleMeters(kHuzhou, kHuzhou), 0);
  EXPECT_NEAR(GreatCircleMeters({0, 0}, {0, 180}), kPi * kEarthRadiusM, 1e-6);
  EXPECT_NEAR(GreatCircleMeters({0, 179.9995}, {0, -179.9995}), 111.195, 0.001);
}

TEST(GreatCircleMeters, MatchesHaversine) {
  const uint64_t seed = 20240611;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(-89, 89);
  std::uniform_real_distribution<double> lng(-180, 180);
  std::uniform_real_distribution<double> log_offset(std::log(1e-5), std::log(20.0));
  std::uniform_real_distribution<double> sign(-1, 1);
  for (int i = 0; i < 100000; ++i) {
    const GeoPoint a{lat(rng), lng(rng)};
    GeoPoint b;
    if (i % 4 == 0) {
      b = GeoPoint{lat(rng), lng(rng)};  // Anywhere.
    } else {
      // Nearby: from about a metre to a couple of thousand kilometres away.
      b = GeoPoint{std::clamp(a.lat + sign(rng) * std::exp(log_offset(rng)), -89.0, 89.0),
                   a.lng + sign(rng) * std::exp(log_offset(rng))};
    }
    const double want = HaversineMeters(a, b);
    if (want > 0.99 * kPi * kEarthRadiusM) continue;  // Haversine is ill-conditioned there.
    const double got = GreatCircleMeters(a, b);
    ASSERT_NEAR(got, want, 1e-6 * want)
        << "(" << a.lat << ", " << a.lng << ") to (" << b.lat << ", " << b.lng << ")";
    ASSERT_EQ(got, GreatCircleMeters(b, a));
  }
}

TEST(IsIndexable, LimitsLatitudeAndLongitude) {
  EXPECT_TRUE(IsIndexable(kHuzhou));
  EXPECT_TRUE(IsIndexable({85, 180}));
  EXPECT_TRUE(IsIndexable({-85, -180}));
  EXPECT_FALSE(IsIndexable({85.0001, 0}));
  EXPECT_FALSE(IsIndexable({-90, 0}));
  EXPECT_FALSE(IsIndexable({0, 180.0001}));
  EXPECT_FALSE(IsIndexable({0, -181}));
  EXPECT_FALSE(IsIndexable({std::nan(""), 0}));
  EXPECT_FALSE(IsIndexable({0, kInf}));
  EXPECT_FALSE(IsIndexable({-kInf, 0}));
}

TEST(GeoIndex, UpsertFindMoveRemove) {
  Index index;
  EXPECT_TRUE(index.empty());
  ASSERT_TRUE(index.Upsert("a", kHuzhou, 1).ok());
  ASSERT_TRUE(index.Upsert("b", {30.88, 120.1}, 2).ok());
  EXPECT_EQ(index.size(), 2u);
  ASSERT_NE(index.FindValue("a"), nullptr);
  EXPECT_EQ(*index.FindValue("a"), 1);
  EXPECT_EQ(index.FindValue("c"), nullptr);
  EXPECT_EQ(index.Location("c"), std::nullopt);

  // Upsert of an existing id moves it and replaces its value.
  ASSERT_TRUE(index.Upsert("a", {30.9, 120.2}, 10).ok());
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(*index.FindValue("a"), 10);
  EXPECT_EQ(index.Location("a")->lat, 30.9);
  EXPECT_EQ(index.Location("a")->lng, 120.2);

  // Move keeps the value; a tiny move stays in the same cell.
  ASSERT_TRUE(index.Move("a", {30.9000001, 120.2}).ok());
  EXPECT_EQ(*index.FindValue("a"), 10);
  EXPECT_EQ(index.Location("a")->lat, 30.9000001);
  *index.MutableValue("a") = 11;
  EXPECT_EQ(*index.FindValue("a"), 11);
  EXPECT_EQ(index.MutableValue("zz"), nullptr);

  const std::vector<Index::Hit> hits = index.Nearest({30.9, 120.2}, 1);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(*hits[0].id, "a");
  EXPECT_EQ(*hits[0].value, 11);
  EXPECT_NEAR(hits[0].distance_m, 0.0111, 0.0001);

  EXPECT_EQ(index.Move("nobody", kHuzhou).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(index.Remove("a"));
  EXPECT_FALSE(index.Remove("a"));
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(index.FindValue("a"), nullptr);
  ASSERT_EQ(index.Nearest({30.9, 120.2}, 5).size(), 1u);
  EXPECT_EQ(*index.Nearest({30.9, 120.2}, 5)[0].id, "b");

  index.Clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.Nearest(kHuzhou, 5).empty());
  ASSERT_TRUE(index.Upsert("a", kHuzhou, 3).ok());
  EXPECT_EQ(index.size(), 1u);
}

TEST(GeoIndex, RejectsWhatItCannotIndex) {
  Index index;
  ASSERT_TRUE(index.Upsert("a", kHuzhou, 1).ok());
  for (GeoPoint bad : {GeoPoint{91, 0}, GeoPoint{-85.5, 0}, GeoPoint{0, 180.5},
                       GeoPoint{std::nan(""), 120}, GeoPoint{30, kInf}}) {
    SCOPED_TRACE(absl::StrCat(bad.lat, ", ", bad.lng));
    absl::Status s = index.Upsert("b", bad, 2);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("location: "));
    s = index.Move("a", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), ::testing::StartsWith("location: "));
    s = index.Upsert("a", bad, 5);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(index.Upsert("", kHuzhou, 1).code(), absl::StatusCode::kInvalidArgument);
  // Nothing changed.
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(*index.FindValue("a"), 1);
  EXPECT_EQ(index.Location("a")->lat, kHuzhou.lat);
  EXPECT_EQ(index.Location("a")->lng, kHuzhou.lng);
}

TEST(GeoIndex, EmptyIndexAndEmptyQueries) {
  Index index;
  double searched = -1;
  EXPECT_TRUE(index.Nearest(kHuzhou, 16, 1000, Index::Filter(RandomFilter{}), &searched).empty());
  EXPECT_EQ(searched, 1000);
  EXPECT_TRUE(index.WithinRadius(kHuzhou, 1000).empty());

  ASSERT_TRUE(index.Upsert("a", kHuzhou, 1).ok());
  EXPECT_TRUE(index.Nearest(kHuzhou, 0).empty());
  EXPECT_TRUE(index.Nearest(kHuzhou, -3, kInf, &searched).empty());
  EXPECT_EQ(searched, 0);
  EXPECT_TRUE(index.Nearest(kHuzhou, 1, -1).empty());
  EXPECT_TRUE(index.Nearest(kHuzhou, 1, std::nan("")).empty());
  EXPECT_TRUE(index.Nearest({std::nan(""), 120}, 1).empty());
  EXPECT_TRUE(index.Nearest({90.5, 120}, 1).empty());
  EXPECT_TRUE(index.WithinRadius({30, 181}, 1e9).empty());
  // Radius 0 finds exactly what is at the centre.
  ASSERT_EQ(index.Nearest(kHuzhou, 1, 0).size(), 1u);
  EXPECT_EQ(index.Nearest(kHuzhou, 1, 0)[0].distance_m, 0);
  EXPECT_EQ(index.WithinRadius(kHuzhou, 0).size(), 1u);
  EXPECT_TRUE(
      index.Nearest(kHuzhou, 1, kInf, [](absl::string_view, int) { return false; }).empty());
}

// The main property: random contents and queries against sorting everything.
TEST(GeoIndex, NearestMatchesBruteForce) {
  for (double cell_m : {125.0, 20.0, 700.0}) {
    const uint64_t seed = 7001 + static_cast<uint64_t>(cell_m);
    SCOPED_TRACE(absl::StrCat("seed ", seed, " cell_size_m ", cell_m));
    std::mt19937_64 rng(seed);
    Index index(GeoIndexOptions{cell_m});
    BruteForce model;
    PointMaker points(rng);
    std::uniform_int_distribution<int> value(0, 99);
    for (int i = 0; i < 10000; ++i) {
      const GeoPoint p = points.Next();
      const int v = value(rng);
      ASSERT_TRUE(index.Upsert(IdOf(i), p, v).ok());
      model.Upsert(IdOf(i), p, v);
    }
    ASSERT_EQ(index.size(), 10000u);
    RunRandomQueries(rng, index, model, cell_m == 125 ? 1000 : 300);
  }
}

TEST(GeoIndex, NearestMatchesBruteForceAfterMovesAndRemovals) {
  const uint64_t seed = 424242;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  Index index;
  BruteForce model;
  PointMaker points(rng);
  std::uniform_int_distribution<int> value(0, 99);
  std::uniform_int_distribution<int> op(0, 9);
  std::normal_distribution<double> step(0, 0.001);  // A volunteer walking: ~100 m.
  int next_id = 0;
  std::vector<std::string> live;  // The ids in the index, in no order.
  auto insert_new = [&]() {
    const std::string id = IdOf(next_id++);
    const GeoPoint p = points.Next();
    const int v = value(rng);
    ASSERT_TRUE(index.Upsert(id, p, v).ok());
    model.Upsert(id, p, v);
    live.push_back(id);
  };
  for (int i = 0; i < 3000; ++i) ASSERT_NO_FATAL_FAILURE(insert_new());
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    for (int m = 0; m < 500; ++m) {
      const int o = op(rng);
      if (live.empty() || o >= 7) {
        ASSERT_NO_FATAL_FAILURE(insert_new());
        continue;
      }
      const size_t i = std::uniform_int_distribution<size_t>(0, live.size() - 1)(rng);
      const std::string id = live[i];
      if (o < 4) {
        // Walk a little (often within the same cell), or jump anywhere.
        GeoPoint p = *index.Location(id);
        if (o == 0) {
          p = points.Next();
        } else {
          p.lat += step(rng);
          p.lng += step(rng);
        }
        ASSERT_TRUE(index.Move(id, p).ok());
        model.Move(id, p);
      } else if (o < 6) {
        EXPECT_TRUE(index.Remove(id));
        model.Remove(id);
        live[i] = live.back();
        live.pop_back();
      } else {
        const GeoPoint p = points.Next();
        const int v = value(rng);
        ASSERT_TRUE(index.Upsert(id, p, v).ok());
        model.Upsert(id, p, v);
      }
    }
    ASSERT_EQ(index.size(), model.size());
    RunRandomQueries(rng, index, model, 25);
  }
  // Remove everything; the index must be empty and still usable.
  for (const std::string& id : model.ids()) ASSERT_TRUE(index.Remove(id));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.Nearest(kHuzhou, 3).empty());
  ASSERT_TRUE(index.Upsert("again", kHuzhou, 1).ok());
  EXPECT_EQ(index.Nearest(kHuzhou, 3).size(), 1u);
}

TEST(GeoIndex, AllPointsIdentical) {
  Index index;
  BruteForce model;
  const GeoPoint spot{30.8701, 120.0899};
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(index.Upsert(IdOf(i), spot, i).ok());
    model.Upsert(IdOf(i), spot, i);
  }
  const auto even = [](absl::string_view, int v) { return v % 2 == 0; };
  for (GeoPoint center : {spot, kHuzhou, GeoPoint{31.5, 121}}) {
    SCOPED_TRACE(absl::StrCat(center.lat, ", ", center.lng));
    for (int k : {1, 16, 499, 500, 600}) {
      ExpectSameHits(index.Nearest(center, k), model.Query(center, k, kInf, RandomFilter{}));
      ExpectSameHits(index.Nearest(center, k, kInf, even), model.Query(center, k, kInf, even));
    }
  }
  // Ties are broken by id, byte-wise: "v0", "v1", "v10", "v100", ...
  const std::vector<Index::Hit> hits = index.Nearest(kHuzhou, 4);
  ASSERT_EQ(hits.size(), 4u);
  EXPECT_EQ(*hits[0].id, "v0");
  EXPECT_EQ(*hits[1].id, "v1");
  EXPECT_EQ(*hits[2].id, "v10");
  EXPECT_EQ(*hits[3].id, "v100");
}

// Points spread over the whole indexable world: queries mostly take the sparse path
// (scanning non-empty cells), including near the poles and across the antimeridian.
TEST(GeoIndex, SparsePointsMatchBruteForce) {
  const uint64_t seed = 99;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(-85, 85);
  std::uniform_real_distribution<double> lng(-180, 180);
  std::uniform_real_distribution<double> near_edge(-0.01, 0.01);
  for (int n : {1, 7, 300}) {
    SCOPED_TRACE(absl::StrCat(n, " points"));
    Index index;
    BruteForce model;
    for (int i = 0; i < n; ++i) {
      GeoPoint p{lat(rng), lng(rng)};
      if (i % 5 == 1) p.lng = std::clamp(180 + near_edge(rng), -180.0, 180.0);
      if (i % 5 == 2) p.lng = std::clamp(-180 + near_edge(rng), -180.0, 180.0);
      if (i % 7 == 3) p.lat = std::clamp(85 + near_edge(rng), -85.0, 85.0);
      ASSERT_TRUE(index.Upsert(IdOf(i), p, i).ok());
      model.Upsert(IdOf(i), p, i);
    }
    for (int q = 0; q < 300; ++q) {
      GeoPoint center{std::uniform_real_distribution<double>(-90, 90)(rng), lng(rng)};
      if (q % 4 == 1) center.lng = q % 8 == 1 ? 180 : -180 + std::abs(near_edge(rng));
      if (q % 6 == 2) center.lat = q % 12 == 2 ? 90 : -89.99;
      const int k = std::uniform_int_distribution<int>(1, n + 3)(rng);
      const double radius = q % 3 == 0 ? kInf : std::uniform_real_distribution<double>(0, 3e6)(rng);
      SCOPED_TRACE(absl::StrCat("query ", q, " center (", center.lat, ", ", center.lng, ") k=", k,
                                " radius=", radius));
      double searched = -1;
      const std::vector<Index::Hit> got =
          index.Nearest(center, k, radius, RandomFilter{}, &searched);
      ASSERT_NO_FATAL_FAILURE(ExpectSameHits(got, model.Query(center, k, radius, RandomFilter{})));
      ASSERT_NO_FATAL_FAILURE(ExpectSearchedRadiusHolds(
          model.Query(center, n, searched, RandomFilter{}), k, radius, searched, got));
      ASSERT_NO_FATAL_FAILURE(ExpectSameHits(index.WithinRadius(center, radius),
                                             model.Query(center, n, radius, RandomFilter{})));
    }
  }
}

TEST(GeoIndex, FindsNeighboursAcrossTheAntimeridian) {
  Index index(GeoIndexOptions{125, 0});
  ASSERT_TRUE(index.Upsert("east", {0, 179.9999}, 1).ok());
  ASSERT_TRUE(index.Upsert("far", {0, -179.99}, 2).ok());
  ASSERT_TRUE(index.Upsert("middle", {0, 0}, 3).ok());
  const std::vector<Index::Hit> hits = index.Nearest({0, -179.9999}, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(*hits[0].id, "east");
  EXPECT_NEAR(hits[0].distance_m, 22.24, 0.01);
  EXPECT_EQ(*hits[1].id, "far");
}

// Distances that are equal in metres though the chords differ in the last bit (a double
// carries about twice the relative precision a chord needs) must still be ordered by id.
TEST(GeoIndex, TiesInMetresAreBrokenByIdEvenWhenChordsDiffer) {
  using geo_index_internal::ChordSquared;
  using geo_index_internal::MetersFromChordSquared;
  using geo_index_internal::ToUnitVector;
  const geo_index_internal::UnitVector q = ToUnitVector(kHuzhou);
  int pairs = 0;
  for (int i = 1; i <= 200; ++i) {
    for (int j = 1; j <= 200; ++j) {
      // Mirror images across the centre's meridian: the same distance on the sphere.
      const GeoPoint east{kHuzhou.lat + i * 1e-4, kHuzhou.lng + j * 1e-4};
      const GeoPoint west{kHuzhou.lat + i * 1e-4, kHuzhou.lng - j * 1e-4};
      const double ce = ChordSquared(q, ToUnitVector(east));
      const double cw = ChordSquared(q, ToUnitVector(west));
      if (ce == cw || MetersFromChordSquared(ce) != MetersFromChordSquared(cw)) continue;
      ++pairs;
      SCOPED_TRACE(absl::StrCat("i=", i, " j=", j));
      // "a" has the larger chord, so only the id can put it first.
      Index index;
      ASSERT_TRUE(index.Upsert("a", ce > cw ? east : west, 1).ok());
      ASSERT_TRUE(index.Upsert("b", ce > cw ? west : east, 2).ok());
      ASSERT_TRUE(index.Upsert("c", {kHuzhou.lat + 0.05, kHuzhou.lng}, 3).ok());
      const std::vector<Index::Hit> one = index.Nearest(kHuzhou, 1);
      ASSERT_EQ(one.size(), 1u);
      EXPECT_EQ(*one[0].id, "a");
      const std::vector<Index::Hit> two = index.Nearest(kHuzhou, 2);
      ASSERT_EQ(two.size(), 2u);
      EXPECT_EQ(*two[0].id, "a");
      EXPECT_EQ(*two[1].id, "b");
      EXPECT_EQ(two[0].distance_m, two[1].distance_m);
      const std::vector<Index::Hit> all = index.WithinRadius(kHuzhou, 1e5);
      ASSERT_EQ(all.size(), 3u);
      EXPECT_EQ(*all[0].id, "a");
    }
  }
  EXPECT_GT(pairs, 0) << "no such pair found; the test no longer tests anything";
}

// Many points on both sides of the antimeridian: the ring search (not only the sparse
// scan) must see across it.
TEST(GeoIndex, DensePointsAcrossTheAntimeridianMatchBruteForce) {
  const uint64_t seed = 180;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(-0.01, 0.01);
  std::uniform_real_distribution<double> offset(0, 0.02);
  Index index(GeoIndexOptions{125, 0});
  BruteForce model;
  for (int i = 0; i < 3000; ++i) {
    // Mostly west of the line (near -180), a few east of it (near +180).
    const double lng = i % 10 == 0 ? 180 - offset(rng) : -180 + offset(rng);
    const GeoPoint p{lat(rng), lng};
    ASSERT_TRUE(index.Upsert(IdOf(i), p, i).ok());
    model.Upsert(IdOf(i), p, i);
  }
  for (int q = 0; q < 300; ++q) {
    const double lng = q % 2 == 0 ? 180 - offset(rng) / 10 : -180 + offset(rng) / 10;
    const GeoPoint center{lat(rng), lng};
    const int k = std::uniform_int_distribution<int>(1, 20)(rng);
    SCOPED_TRACE(absl::StrCat("query ", q, " center (", center.lat, ", ", center.lng, ") k=", k));
    ASSERT_NO_FATAL_FAILURE(
        ExpectSameHits(index.Nearest(center, k), model.Query(center, k, kInf, RandomFilter{})));
    ASSERT_NO_FATAL_FAILURE(ExpectSameHits(index.WithinRadius(center, 150),
                                           model.Query(center, 3000, 150, RandomFilter{})));
  }
}

TEST(GeoIndex, FilterIsCalledAtMostOncePerEntry) {
  const uint64_t seed = 11;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> lat(-85, 85);
  std::uniform_real_distribution<double> lng(-180, 180);
  Index dense;
  Index sparse;
  PointMaker points(rng);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(dense.Upsert(IdOf(i), points.Next(), i).ok());
    if (i < 200) {
      ASSERT_TRUE(sparse.Upsert(IdOf(i), {lat(rng), lng(rng)}, i).ok());
    }
  }
  for (const Index* index : {&dense, &sparse}) {
    for (int q = 0; q < 50; ++q) {
      const GeoPoint center =
          index == &dense ? points.InSquare(0.01) : GeoPoint{lat(rng), lng(rng)};
      std::map<std::string, int> calls;
      auto counting = [&](absl::string_view id, int value) {
        ++calls[std::string(id)];
        return value % 3 != 0;
      };
      index->Nearest(center, 1 + q % 20, kInf, counting);
      for (const auto& [id, n] : calls) ASSERT_EQ(n, 1) << id;
      calls.clear();
      index->WithinRadius(center, 1000 * (q + 1), counting);
      for (const auto& [id, n] : calls) ASSERT_EQ(n, 1) << id;
    }
  }
}

TEST(GeoIndex, KLargerThanSize) {
  const uint64_t seed = 5;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  Index index;
  BruteForce model;
  PointMaker points(rng);
  for (int i = 0; i < 50; ++i) {
    const GeoPoint p = points.Next();
    ASSERT_TRUE(index.Upsert(IdOf(i), p, i).ok());
    model.Upsert(IdOf(i), p, i);
  }
  double searched = -1;
  const std::vector<Index::Hit> got = index.Nearest(kHuzhou, 1000, kInf, RandomFilter{}, &searched);
  ExpectSameHits(got, model.Query(kHuzhou, 1000, kInf, RandomFilter{}));
  EXPECT_EQ(got.size(), 50u);
  EXPECT_EQ(searched, kInf);
  EXPECT_EQ(index.Nearest(kHuzhou, 1000, 2000, &searched).size(),
            model.Query(kHuzhou, 1000, 2000, RandomFilter{}).size());
  EXPECT_EQ(searched, 2000);
}

TEST(GeoIndex, WithinRadiusMatchesBruteForce) {
  const uint64_t seed = 31337;
  SCOPED_TRACE(absl::StrCat("seed ", seed));
  std::mt19937_64 rng(seed);
  Index index;
  BruteForce model;
  PointMaker points(rng);
  std::uniform_int_distribution<int> value(0, 99);
  for (int i = 0; i < 10000; ++i) {
    const GeoPoint p = points.Next();
    const int v = value(rng);
    ASSERT_TRUE(index.Upsert(IdOf(i), p, v).ok());
    model.Upsert(IdOf(i), p, v);
  }
  for (int q = 0; q < 300; ++q) {
    GeoPoint center = points.InSquare(0.02);
    if (q % 5 == 0) center = PointMaker::Lattice(center);
    const double radius = q % 10 == 0 ? 0 : std::uniform_real_distribution<double>(0, 3000)(rng);
    const RandomFilter filter = MakeFilter(rng, model);
    SCOPED_TRACE(absl::StrCat("query ", q, " center (", center.lat, ", ", center.lng,
                              ") radius=", radius, " filter kind ", filter.kind));
    ASSERT_NO_FATAL_FAILURE(ExpectSameHits(index.WithinRadius(center, radius, filter),
                                           model.Query(center, model.size(), radius, filter)));
  }
}

TEST(GeoIndex, IsMovable) {
  Index a;
  ASSERT_TRUE(a.Upsert("x", kHuzhou, 7).ok());
  Index b = std::move(a);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(*b.Nearest(kHuzhou, 1)[0].value, 7);
  Index c;
  c = std::move(b);
  EXPECT_EQ(*c.FindValue("x"), 7);
}

}  // namespace
}  // namespace yiyuan
