#ifndef YIYUAN_ENGINE_GEO_INDEX_H_
#define YIYUAN_ENGINE_GEO_INDEX_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace yiyuan {

// A point on the earth, WGS-84 degrees.
struct GeoPoint {
  double lat = 0;
  double lng = 0;
};

// Mean earth radius (IUGG), in metres. Distances treat the earth as this sphere.
inline constexpr double kEarthRadiusM = 6371008.8;

// Great-circle distance in metres on the sphere of radius kEarthRadiusM. Computed from
// the chord between the two points' unit vectors, so it is monotonic in the chord: the
// index ranks by chord and ranks exactly as this function does. Rounding error is about
// 1e-9 m (more only for nearly antipodal points).
double GreatCircleMeters(GeoPoint a, GeoPoint b);

// True when both coordinates are finite, lat is in [-85, 85] and lng in [-180, 180].
// GeoIndex holds only such points.
bool IsIndexable(GeoPoint p);

struct GeoIndexOptions {
  // Height of a grid cell, in metres (north-south). Queries look at whole cells, so this
  // trades cells probed against points examined: the default suits a few points per cell
  // (e.g. 100k points in a 20 km square) and k up to a few dozen. Values outside
  // [1, 1e6] are clamped. Affects speed and memory only, never results.
  double cell_size_m = 125;
  // Latitude, in degrees, at which cells are square. Elsewhere a cell is cell_size_m tall
  // and cell_size_m * cos(lat) / cos(reference_lat_deg) wide. Set it to the middle of the
  // area served; the default is Wuxing district, Huzhou. Clamped to [-80, 80]. Affects
  // speed only, never results.
  double reference_lat_deg = 30.87;
};

namespace geo_index_internal {

// A point as a vector on the unit sphere.
struct UnitVector {
  double x = 0;
  double y = 0;
  double z = 0;
};
UnitVector ToUnitVector(GeoPoint p);

// INVALID_ARGUMENT naming "location", for a point that is not IsIndexable.
absl::Status NotIndexableError(GeoPoint p);

// Squared chord between two unit vectors: a strictly increasing function of their
// great-circle distance.
inline double ChordSquared(const UnitVector& a, const UnitVector& b) {
  const double dx = a.x - b.x;
  const double dy = a.y - b.y;
  const double dz = a.z - b.z;
  return dx * dx + dy * dy + dz * dz;
}

// Great-circle metres for a squared chord (non-decreasing in `chord_squared`).
double MetersFromChordSquared(double chord_squared);

// A squared chord no smaller than the chord of any pair of points at most `meters` apart
// (rounded up by a few ulps); +infinity when `meters` reaches half-way round the earth.
double ChordSquaredCeilingForMeters(double meters);

// Cell geometry shared by every GeoIndex: which cell holds a point, and rigorous lower
// bounds on the distance from a query point to points in cells not yet examined.
// Bounds are slightly understated (by 1 um plus 1e-9 relative) to absorb rounding.
// Row r holds latitudes [r, r + 1) * the cell height in degrees, column c longitudes
// [c, c + 1) * the cell width; with cells of at least 1 m both fit in 32 bits.
class Grid {
 public:
  explicit Grid(const GeoIndexOptions& options);

  int64_t Row(double lat) const;
  int64_t Col(double lng) const;
  static int64_t Key(int64_t row, int64_t col) {
    return static_cast<int64_t>((static_cast<uint64_t>(row) << 32) |
                                static_cast<uint32_t>(static_cast<int32_t>(col)));
  }
  static int64_t KeyRow(int64_t key) { return key >> 32; }
  static int64_t KeyCol(int64_t key) { return static_cast<int32_t>(key & 0xffffffff); }

  // Rows and columns that can hold indexable points.
  int64_t min_row() const { return min_row_; }
  int64_t max_row() const { return max_row_; }
  int64_t min_col() const { return min_col_; }
  int64_t max_col() const { return max_col_; }

  // Number of cells of rows [row - r, row + r] x cols [col - r, col + r] that lie within
  // the indexable rows and columns.
  int64_t ClippedArea(int64_t row, int64_t col, int64_t r) const;

  // Lower bounds, in metres, on the distance from `center` to any indexable point
  // outside rows [row0, row1] x columns [col0, col1], by side: south (rows < row0),
  // north (rows > row1), west and east (columns < col0 and > col1, within those rows).
  // +infinity for a side that cannot hold a point.
  struct SideBounds {
    double south, north, west, east;
    double Min() const { return std::min(std::min(south, north), std::min(west, east)); }
  };
  SideBounds BoundsOutside(GeoPoint center, int64_t row0, int64_t row1, int64_t col0,
                           int64_t col1) const;

  // Lower bound, in metres, on the distance from `center` to any point in one cell.
  double BoundToCell(GeoPoint center, int64_t row, int64_t col) const;

 private:
  double lat_step_deg_;
  double lng_step_deg_;
  int64_t min_row_, max_row_, min_col_, max_col_;
};

}  // namespace geo_index_internal

// An in-process spatial index of named points (e.g. on-duty volunteers and units), each
// with a value, answering k-nearest and within-radius queries by great-circle distance.
//
// Entries live in a uniform latitude/longitude grid. Upsert, Move and Remove take O(1)
// expected time. A query examines cells ring by ring outwards from the centre and stops
// as soon as no unexamined cell can hold a nearer hit; where points are sparse it scans
// the non-empty cells instead, so no query costs more than O(non-empty cells + entries).
//
// Results are exact: the same entries, order and distances as sorting every entry by
// (GreatCircleMeters, id) and cutting. The grid does not wrap at the antimeridian
// (lng +-180): results stay exact there, but queries within reach of it may examine many
// more cells (up to the O(non-empty cells) scan).
//
// Not thread-safe: mutations need exclusive access; const methods may run concurrently
// with each other. Pointers handed out (FindValue, MutableValue, Hit) stay valid until the
// next mutation. Movable, not copyable. `Value` must be move-constructible and
// move-assignable.
template <typename Value>
class GeoIndex {
 public:
  explicit GeoIndex(GeoIndexOptions options = {}) : grid_(options) {}
  GeoIndex(const GeoIndex&) = delete;
  GeoIndex& operator=(const GeoIndex&) = delete;
  GeoIndex(GeoIndex&&) = default;
  GeoIndex& operator=(GeoIndex&&) = default;

  // Inserts `id` at `p` with `value`, or moves an existing `id` to `p` and replaces its
  // value. INVALID_ARGUMENT naming "id" when `id` is empty, or "location" when
  // !IsIndexable(p); the index is then unchanged.
  absl::Status Upsert(absl::string_view id, GeoPoint p, Value value);

  // Moves an existing `id` to `p`, keeping its value. NOT_FOUND when `id` is absent,
  // INVALID_ARGUMENT naming "location" when !IsIndexable(p); the index is then unchanged.
  absl::Status Move(absl::string_view id, GeoPoint p);

  // Removes `id`. False when it was absent.
  bool Remove(absl::string_view id);

  // The value of `id`, or nullptr when absent.
  const Value* FindValue(absl::string_view id) const;
  Value* MutableValue(absl::string_view id);

  // Where `id` is, or nullopt when absent.
  std::optional<GeoPoint> Location(absl::string_view id) const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  void Clear();

  struct Hit {
    const std::string* id;  // Valid until the next mutation.
    const Value* value;     // Valid until the next mutation.
    GeoPoint location;
    double distance_m;  // GreatCircleMeters(center, location).
  };
  // Decides whether an entry may be a hit. Called only for entries close enough to
  // matter, at most once per entry and query; it must not mutate the index.
  using Filter = absl::FunctionRef<bool(absl::string_view id, const Value& value)>;

  // Up to `k` entries that pass `filter` and lie at most `max_radius_m` from `center`,
  // nearest first, ties broken by id (byte-wise). Empty when k <= 0, the index is empty,
  // max_radius_m is negative or NaN, or `center` has a non-finite coordinate, |lat| > 90
  // or |lng| > 180. Pass +infinity for no radius limit.
  //
  // `searched_radius_m`, if not null, receives a radius (<= max_radius_m) within which
  // every entry was examined: any entry passing `filter` that is missing from the result
  // lies farther than that, or no nearer than the k-th hit. With fewer than k hits it is
  // max_radius_m. It is 0 when the query was empty for k <= 0 or a bad center.
  std::vector<Hit> Nearest(GeoPoint center, int k, double max_radius_m, Filter filter,
                           double* searched_radius_m = nullptr) const;
  // As above, every entry passing.
  std::vector<Hit> Nearest(GeoPoint center, int k,
                           double max_radius_m = std::numeric_limits<double>::infinity(),
                           double* searched_radius_m = nullptr) const {
    return Nearest(center, k, max_radius_m, AcceptAll, searched_radius_m);
  }

  // Every entry that passes `filter` and lies at most `radius_m` from `center`, nearest
  // first, ties broken by id. Empty in the same cases as Nearest.
  std::vector<Hit> WithinRadius(GeoPoint center, double radius_m, Filter filter) const {
    return Search(center, std::numeric_limits<size_t>::max(), radius_m, filter, nullptr);
  }
  std::vector<Hit> WithinRadius(GeoPoint center, double radius_m) const {
    return WithinRadius(center, radius_m, AcceptAll);
  }

 private:
  using UnitVector = geo_index_internal::UnitVector;
  using Grid = geo_index_internal::Grid;

  // One point in a cell; the vector is kept here, not in Entry, so that scanning a cell
  // reads contiguous memory.
  struct CellItem {
    UnitVector v;
    uint32_t slot;  // Index into entries_.
  };
  struct Entry {
    std::string id;
    GeoPoint location;
    int64_t cell;      // Key into cells_.
    uint32_t in_cell;  // Index into cells_[cell].
    Value value;
  };
  // A possible hit while a query runs.
  struct Candidate {
    double chord_squared;
    uint32_t slot;
  };

  static bool AcceptAll(absl::string_view, const Value&) { return true; }

  // (chord, id) order; ids break ties so results do not depend on insertion order.
  bool Before(const Candidate& a, const Candidate& b) const {
    if (a.chord_squared != b.chord_squared) return a.chord_squared < b.chord_squared;
    return entries_[a.slot].id < entries_[b.slot].id;
  }

  void AddToCell(uint32_t slot, int64_t cell, const UnitVector& v);
  void RemoveFromCell(uint32_t slot);
  std::vector<Hit> Search(GeoPoint center, size_t k, double max_radius_m, Filter filter,
                          double* searched_radius_m) const;

  Grid grid_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, uint32_t> slots_;           // id -> index into entries_.
  absl::flat_hash_map<int64_t, std::vector<CellItem>> cells_;  // Non-empty cells only.
};

// Implementation details follow.

template <typename Value>
absl::Status GeoIndex<Value>::Upsert(absl::string_view id, GeoPoint p, Value value) {
  if (id.empty()) return absl::InvalidArgumentError("id: must not be empty");
  if (!IsIndexable(p)) {
    return geo_index_internal::NotIndexableError(p);
  }
  auto it = slots_.find(id);
  if (it != slots_.end()) {
    entries_[it->second].value = std::move(value);
    return Move(id, p);
  }
  const uint32_t slot = static_cast<uint32_t>(entries_.size());
  const int64_t cell = Grid::Key(grid_.Row(p.lat), grid_.Col(p.lng));
  entries_.push_back(Entry{std::string(id), p, cell, 0, std::move(value)});
  slots_.emplace(entries_.back().id, slot);
  AddToCell(slot, cell, geo_index_internal::ToUnitVector(p));
  return absl::OkStatus();
}

template <typename Value>
absl::Status GeoIndex<Value>::Move(absl::string_view id, GeoPoint p) {
  if (!IsIndexable(p)) {
    return geo_index_internal::NotIndexableError(p);
  }
  auto it = slots_.find(id);
  if (it == slots_.end()) return absl::NotFoundError(absl::StrCat("id: no entry \"", id, "\""));
  const uint32_t slot = it->second;
  Entry& e = entries_[slot];
  const int64_t cell = Grid::Key(grid_.Row(p.lat), grid_.Col(p.lng));
  const UnitVector v = geo_index_internal::ToUnitVector(p);
  e.location = p;
  if (cell == e.cell) {
    cells_.find(cell)->second[e.in_cell].v = v;
    return absl::OkStatus();
  }
  RemoveFromCell(slot);
  AddToCell(slot, cell, v);
  return absl::OkStatus();
}

template <typename Value>
bool GeoIndex<Value>::Remove(absl::string_view id) {
  auto it = slots_.find(id);
  if (it == slots_.end()) return false;
  const uint32_t slot = it->second;
  slots_.erase(it);
  RemoveFromCell(slot);
  const uint32_t last = static_cast<uint32_t>(entries_.size() - 1);
  if (slot != last) {
    // Fill the hole with the last entry, and repoint the id map and its cell at it.
    entries_[slot] = std::move(entries_[last]);
    const Entry& moved = entries_[slot];
    slots_.find(moved.id)->second = slot;
    cells_.find(moved.cell)->second[moved.in_cell].slot = slot;
  }
  entries_.pop_back();
  return true;
}

template <typename Value>
const Value* GeoIndex<Value>::FindValue(absl::string_view id) const {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : &entries_[it->second].value;
}

template <typename Value>
Value* GeoIndex<Value>::MutableValue(absl::string_view id) {
  auto it = slots_.find(id);
  return it == slots_.end() ? nullptr : &entries_[it->second].value;
}

template <typename Value>
std::optional<GeoPoint> GeoIndex<Value>::Location(absl::string_view id) const {
  auto it = slots_.find(id);
  if (it == slots_.end()) return std::nullopt;
  return entries_[it->second].location;
}

template <typename Value>
void GeoIndex<Value>::Clear() {
  entries_.clear();
  slots_.clear();
  cells_.clear();
}

template <typename Value>
void GeoIndex<Value>::AddToCell(uint32_t slot, int64_t cell, const UnitVector& v) {
  std::vector<CellItem>& items = cells_[cell];
  Entry& e = entries_[slot];
  e.cell = cell;
  e.in_cell = static_cast<uint32_t>(items.size());
  items.push_back(CellItem{v, slot});
}

template <typename Value>
void GeoIndex<Value>::RemoveFromCell(uint32_t slot) {
  const Entry& e = entries_[slot];
  auto it = cells_.find(e.cell);
  std::vector<CellItem>& items = it->second;
  if (e.in_cell + 1 != items.size()) {
    items[e.in_cell] = items.back();
    entries_[items[e.in_cell].slot].in_cell = e.in_cell;
  }
  items.pop_back();
  if (items.empty()) cells_.erase(it);
}

template <typename Value>
std::vector<typename GeoIndex<Value>::Hit> GeoIndex<Value>::Nearest(
    GeoPoint center, int k, double max_radius_m, Filter filter, double* searched_radius_m) const {
  if (k <= 0) {
    if (searched_radius_m != nullptr) *searched_radius_m = 0;
    return {};
  }
  return Search(center, static_cast<size_t>(k), max_radius_m, filter, searched_radius_m);
}

template <typename Value>
std::vector<typename GeoIndex<Value>::Hit> GeoIndex<Value>::Search(
    GeoPoint center, size_t k, double max_radius_m, Filter filter,
    double* searched_radius_m) const {
  auto report = [searched_radius_m](double r) {
    if (searched_radius_m != nullptr) *searched_radius_m = r;
  };
  if (!(max_radius_m >= 0) || !std::isfinite(center.lat) || !std::isfinite(center.lng) ||
      std::abs(center.lat) > 90 || std::abs(center.lng) > 180) {
    report(0);
    return {};
  }
  if (entries_.empty()) {
    report(max_radius_m);
    return {};
  }

  const UnitVector q = geo_index_internal::ToUnitVector(center);
  const double radius_chord_squared =
      geo_index_internal::ChordSquaredCeilingForMeters(max_radius_m);
  // Entries whose squared chord lies within this factor of the k-th best may round to the
  // same distance in metres; they are kept aside so that ties in metres are broken by id
  // exactly as the contract says.
  constexpr double kTieBand = 1 + 1e-13;

  // `best` is a max-heap (by Before) of at most k candidates; `near_ties` holds those
  // that fell just outside it.
  std::vector<Candidate> best;
  std::vector<Candidate> near_ties;
  best.reserve(k < 64 ? k : 64);
  auto heap_less = [this](const Candidate& a, const Candidate& b) { return Before(a, b); };
  const bool bounded = k != std::numeric_limits<size_t>::max();

  auto consider = [&](const CellItem& item) {
    const double c2 = geo_index_internal::ChordSquared(q, item.v);
    if (c2 > radius_chord_squared) return;
    const bool full = bounded && best.size() == k;
    if (full && c2 > best.front().chord_squared * kTieBand) return;
    const Entry& e = entries_[item.slot];
    if (!filter(e.id, e.value)) return;
    const Candidate c{c2, item.slot};
    if (!full) {
      best.push_back(c);
      if (bounded) std::push_heap(best.begin(), best.end(), heap_less);
      return;
    }
    if (!Before(c, best.front())) {
      near_ties.push_back(c);
      return;
    }
    std::pop_heap(best.begin(), best.end(), heap_less);
    const Candidate evicted = best.back();
    best.back() = c;
    std::push_heap(best.begin(), best.end(), heap_less);
    if (evicted.chord_squared <= best.front().chord_squared * kTieBand) {
      near_ties.push_back(evicted);
    }
  };
  // The distance within which every hit must lie, given what has been found so far.
  auto limit_m = [&]() {
    if (bounded && best.size() == k) {
      return std::min(max_radius_m,
                      geo_index_internal::MetersFromChordSquared(best.front().chord_squared));
    }
    return max_radius_m;
  };
  auto scan_cell = [&](int64_t row, int64_t col) {
    auto it = cells_.find(Grid::Key(row, col));
    if (it == cells_.end()) return;
    for (const CellItem& item : it->second) consider(item);
  };

  // Rings of cells at Chebyshev distance r from the centre's cell, clipped to the
  // indexable rows and columns, until nothing outside them can be a hit. A side of a
  // ring (its top or bottom row, or its columns between them) that the bounds of the
  // previous ring place beyond the limit is skipped.
  const int64_t row0 = grid_.Row(center.lat);
  const int64_t col0 = grid_.Col(center.lng);
  const int64_t non_empty = static_cast<int64_t>(cells_.size());
  constexpr double kInf = std::numeric_limits<double>::infinity();
  Grid::SideBounds sides{0, 0, 0, 0};  // Of what lies outside the rings scanned.
  double skipped = kInf;               // Least bound of a side skipped.
  for (int64_t r = 0;; ++r) {
    const double limit = limit_m();
    auto skip = [&](double side_bound) {
      if (side_bound <= limit) return false;
      skipped = std::min(skipped, side_bound);
      return true;
    };
    const bool south = r > 0 && skip(sides.south);
    const bool north = r > 0 && skip(sides.north);
    const bool west = r > 0 && skip(sides.west);
    const bool east = r > 0 && skip(sides.east);
    const int64_t lo_row = std::max(row0 - r, grid_.min_row());
    const int64_t hi_row = std::min(row0 + r, grid_.max_row());
    const int64_t lo_col = std::max(col0 - r, grid_.min_col());
    const int64_t hi_col = std::min(col0 + r, grid_.max_col());
    for (int64_t row = lo_row; row <= hi_row; ++row) {
      if (row == row0 - r || row == row0 + r) {
        if ((row == row0 - r && south) || (row == row0 + r && north)) continue;
        for (int64_t col = lo_col; col <= hi_col; ++col) scan_cell(row, col);
      } else {
        if (col0 - r >= grid_.min_col() && !west) scan_cell(row, col0 - r);
        if (col0 + r <= grid_.max_col() && !east) scan_cell(row, col0 + r);
      }
    }
    sides = grid_.BoundsOutside(center, row0 - r, row0 + r, col0 - r, col0 + r);
    const double bound = sides.Min();
    if (bound > limit_m() || std::isinf(bound)) {
      report(std::min({bound, skipped, max_radius_m}));
      break;
    }
    if (grid_.ClippedArea(row0, col0, r + 1) > non_empty) {
      // Sparse: the cells probed so far plus the next ring outnumber the non-empty cells,
      // so looking at each non-empty cell outside the rings (skipping those too far to
      // matter) is cheaper than going on. This bounds a query by O(non-empty cells).
      for (const auto& [key, items] : cells_) {
        const int64_t row = Grid::KeyRow(key);
        const int64_t col = Grid::KeyCol(key);
        if (row >= row0 - r && row <= row0 + r && col >= col0 - r && col <= col0 + r) continue;
        const double cell_bound = grid_.BoundToCell(center, row, col);
        if (cell_bound > limit_m()) {
          skipped = std::min(skipped, cell_bound);
          continue;
        }
        for (const CellItem& item : items) consider(item);
      }
      report(std::min(skipped, max_radius_m));
      break;
    }
  }

  // Final order: by distance in metres, then id; the near ties take part only if they can
  // still round to the k-th distance.
  if (bounded && best.size() == k) {
    const double cutoff = best.front().chord_squared * kTieBand;
    for (const Candidate& c : near_ties) {
      if (c.chord_squared <= cutoff) best.push_back(c);
    }
  }
  std::vector<Hit> hits;
  hits.reserve(best.size());
  for (const Candidate& c : best) {
    const double d = geo_index_internal::MetersFromChordSquared(c.chord_squared);
    if (d > max_radius_m) continue;
    const Entry& e = entries_[c.slot];
    hits.push_back(Hit{&e.id, &e.value, e.location, d});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.distance_m != b.distance_m) return a.distance_m < b.distance_m;
    return *a.id < *b.id;
  });
  if (hits.size() > k) hits.resize(k);
  return hits;
}

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_GEO_INDEX_H_
