#include "bench/sim/district.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "engine/request_validator.h"
#include "engine/volunteer_validator.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace yiyuan::sim {
namespace {

District Generate(const DistrictOptions& o) {
  absl::StatusOr<District> d = GenerateDistrict(o);
  EXPECT_TRUE(d.ok()) << d.status();
  return *std::move(d);
}

// Requests arriving by the daily curve (not in a batch, not the surge).
bool OnCurve(const SimRequest& q) {
  return !q.surge && q.content.channel != Channel::kStation && q.content.channel != Channel::kSweep;
}

TEST(DistrictTest, SameSeedGivesIdenticalJson) {
  std::string a = ToJson(Generate(QuickOptions(42)));
  std::string b = ToJson(Generate(QuickOptions(42)));
  EXPECT_EQ(a, b);
  EXPECT_TRUE(nlohmann::json::parse(a).is_object());
}

TEST(DistrictTest, DifferentSeedsDiffer) {
  District a = Generate(QuickOptions(1));
  District b = Generate(QuickOptions(2));
  EXPECT_NE(ToJson(a), ToJson(b));
  int same_home = 0;
  for (size_t i = 0; i < a.volunteers.size(); ++i)
    if (a.volunteers[i].profile.home_community_id == b.volunteers[i].profile.home_community_id)
      ++same_home;
  EXPECT_LT(same_home, static_cast<int>(a.volunteers.size()) / 4);
}

TEST(DistrictTest, RejectsBadOptionsNamingTheField) {
  DistrictOptions o = QuickOptions();
  o.volunteers = -1;
  EXPECT_EQ(GenerateDistrict(o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(GenerateDistrict(o).status().message().find("options.volunteers"), std::string::npos);
  o = QuickOptions();
  o.channel_share = {0, 0, 0, 0, 0};
  EXPECT_NE(GenerateDistrict(o).status().message().find("channel_share"), std::string::npos);
  o = QuickOptions();
  o.surge_end_minute = o.surge_start_minute;
  EXPECT_FALSE(GenerateDistrict(o).ok());
}

TEST(DistrictTest, CountsMatchTheOptions) {
  DistrictOptions o = QuickOptions(3);
  District d = Generate(o);
  EXPECT_EQ(static_cast<int>(d.volunteers.size()), o.volunteers);
  EXPECT_EQ(static_cast<int>(d.residents.size()), o.residents);
  EXPECT_EQ(static_cast<int>(d.requests.size()), o.requests);
  EXPECT_EQ(static_cast<int>(d.stations.size()), 30);
  EXPECT_EQ(static_cast<int>(d.vans.size()), 4);
  EXPECT_EQ(d.streets.size(), 8u);
  EXPECT_EQ(d.communities.size(), 40u);
  EXPECT_GT(d.teams.size(), 0u);
  EXPECT_LE(static_cast<int>(d.teams.size()), o.teams);
  EXPECT_GT(d.pairings.size(), 0u);
  EXPECT_LE(static_cast<int>(d.pairings.size()), o.pairings);
  std::set<std::string> ids;
  for (const SimVolunteer& v : d.volunteers) ids.insert(v.profile.external_id);
  for (const SimRequest& q : d.requests) ids.insert(q.request_id);
  EXPECT_EQ(ids.size(), d.volunteers.size() + d.requests.size());
  std::set<std::string> station_ids;
  for (const Station& s : d.stations) station_ids.insert(s.id);
  for (const Van& v : d.vans) EXPECT_TRUE(station_ids.count(v.home_station_id)) << v.id;
  EXPECT_TRUE(std::is_sorted(
      d.requests.begin(), d.requests.end(),
      [](const SimRequest& a, const SimRequest& b) { return a.time_ms < b.time_ms; }));
}

TEST(DistrictTest, ChannelAndUrgencySharesWithinThreePercent) {
  DistrictOptions o = QuickOptions(5);
  o.requests = 5000;
  o.residents = 2000;
  District d = Generate(o);
  std::array<int, 5> channels{};
  std::array<int, 3> urgencies{};
  std::array<int, 9> categories{};
  int base = 0;
  for (const SimRequest& q : d.requests) {
    ++channels[static_cast<int>(q.content.channel) - 1];
    ++urgencies[static_cast<int>(q.content.urgency) - 1];
    if (q.surge) continue;
    ++base;
    ++categories[static_cast<int>(q.content.category) - 1];
  }
  // Category numbers 1..8 are the first eight shares; OTHER is number 11.
  categories[8] = base;
  for (int i = 0; i < 8; ++i) categories[8] -= categories[i];
  auto check = [](const auto& counts, const auto& shares, int n, const char* what) {
    double total = 0;
    for (double s : shares) total += s;
    for (size_t i = 0; i < shares.size(); ++i)
      EXPECT_NEAR(static_cast<double>(counts[i]) / n, shares[i] / total, 0.03) << what << " " << i;
  };
  check(channels, o.channel_share, o.requests, "channel");
  check(urgencies, o.urgency_share, o.requests, "urgency");
  check(categories, o.category_share, base, "category");
  int surge = static_cast<int>(d.requests.size()) - base;
  EXPECT_EQ(surge, static_cast<int>(o.requests * o.surge_share + 0.5));
}

TEST(DistrictTest, SkillSharesAreRealistic) {
  District d = Generate(DistrictOptions{});
  EXPECT_EQ(d.volunteers.size(), 10000u);
  std::map<std::string, int> holders;
  for (const SimVolunteer& v : d.volunteers)
    for (const std::string& t : CapabilityTokens(v.profile)) ++holders[t];
  auto share = [&](const char* t) { return holders[t] / 10000.0; };
  EXPECT_NEAR(share("driver"), 0.20, 0.02);
  EXPECT_NEAR(share("cooking"), 0.25, 0.02);
  EXPECT_NEAR(share("licensed_social_worker"), 0.03, 0.01);
  EXPECT_NEAR(share("medical"), 0.05, 0.01);
  EXPECT_GT(share("counsellor"), 0.0);
}

TEST(DistrictTest, LocationsInsideTheBoxAndNearTheirCommunity) {
  District d = Generate(QuickOptions(7));
  // The centre of Wuxing's urban area.
  EXPECT_TRUE(d.box.Contains(LatLng{30.87, 120.09}));
  EXPECT_LT(d.box.max_lat - d.box.min_lat, 0.15);
  EXPECT_LT(d.box.max_lng - d.box.min_lng, 0.15);
  absl::flat_hash_map<std::string, LatLng> center;
  for (const Community& c : d.communities) center[c.id] = c.center;
  // Compound within 500 m of its community, home within 250 m of its compound.
  constexpr double kNear = 800;
  for (const SimVolunteer& v : d.volunteers) {
    ASSERT_TRUE(center.contains(v.profile.home_community_id)) << v.profile.external_id;
    EXPECT_TRUE(d.box.Contains(v.home)) << v.profile.external_id;
    EXPECT_LT(DistanceMeters(v.home, center[v.profile.home_community_id]), kNear)
        << v.profile.external_id;
  }
  for (const SimRequest& q : d.requests) {
    const Resident& r = q.content.resident;
    ASSERT_TRUE(r.location.has_value()) << q.request_id;
    EXPECT_TRUE(d.box.Contains(*r.location)) << q.request_id;
    EXPECT_LT(DistanceMeters(*r.location, center[r.community_id]), kNear) << q.request_id;
  }
  for (const Station& s : d.stations) {
    EXPECT_TRUE(d.box.Contains(s.location)) << s.id;
    EXPECT_LT(DistanceMeters(s.location, center[s.community_id]), 300) << s.id;
  }
}

TEST(DistrictTest, DailyCurvePeaksWhereConfigured) {
  DistrictOptions o = QuickOptions(11);
  o.requests = 5000;
  District d = Generate(o);
  std::array<int, 24> by_hour{};
  for (const SimRequest& q : d.requests)
    if (OnCurve(q)) ++by_hour[q.time_ms / 3600000];
  auto morning = std::max_element(by_hour.begin(), by_hour.begin() + 12) - by_hour.begin();
  auto afternoon = std::max_element(by_hour.begin() + 12, by_hour.end()) - by_hour.begin();
  EXPECT_EQ(morning, 9);
  EXPECT_EQ(afternoon, 16);
  int night = by_hour[0] + by_hour[1] + by_hour[2] + by_hour[3] + by_hour[4];
  EXPECT_LT(night, by_hour[9] / 2);

  // Station and sweep requests arrive only in the batches after the sweeps.
  for (const SimRequest& q : d.requests) {
    if (OnCurve(q) || q.surge) continue;
    int minute = static_cast<int>(q.time_ms / 60000);
    bool in_batch = false;
    for (int b : o.sweep_batch_minutes)
      in_batch |= minute >= b && minute < b + o.batch_spread_minutes;
    EXPECT_TRUE(in_batch) << q.request_id << " at minute " << minute;
    EXPECT_FALSE(q.content.station_id.empty()) << q.request_id;
  }
}

TEST(DistrictTest, TeamsAreLedByASocialWorkerOfTheirCommunity) {
  District d = Generate(DistrictOptions{});
  absl::flat_hash_map<std::string, const SimVolunteer*> by_id;
  for (const SimVolunteer& v : d.volunteers) by_id[v.profile.external_id] = &v;
  ASSERT_GE(d.teams.size(), 30u);
  std::set<std::string> seen;
  for (const SimTeam& t : d.teams) {
    const SimVolunteer* leader = by_id[t.leader];
    ASSERT_NE(leader, nullptr) << t.id;
    const auto& certs = leader->profile.certificates;
    EXPECT_NE(std::find(certs.begin(), certs.end(), Certificate::kLicensedSocialWorker),
              certs.end())
        << t.id;
    EXPECT_EQ(leader->profile.home_community_id, t.community_id) << t.id;
    EXPECT_GE(t.members.size(), 3u) << t.id;
    EXPECT_LE(t.members.size(), 6u) << t.id;
    EXPECT_TRUE(seen.insert(t.leader).second) << t.leader;
    for (const std::string& m : t.members) {
      ASSERT_NE(by_id[m], nullptr) << m;
      EXPECT_EQ(by_id[m]->profile.home_community_id, t.community_id) << t.id << " " << m;
      EXPECT_TRUE(seen.insert(m).second) << m << " is in two teams";
    }
  }
}

TEST(DistrictTest, PairingsJoinAYoungerOldVolunteerAndAHighAgeResidentOfOneCommunity) {
  District d = Generate(DistrictOptions{});
  absl::flat_hash_map<std::string, const SimVolunteer*> volunteers;
  for (const SimVolunteer& v : d.volunteers) volunteers[v.profile.external_id] = &v;
  absl::flat_hash_map<std::string, const SimResident*> residents;
  for (const SimResident& r : d.residents) residents[r.id] = &r;
  ASSERT_EQ(d.pairings.size(), 200u);
  for (const SimPairing& p : d.pairings) {
    const SimVolunteer* v = volunteers[p.volunteer];
    const SimResident* r = residents[p.resident];
    ASSERT_NE(v, nullptr) << p.id;
    ASSERT_NE(r, nullptr) << p.id;
    EXPECT_EQ(v->profile.home_community_id, r->resident.community_id) << p.id;
    EXPECT_TRUE(r->resident.high_age) << p.id;
    EXPECT_GE(r->age, 80) << p.id;
    EXPECT_GE(v->age, 55) << p.id;
    EXPECT_LT(v->age, 70) << p.id;
    EXPECT_EQ(p.recurrence, Recurrence::kMonthly) << p.id;
  }
}

TEST(DistrictTest, SurgeRaisesEpidemicSupplyInsideItsWindow) {
  DistrictOptions o = QuickOptions(13);
  o.requests = 5000;
  District d = Generate(o);
  int inside = 0, outside = 0;
  std::set<std::string> surge_communities(d.mobilisation.community_ids.begin(),
                                          d.mobilisation.community_ids.end());
  ASSERT_EQ(static_cast<int>(surge_communities.size()), o.surge_communities);
  for (const SimRequest& q : d.requests) {
    if (q.content.category != Category::kEpidemicSupply) continue;
    int minute = static_cast<int>(q.time_ms / 60000);
    bool in_window = minute >= o.surge_start_minute && minute < o.surge_end_minute;
    (in_window ? inside : outside)++;
    if (q.surge) {
      EXPECT_TRUE(in_window) << q.request_id;
      EXPECT_TRUE(surge_communities.count(q.content.resident.community_id)) << q.request_id;
    }
  }
  double window_hours = (o.surge_end_minute - o.surge_start_minute) / 60.0;
  double rate_inside = inside / window_hours;
  double rate_outside = outside / (24 - window_hours);
  EXPECT_GT(rate_inside, 4 * rate_outside) << inside << " inside, " << outside << " outside";

  const SimMobilisation& m = d.mobilisation;
  EXPECT_EQ(m.time_ms, (o.surge_start_minute + o.mobilisation_delay_minutes) * 60000LL);
  EXPECT_EQ(m.needed, o.mobilisation_needed);
  EXPECT_EQ(m.category, Category::kEpidemicSupply);
  EXPECT_TRUE(d.box.Contains(m.center));
  for (const Community& c : d.communities) {
    if (surge_communities.count(c.id)) {
      EXPECT_LE(DistanceMeters(m.center, c.center), m.radius_m) << c.id;
    }
  }
}

// The driver submits these as they are; the engine's validators must take them.
TEST(DistrictTest, VolunteersRequestsAndPairingsPassTheEngineValidators) {
  District d = Generate(QuickOptions(17));
  for (const SimVolunteer& v : d.volunteers) {
    VolunteerProfile p = v.profile;
    EXPECT_TRUE(ValidateVolunteerProfile("volunteer", p).ok()) << v.profile.external_id;
    // Already normalised: validation changes nothing.
    EXPECT_EQ(p.skills, v.profile.skills) << v.profile.external_id;
    EXPECT_EQ(p.languages, v.profile.languages) << v.profile.external_id;
    EXPECT_EQ(p.availability, v.profile.availability) << v.profile.external_id;
  }
  // Wednesday 2026-11-25 00:00 Asia/Shanghai.
  const int64_t day_start_ms = absl::ToUnixMillis(
      absl::FromCivil(absl::CivilDay(2026, 11, 25), absl::FixedTimeZone(8 * 3600)));
  for (const SimRequest& q : d.requests) {
    RequestContent c = ContentOnDay(q, day_start_ms);
    absl::Time now = absl::FromUnixMillis(day_start_ms + q.time_ms);
    absl::Status s = ValidateNewRequest(q.request_id, d.options.district, c, now);
    EXPECT_TRUE(s.ok()) << q.request_id << ": " << s;
  }
  absl::flat_hash_map<std::string, const SimResident*> residents;
  for (const SimResident& r : d.residents) residents[r.id] = &r;
  for (const SimPairing& sp : d.pairings) {
    Pairing p;
    p.district = d.options.district;
    p.volunteer_id = d.options.district + "-v1";  // Server-assigned at registration.
    p.resident = residents[sp.resident]->resident;
    p.recurrence = sp.recurrence;
    absl::Status s = ValidatePairing(d.options.district, p);
    EXPECT_TRUE(s.ok()) << sp.id << ": " << s;
  }
}

TEST(DistrictTest, NoSurgeWhenItsShareIsZero) {
  DistrictOptions o = QuickOptions(13);
  o.surge_share = 0;
  District d = Generate(o);
  for (const SimRequest& q : d.requests) EXPECT_FALSE(q.surge) << q.request_id;
}

}  // namespace
}  // namespace yiyuan::sim
