#include "engine/geo_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace yiyuan {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadPerDeg = kPi / 180;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Indexable latitudes reach this far from the equator (see IsIndexable).
constexpr double kMaxLatDeg = 85;

// Bounds are computed in floating point, and a point's cell from a rounded division, so
// a point may sit a few ulps (nanometres) outside the cell the arithmetic says; bounds
// are lowered by far more than that.
double Understate(double bound_m) { return std::max(0.0, bound_m * (1 - 1e-9) - 1e-6); }

// Lower bound on the distance between a point at a latitude of cosine `cos_lat` and any
// point at a latitude of cosine at least `cos_min` whose longitude differs by at least
// `dlng_deg` (the shorter way round).
//
// On the sphere hav(d/R) = hav(dlat) + cos(lat1) cos(lat2) hav(dlng) >=
// cos(lat1) cos(lat2) hav(dlng), so sin(d/2R) >= sqrt(cos(lat1) cos_min) sin(dlng/2). Over
// a band of latitudes the least cosine is at one of its ends (cos is concave there).
double LngBoundMeters(double cos_lat, double cos_min, double dlng_deg) {
  if (!(dlng_deg > 0)) return 0;
  const double s =
      std::sqrt(cos_lat * cos_min) * std::sin(std::min(dlng_deg, 180.0) * kRadPerDeg / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, s));
}

double LatBoundMeters(double dlat_deg) { return kEarthRadiusM * dlat_deg * kRadPerDeg; }

}  // namespace

double GreatCircleMeters(GeoPoint a, GeoPoint b) {
  return geo_index_internal::MetersFromChordSquared(geo_index_internal::ChordSquared(
      geo_index_internal::ToUnitVector(a), geo_index_internal::ToUnitVector(b)));
}

bool IsIndexable(GeoPoint p) {
  return std::isfinite(p.lat) && std::isfinite(p.lng) && std::abs(p.lat) <= kMaxLatDeg &&
         std::abs(p.lng) <= 180;
}

namespace geo_index_internal {

UnitVector ToUnitVector(GeoPoint p) {
  const double lat = p.lat * kRadPerDeg;
  const double lng = p.lng * kRadPerDeg;
  const double c = std::cos(lat);
  return UnitVector{c * std::cos(lng), c * std::sin(lng), std::sin(lat)};
}

absl::Status NotIndexableError(GeoPoint p) {
  return absl::InvalidArgumentError(
      absl::StrCat("location: (", p.lat, ", ", p.lng,
                   ") is not indexable: lat must be in [-85, 85] and lng in [-180, 180]"));
}

double MetersFromChordSquared(double chord_squared) {
  const double half = std::sqrt(chord_squared) / 2;
  if (half >= 1) return kPi * kEarthRadiusM;
  return 2 * kEarthRadiusM * std::asin(half);
}

double ChordSquaredCeilingForMeters(double meters) {
  const double half_angle = meters / (2 * kEarthRadiusM);
  if (!(half_angle < kPi / 2)) return kInf;
  const double chord = 2 * std::sin(half_angle);
  // A generous margin: entries admitted by it are checked again in metres.
  return chord * chord * (1 + 1e-12);
}

Grid::Grid(const GeoIndexOptions& options) {
  const GeoIndexOptions defaults;
  const double cell_m = std::isnan(options.cell_size_m) ? defaults.cell_size_m
                                                        : std::clamp(options.cell_size_m, 1.0, 1e6);
  const double reference_lat = std::isnan(options.reference_lat_deg)
                                   ? defaults.reference_lat_deg
                                   : std::clamp(options.reference_lat_deg, -80.0, 80.0);
  lat_step_deg_ = cell_m / (kEarthRadiusM * kRadPerDeg);
  lng_step_deg_ = lat_step_deg_ / std::cos(reference_lat * kRadPerDeg);
  min_row_ = Row(-kMaxLatDeg);
  max_row_ = Row(kMaxLatDeg);
  min_col_ = Col(-180);
  max_col_ = Col(180);
}

int64_t Grid::Row(double lat) const {
  return static_cast<int64_t>(std::floor(lat / lat_step_deg_));
}

int64_t Grid::Col(double lng) const {
  return static_cast<int64_t>(std::floor(lng / lng_step_deg_));
}

int64_t Grid::ClippedArea(int64_t row, int64_t col, int64_t r) const {
  const int64_t rows = std::min(row + r, max_row_) - std::max(row - r, min_row_) + 1;
  const int64_t cols = std::min(col + r, max_col_) - std::max(col - r, min_col_) + 1;
  return rows > 0 && cols > 0 ? rows * cols : 0;
}

Grid::SideBounds Grid::BoundsOutside(GeoPoint center, int64_t row0, int64_t row1, int64_t col0,
                                     int64_t col1) const {
  SideBounds b{kInf, kInf, kInf, kInf};
  // Points in rows south or north of the rectangle differ in latitude by at least the
  // distance to its edge.
  if (row0 > min_row_) {
    b.south = Understate(LatBoundMeters(std::max(0.0, center.lat - row0 * lat_step_deg_)));
  }
  if (row1 < max_row_) {
    b.north = Understate(LatBoundMeters(std::max(0.0, (row1 + 1) * lat_step_deg_ - center.lat)));
  }
  // West and east of it, in its rows. The grid does not wrap at +-180, so a point far
  // west in the grid may be near across the antimeridian: its true longitude difference
  // is the shorter way round.
  const bool west = col0 > min_col_;
  const bool east = col1 < max_col_;
  const double band_lo = std::max(-kMaxLatDeg, row0 * lat_step_deg_);
  const double band_hi = std::min(kMaxLatDeg, (row1 + 1) * lat_step_deg_);
  if ((west || east) && band_lo <= band_hi) {
    const double cq = std::max(0.0, std::cos(center.lat * kRadPerDeg));
    const double cmin =
        std::max(0.0, std::min(std::cos(band_lo * kRadPerDeg), std::cos(band_hi * kRadPerDeg)));
    if (west) {
      const double d = std::min(center.lng - col0 * lng_step_deg_, 180 - center.lng);
      b.west = Understate(LngBoundMeters(cq, cmin, d));
    }
    if (east) {
      const double d = std::min((col1 + 1) * lng_step_deg_ - center.lng, 180 + center.lng);
      b.east = Understate(LngBoundMeters(cq, cmin, d));
    }
  }
  return b;
}

double Grid::BoundToCell(GeoPoint center, int64_t row, int64_t col) const {
  const double lat_lo = std::max(-kMaxLatDeg, row * lat_step_deg_);
  const double lat_hi = std::min(kMaxLatDeg, (row + 1) * lat_step_deg_);
  double dlat = 0;
  if (center.lat < lat_lo) dlat = lat_lo - center.lat;
  if (center.lat > lat_hi) dlat = center.lat - lat_hi;

  const double lng_lo = std::max(-180.0, col * lng_step_deg_);
  const double lng_hi = std::min(180.0, (col + 1) * lng_step_deg_);
  double dlng = 0;
  // The grid difference ranges over an interval; the true one is the shorter way round.
  if (center.lng < lng_lo) dlng = std::min(lng_lo - center.lng, 360 - (lng_hi - center.lng));
  if (center.lng > lng_hi) dlng = std::min(center.lng - lng_hi, 360 - (center.lng - lng_lo));
  dlng = std::clamp(dlng, 0.0, 180.0);

  const double cq = std::max(0.0, std::cos(center.lat * kRadPerDeg));
  const double cmin =
      std::max(0.0, std::min(std::cos(lat_lo * kRadPerDeg), std::cos(lat_hi * kRadPerDeg)));
  return Understate(std::max(LatBoundMeters(dlat), LngBoundMeters(cq, cmin, dlng)));
}

}  // namespace geo_index_internal
}  // namespace yiyuan
