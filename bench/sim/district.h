#ifndef YIYUAN_BENCH_SIM_DISTRICT_H_
#define YIYUAN_BENCH_SIM_DISTRICT_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/help_request.h"
#include "engine/volunteer.h"

// A seeded synthetic district modelled on Wuxing District, Huzhou (issue 7): geography,
// stations, vans, volunteers, teams, pairings, residents and one day of requests with an
// epidemic surge. Pure C++: nothing here talks to a server; the simulator drives it.
//
// Every share and count below is a modelling choice, not a measured figure: the reports in
// /work/shared/CONTEXT.md give the channels, the categories, ~30 stations and the scale,
// not the mix. Street names are Wuxing's; community and compound names are invented.
namespace yiyuan::sim {

// Options for GenerateDistrict. The same options (seed included) always give the same
// district, byte for byte in ToJson.
struct DistrictOptions {
  uint64_t seed = 1;
  // District id used in every generated id prefix (no '-').
  std::string district = "wuxing";
  // Registered volunteers.
  int volunteers = 10000;
  // Residents who may ask for help (requests pick among them).
  int residents = 8000;
  // Requests in the simulated day, surge included.
  int requests = 3000;
  // Fixed collection/service stations, placed among communities (a community may hold
  // more than one when there are more stations than communities).
  int stations = 30;
  // Service vans, each with a home station.
  int vans = 4;
  // Social-worker-led teams at most (fewer when too few licensed social workers or
  // members are available in a community).
  int teams = 60;
  // Elderly pairings at most (fewer when a community has no suitable volunteer).
  int pairings = 200;
  // ISO day of week of the simulated day (1 = Monday .. 7 = Sunday).
  int day_of_week = 3;

  // Request mix. Index by the enum number minus one (HOTLINE, APP, WECHAT, STATION,
  // SWEEP); shares are normalised, so they need not sum to 1.
  std::array<double, 5> channel_share = {0.25, 0.30, 0.20, 0.15, 0.10};
  // ELDER_VISIT, ESCORT, SHOPPING, HOUSEWORK, REPAIR, HEALTH_CHECK, PSYCH_SUPPORT,
  // EPIDEMIC_SUPPLY, OTHER (outside the surge).
  std::array<double, 9> category_share = {0.22, 0.10, 0.15, 0.12, 0.10, 0.12, 0.05, 0.04, 0.10};
  // ROUTINE, URGENT, CRISIS.
  std::array<double, 3> urgency_share = {0.85, 0.12, 0.03};
  // Relative arrival rate of HOTLINE/APP/WECHAT requests for each local hour: quiet at
  // night, a morning peak at 09 and a late-afternoon peak at 16.
  std::array<double, 24> hourly_weight = {0.10, 0.06, 0.05, 0.05, 0.06, 0.15, 0.35, 0.60,
                                          0.65, 1.00, 0.65, 0.55, 0.40, 0.45, 0.55, 0.65,
                                          0.95, 0.60, 0.45, 0.40, 0.30, 0.22, 0.15, 0.12};
  // STATION and SWEEP requests are entered in batches after the building sweeps: each
  // batch starts at one of these local minutes and spreads over batch_spread_minutes.
  std::vector<int> sweep_batch_minutes = {11 * 60 + 30, 17 * 60 + 30};
  int batch_spread_minutes = 10;

  // Epidemic surge: surge_share of all requests are extra EPIDEMIC_SUPPLY requests from
  // surge_communities communities, arriving uniformly in [surge_start_minute,
  // surge_end_minute) local time. One operator mobilisation is issued
  // mobilisation_delay_minutes after the start.
  double surge_share = 0.05;
  int surge_communities = 3;
  int surge_start_minute = 14 * 60;
  int surge_end_minute = 18 * 60;
  int mobilisation_delay_minutes = 30;
  int mobilisation_needed = 40;
};

// A small district for tests and --quick runs: 600 volunteers, 600 residents, 500
// requests, same geography.
DistrictOptions QuickOptions(uint64_t seed = 1);

struct Street {
  std::string id;    // "wx-aishan"
  std::string name;  // "爱山街道"
  LatLng center;
};

struct Community {
  std::string id;  // "wx-aiguo"
  std::string name;
  std::string street_id;
  LatLng center;
  double population_weight = 0;  // Sum of its compounds' weights.
};

struct Compound {
  std::string id;  // "wx-aiguo-c2"
  std::string name;
  std::string community_id;
  LatLng center;
  double population_weight = 0;
};

struct Station {
  std::string id;  // "wx-st01"
  std::string name;
  std::string community_id;
  LatLng location;
};

struct Van {
  std::string id;  // "wx-van1"
  std::string home_station_id;
  LatLng location;  // At its home station.
  int capacity = 2;
  std::vector<std::string> equipment;
};

struct SimVolunteer {
  // external_id "sim-v00001"; home_community_id set; skills, certificates, languages
  // and availability sorted as the validator wants them.
  VolunteerProfile profile;
  std::string compound_id;
  LatLng home;
  int age = 0;
  // How the simulated app behaves: the chance of accepting an offer, and km/h.
  double accept_probability = 0;
  double speed_kmh = 0;
};

// A team led by a licensed social worker (社工带义工): leader and 3..6 members, all of
// one community. Volunteers are named by external id.
struct SimTeam {
  std::string id;  // "wx-team01"
  std::string community_id;
  std::string leader;
  std::vector<std::string> members;
};

struct SimResident {
  std::string id;  // "sim-r00001"
  int age = 0;
  Resident resident;  // community_id, compound_id, location and flags set.
};

// A monthly silver-age visit pairing (银龄互助): a younger-old volunteer (55..69) and a
// high-age (80+) resident of the same community.
struct SimPairing {
  std::string id;         // "wx-pair001"
  std::string volunteer;  // External id.
  std::string resident;   // SimResident id.
  Recurrence recurrence = Recurrence::kMonthly;
};

struct SimRequest {
  std::string request_id;  // Idempotency key, "sim-q000001".
  int64_t time_ms = 0;     // Arrival, ms after local midnight of the simulated day.
  std::string resident;    // SimResident id; content.resident is a copy.
  // window_start_ms/window_end_ms are, like time_ms, ms after local midnight (0: none);
  // the driver adds the simulated day's start.
  RequestContent content;
  bool surge = false;  // One of the surge's extra EPIDEMIC_SUPPLY requests.
};

// The operator's area broadcast during the surge.
struct SimMobilisation {
  std::string idempotency_key;
  int64_t time_ms = 0;  // ms after local midnight.
  LatLng center;
  double radius_m = 0;
  int needed = 0;
  Category category = Category::kEpidemicSupply;
  std::string description;
  std::vector<std::string> community_ids;  // The surge communities.
};

struct BoundingBox {
  double min_lat = 0, max_lat = 0, min_lng = 0, max_lng = 0;
  bool Contains(const LatLng& p) const {
    return p.lat >= min_lat && p.lat <= max_lat && p.lng >= min_lng && p.lng <= max_lng;
  }
};

struct District {
  DistrictOptions options;
  LatLng center;    // ≈ 30.87 N, 120.09 E.
  BoundingBox box;  // Every generated location lies inside.
  std::vector<Street> streets;
  std::vector<Community> communities;
  std::vector<Compound> compounds;
  std::vector<Station> stations;
  std::vector<Van> vans;
  std::vector<SimVolunteer> volunteers;
  std::vector<SimTeam> teams;
  std::vector<SimResident> residents;
  std::vector<SimPairing> pairings;
  std::vector<SimRequest> requests;  // Sorted by time_ms, then request_id.
  SimMobilisation mobilisation;
};

// Builds the district. INVALID_ARGUMENT naming the field when an option is out of range
// (negative counts, shares that sum to zero, an empty or inverted surge window).
absl::StatusOr<District> GenerateDistrict(const DistrictOptions& options);

// `q.content` with its time window moved onto a real day: `day_start_ms` is the
// simulated day's local midnight in ms since the epoch.
RequestContent ContentOnDay(const SimRequest& q, int64_t day_start_ms);

// Great-circle distance in metres (haversine).
double DistanceMeters(const LatLng& a, const LatLng& b);

// The whole district as compact JSON (keys sorted, coordinates to 6 decimals): options,
// geography, units, volunteers, teams, residents, pairings, requests (residents by id)
// and the mobilisation.
std::string ToJson(const District& district);

}  // namespace yiyuan::sim

#endif  // YIYUAN_BENCH_SIM_DISTRICT_H_
