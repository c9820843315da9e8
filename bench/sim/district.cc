#include "bench/sim/district.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace yiyuan::sim {
namespace {

constexpr double kMetersPerDegreeLat = 111320.0;
constexpr double kPi = 3.14159265358979323846;

// std::mt19937_64's output is fixed by the standard, but the std distributions are not;
// every draw goes through these conversions so a seed gives the same district on any
// standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform in [lo, hi], by rejection so there is no modulo bias.
  int Int(int lo, int hi) {
    uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    uint64_t limit = UINT64_MAX - UINT64_MAX % span;
    uint64_t x;
    do x = engine_();
    while (x >= limit);
    return lo + static_cast<int>(x % span);
  }
  bool Chance(double p) { return Uniform() < p; }
  // An index drawn with probability proportional to `weights`.
  template <typename C>
  size_t Pick(const C& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double r = Uniform() * total;
    size_t last = 0;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (weights[i] <= 0) continue;
      last = i;
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return last;
  }

 private:
  std::mt19937_64 engine_;
};

double Round6(double v) { return std::round(v * 1e6) / 1e6; }
double Round3(double v) { return std::round(v * 1e3) / 1e3; }

// A point at a uniformly random place within `radius_m` of `c`.
LatLng Jitter(Rng& rng, const LatLng& c, double radius_m) {
  double r = radius_m * std::sqrt(rng.Uniform());
  double a = 2 * kPi * rng.Uniform();
  double dlat = r * std::cos(a) / kMetersPerDegreeLat;
  double dlng = r * std::sin(a) / (kMetersPerDegreeLat * std::cos(c.lat * kPi / 180));
  return LatLng{Round6(c.lat + dlat), Round6(c.lng + dlng)};
}

// Wuxing's urban streets (街道) around the old town; centres are approximate.
// Communities are five per street with invented names.
struct StreetSeed {
  const char* slug;
  const char* name;
  double lat, lng;
  const char* communities[5][2];
};
constexpr StreetSeed kStreets[] = {
    {"aishan",
     "爱山街道",
     30.8660,
     120.0930,
     {{"aiguo", "爱国社区"},
      {"huancheng", "环城社区"},
      {"lianhua", "莲花社区"},
      {"renmin", "人民社区"},
      {"shuangqiao", "双桥社区"}}},
    {"feiying",
     "飞英街道",
     30.8790,
     120.0900,
     {{"feiying", "飞英社区"},
      {"tanxi", "潭溪社区"},
      {"xinhua", "新华社区"},
      {"beimen", "北门社区"},
      {"luhua", "芦花社区"}}},
    {"yuehe",
     "月河街道",
     30.8620,
     120.1060,
     {{"yuehe", "月河社区"},
      {"xiaxi", "霅溪社区"},
      {"qiaoxi", "桥西社区"},
      {"chunshen", "春申社区"},
      {"hehua", "荷花社区"}}},
    {"chaoyang",
     "朝阳街道",
     30.8720,
     120.0780,
     {{"chaoyang", "朝阳社区"},
      {"qingtong", "青铜社区"},
      {"shengli", "胜利社区"},
      {"jiefang", "解放社区"},
      {"xincun", "新村社区"}}},
    {"longquan",
     "龙泉街道",
     30.8540,
     120.0840,
     {{"longquan", "龙泉社区"},
      {"yangfan", "扬帆社区"},
      {"sanliqiao", "三里桥社区"},
      {"hongxing", "红星社区"},
      {"zhuhe", "竹河社区"}}},
    {"kangshan",
     "康山街道",
     30.8500,
     120.1200,
     {{"kangshan", "康山社区"},
      {"dongcheng", "东城社区"},
      {"huayuan", "花园社区"},
      {"xingyue", "星月社区"},
      {"qili", "七里社区"}}},
    {"renhuangshan",
     "仁皇山街道",
     30.8950,
     120.0800,
     {{"renhuang", "仁皇社区"},
      {"binhe", "滨河社区"},
      {"taihu", "太湖社区"},
      {"zhaowan", "赵湾社区"},
      {"chengbei", "城北社区"}}},
    {"binhu",
     "滨湖街道",
     30.9120,
     120.1000,
     {{"binhu", "滨湖社区"},
      {"yangjia", "杨家社区"},
      {"xiaomei", "小梅社区"},
      {"huqiao", "湖桥社区"},
      {"lanshan", "岚山社区"}}},
};
constexpr double kCommunityRadiusM = 900;  // Community centre from its street centre.
constexpr double kCompoundRadiusM = 500;   // Compound centre from its community centre.
constexpr double kHomeRadiusM = 250;       // Home from its compound centre.

constexpr const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                     "吴", "周", "徐", "孙", "沈", "朱", "钱", "姚"};
constexpr const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军",
                                  "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "霞",
                                  "平", "刚", "英", "华", "建", "国", "秀", "兰"};

std::string PersonName(Rng& rng) {
  std::string n = kSurnames[rng.Int(0, std::size(kSurnames) - 1)];
  int len = rng.Chance(0.7) ? 2 : 1;
  for (int i = 0; i < len; ++i) n += kGiven[rng.Int(0, std::size(kGiven) - 1)];
  return n;
}

template <typename T>
void SortUnique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

absl::Status CheckOptions(const DistrictOptions& o) {
  auto bad = [](const char* field, const char* what) {
    return absl::InvalidArgumentError(absl::StrCat("options.", field, ": ", what));
  };
  if (o.district.empty() || o.district.find('-') != std::string::npos)
    return bad("district", "must be non-empty without '-'");
  if (o.volunteers < 0) return bad("volunteers", "must be >= 0");
  if (o.residents < 1) return bad("residents", "must be >= 1");
  if (o.requests < 0) return bad("requests", "must be >= 0");
  if (o.stations < 1) return bad("stations", "must be >= 1");
  if (o.vans < 0) return bad("vans", "must be >= 0");
  if (o.teams < 0) return bad("teams", "must be >= 0");
  if (o.pairings < 0) return bad("pairings", "must be >= 0");
  if (o.day_of_week < 1 || o.day_of_week > 7) return bad("day_of_week", "must be 1..7");
  auto positive = [](const auto& shares) {
    double sum = 0;
    for (double s : shares) {
      if (s < 0) return false;
      sum += s;
    }
    return sum > 0;
  };
  if (!positive(o.channel_share)) return bad("channel_share", "must be >= 0 with a positive sum");
  if (!positive(o.category_share)) return bad("category_share", "must be >= 0 with a positive sum");
  if (!positive(o.urgency_share)) return bad("urgency_share", "must be >= 0 with a positive sum");
  if (!positive(o.hourly_weight)) return bad("hourly_weight", "must be >= 0 with a positive sum");
  if (o.sweep_batch_minutes.empty()) return bad("sweep_batch_minutes", "must not be empty");
  for (int m : o.sweep_batch_minutes)
    if (m < 0 || m + o.batch_spread_minutes > 1440)
      return bad("sweep_batch_minutes", "batches must end within the day");
  if (o.batch_spread_minutes < 1) return bad("batch_spread_minutes", "must be >= 1");
  if (o.surge_share < 0 || o.surge_share >= 1) return bad("surge_share", "must be in [0, 1)");
  if (o.surge_communities < 1) return bad("surge_communities", "must be >= 1");
  if (o.surge_start_minute < 0 || o.surge_end_minute > 1440 ||
      o.surge_start_minute >= o.surge_end_minute)
    return bad("surge_start_minute", "window must be non-empty within the day");
  if (o.mobilisation_delay_minutes < 0) return bad("mobilisation_delay_minutes", "must be >= 0");
  if (o.mobilisation_needed < 1) return bad("mobilisation_needed", "must be >= 1");
  return absl::OkStatus();
}

void BuildGeography(Rng& rng, District& d) {
  d.center = LatLng{30.87, 120.09};
  for (const StreetSeed& s : kStreets) {
    Street street{absl::StrCat("wx-", s.slug), s.name, LatLng{s.lat, s.lng}};
    for (const auto& c : s.communities) {
      Community community{absl::StrCat("wx-", c[0]), c[1], street.id,
                          Jitter(rng, street.center, kCommunityRadiusM), 0};
      int compounds = rng.Int(3, 6);
      for (int k = 1; k <= compounds; ++k) {
        // Compound sizes vary several-fold (a few big estates, many small ones).
        double u = rng.Uniform();
        Compound compound{absl::StrCat(community.id, "-c", k), absl::StrCat(c[1], "第", k, "小区"),
                          community.id, Jitter(rng, community.center, kCompoundRadiusM),
                          Round3(0.5 + 4.0 * u * u)};
        community.population_weight += compound.population_weight;
        d.compounds.push_back(std::move(compound));
      }
      community.population_weight = Round3(community.population_weight);
      d.communities.push_back(std::move(community));
    }
    d.streets.push_back(std::move(street));
  }
  // A box with a margin of 1 km around every centre holds every jittered point.
  double margin_lat = 1000 / kMetersPerDegreeLat;
  double margin_lng = 1000 / (kMetersPerDegreeLat * std::cos(d.center.lat * kPi / 180));
  d.box = BoundingBox{d.center.lat, d.center.lat, d.center.lng, d.center.lng};
  for (const Compound& c : d.compounds) {
    d.box.min_lat = std::min(d.box.min_lat, c.center.lat);
    d.box.max_lat = std::max(d.box.max_lat, c.center.lat);
    d.box.min_lng = std::min(d.box.min_lng, c.center.lng);
    d.box.max_lng = std::max(d.box.max_lng, c.center.lng);
  }
  d.box.min_lat = Round6(d.box.min_lat - margin_lat);
  d.box.max_lat = Round6(d.box.max_lat + margin_lat);
  d.box.min_lng = Round6(d.box.min_lng - margin_lng);
  d.box.max_lng = Round6(d.box.max_lng + margin_lng);
}

void BuildUnits(Rng& rng, District& d) {
  // Stations go to communities in a population-weighted random order (Efraimidis-
  // Spirakis keys), so big communities are likelier to hold one.
  std::vector<std::pair<double, size_t>> keys;
  for (size_t i = 0; i < d.communities.size(); ++i) {
    double w = d.communities[i].population_weight;
    keys.emplace_back(std::pow(rng.Uniform(), 1 / w), i);
  }
  std::sort(keys.begin(), keys.end(), std::greater<>());
  for (int s = 0; s < d.options.stations; ++s) {
    const Community& c = d.communities[keys[s % keys.size()].second];
    d.stations.push_back(Station{absl::StrFormat("wx-st%02d", s + 1),
                                 absl::StrCat(c.name, "服务站"), c.id, Jitter(rng, c.center, 200)});
  }
  for (int v = 0; v < d.options.vans; ++v) {
    const Station& home = d.stations[rng.Int(0, d.stations.size() - 1)];
    d.vans.push_back(Van{absl::StrCat("wx-van", v + 1),
                         home.id,
                         home.location,
                         2,
                         {"blood_pressure_monitor", "supplies"}});
  }
}

// Population-weighted community, then compound within it.
size_t PickCompound(Rng& rng, const District& d, const std::vector<double>& community_w,
                    const std::vector<std::vector<size_t>>& compounds_of) {
  size_t c = rng.Pick(community_w);
  std::vector<double> w;
  for (size_t k : compounds_of[c]) w.push_back(d.compounds[k].population_weight);
  return compounds_of[c][rng.Pick(w)];
}

// Weekly windows by life stage: retirees by day on weekdays, people at work on evenings
// and one weekend day, students at weekends and an evening or two. One in ten gives no
// windows ("whenever on duty").
std::vector<AvailabilitySlot> Availability(Rng& rng, int age) {
  std::vector<AvailabilitySlot> slots;
  if (rng.Chance(0.1)) return slots;
  auto add = [&](int day, int from, int to) { slots.push_back({day, from, to}); };
  if (age >= 55) {
    int days = rng.Int(3, 5);
    int first = rng.Int(1, 6 - days);
    for (int day = first; day < first + days; ++day) {
      if (rng.Chance(0.8)) add(day, 8 * 60, 11 * 60 + 30);
      if (rng.Chance(0.5)) add(day, 14 * 60, 17 * 60);
    }
  } else if (age >= 30) {
    for (int day = 1; day <= 5; ++day)
      if (rng.Chance(0.5)) add(day, 18 * 60 + 30, 21 * 60);
    add(rng.Int(6, 7), 9 * 60, 17 * 60);
  } else {
    add(6, 9 * 60, 18 * 60);
    add(7, 9 * 60, 18 * 60);
    int evenings = rng.Int(1, 2);
    for (int i = 0; i < evenings; ++i) add(rng.Int(1, 5), 19 * 60, 21 * 60 + 30);
  }
  std::sort(slots.begin(), slots.end(), [](const auto& a, const auto& b) {
    return std::tie(a.day_of_week, a.start_minute) < std::tie(b.day_of_week, b.start_minute);
  });
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  if (slots.empty()) add(6, 9 * 60, 12 * 60);
  return slots;
}

void BuildVolunteers(Rng& rng, District& d, const std::vector<double>& community_w,
                     const std::vector<std::vector<size_t>>& compounds_of) {
  for (int i = 0; i < d.options.volunteers; ++i) {
    SimVolunteer v;
    const Compound& home = d.compounds[PickCompound(rng, d, community_w, compounds_of)];
    v.compound_id = home.id;
    v.home = Jitter(rng, home.center, kHomeRadiusM);
    // Life stages: students and young workers, people at work, younger retirees.
    double stage = rng.Uniform();
    v.age = stage < 0.30 ? rng.Int(18, 29) : stage < 0.65 ? rng.Int(30, 54) : rng.Int(55, 74);
    VolunteerProfile& p = v.profile;
    p.external_id = absl::StrFormat("sim-v%05d", i + 1);
    p.name = PersonName(rng);
    p.phone = absl::StrFormat("150%08d", i + 1);
    p.home_community_id = home.community_id;
    // Certificates and skills, each independently.
    if (rng.Chance(0.20)) p.certificates.push_back(Certificate::kDriver);
    if (rng.Chance(0.15)) p.certificates.push_back(Certificate::kFirstAid);
    if (rng.Chance(0.05)) p.certificates.push_back(Certificate::kMedical);
    if (rng.Chance(0.03)) p.certificates.push_back(Certificate::kNurse);
    if (rng.Chance(0.03)) p.certificates.push_back(Certificate::kLicensedSocialWorker);
    if (rng.Chance(0.03)) p.certificates.push_back(Certificate::kCounsellor);
    if (rng.Chance(0.02)) p.certificates.push_back(Certificate::kElectrician);
    if (rng.Chance(v.age >= 55 ? 0.25 : 0.10)) p.certificates.push_back(Certificate::kElderCare);
    if (rng.Chance(0.10)) p.skills.push_back("repair");
    if (rng.Chance(0.25)) p.skills.push_back("cooking");
    if (rng.Chance(0.30)) p.skills.push_back("companionship");
    SortUnique(p.certificates);
    SortUnique(p.skills);
    p.languages.push_back("zh");
    if (rng.Chance(v.age >= 55 ? 0.9 : 0.5)) p.languages.push_back("wuu-huzhou");
    SortUnique(p.languages);
    p.availability = Availability(rng, v.age);
    p.capacity = rng.Chance(0.2) ? 2 : 1;
    v.accept_probability = Round3(rng.Uniform(0.45, 0.95));
    bool drives =
        std::binary_search(p.certificates.begin(), p.certificates.end(), Certificate::kDriver);
    if (drives && rng.Chance(0.6)) {
      v.speed_kmh = 25;
    } else if (v.age < 65 && rng.Chance(0.7)) {
      v.speed_kmh = 12;  // E-bike or bicycle.
    } else {
      v.speed_kmh = 4.5;
    }
    d.volunteers.push_back(std::move(v));
  }
}

bool Holds(const SimVolunteer& v, Certificate c) {
  return std::binary_search(v.profile.certificates.begin(), v.profile.certificates.end(), c);
}

void BuildTeams(Rng& rng, District& d) {
  // Volunteers by community, in id order; a volunteer joins at most one team.
  absl::flat_hash_map<std::string, std::vector<size_t>> by_community;
  for (size_t i = 0; i < d.volunteers.size(); ++i)
    by_community[d.volunteers[i].profile.home_community_id].push_back(i);
  std::vector<bool> taken(d.volunteers.size(), false);
  for (size_t i = 0; i < d.volunteers.size() && static_cast<int>(d.teams.size()) < d.options.teams;
       ++i) {
    const SimVolunteer& leader = d.volunteers[i];
    if (taken[i] || !Holds(leader, Certificate::kLicensedSocialWorker)) continue;
    std::vector<size_t> pool;
    for (size_t j : by_community[leader.profile.home_community_id])
      if (j != i && !taken[j] && !Holds(d.volunteers[j], Certificate::kLicensedSocialWorker))
        pool.push_back(j);
    int size = rng.Int(3, 6);
    if (static_cast<int>(pool.size()) < size) continue;
    // Partial Fisher-Yates for the members.
    SimTeam team{absl::StrFormat("wx-team%02d", d.teams.size() + 1),
                 leader.profile.home_community_id,
                 leader.profile.external_id,
                 {}};
    for (int k = 0; k < size; ++k) {
      int j = rng.Int(k, pool.size() - 1);
      std::swap(pool[k], pool[j]);
      taken[pool[k]] = true;
      team.members.push_back(d.volunteers[pool[k]].profile.external_id);
    }
    std::sort(team.members.begin(), team.members.end());
    taken[i] = true;
    d.teams.push_back(std::move(team));
  }
}

void BuildResidents(Rng& rng, District& d, const std::vector<double>& community_w,
                    const std::vector<std::vector<size_t>>& compounds_of) {
  for (int i = 0; i < d.options.residents; ++i) {
    SimResident r;
    r.id = absl::StrFormat("sim-r%05d", i + 1);
    const Compound& home = d.compounds[PickCompound(rng, d, community_w, compounds_of)];
    // Those who ask for help skew old: about 60% are 60+, a fifth 80+.
    double stage = rng.Uniform();
    r.age = stage < 0.40 ? rng.Int(20, 59) : stage < 0.80 ? rng.Int(60, 79) : rng.Int(80, 99);
    Resident& res = r.resident;
    res.name = PersonName(rng);
    res.phone = absl::StrFormat("139%08d", i + 1);
    res.location = Jitter(rng, home.center, kHomeRadiusM);
    res.community_id = home.community_id;
    res.compound_id = home.id;
    res.address =
        absl::StrCat(home.name, rng.Int(1, 30), "幢", rng.Int(1, 6), "0", rng.Int(1, 4), "室");
    res.high_age = r.age >= 80;
    res.lives_alone = rng.Chance(r.age >= 70 ? 0.30 : 0.08);
    res.disabled = rng.Chance(0.06);
    d.residents.push_back(std::move(r));
  }
}

void BuildPairings(District& d) {
  absl::flat_hash_map<std::string, std::vector<size_t>> young_old;
  for (size_t i = 0; i < d.volunteers.size(); ++i)
    if (d.volunteers[i].age >= 55 && d.volunteers[i].age < 70)
      young_old[d.volunteers[i].profile.home_community_id].push_back(i);
  absl::flat_hash_map<std::string, size_t> used;  // Next volunteer per community.
  for (const SimResident& r : d.residents) {
    if (static_cast<int>(d.pairings.size()) >= d.options.pairings) break;
    if (!r.resident.high_age) continue;
    auto it = young_old.find(r.resident.community_id);
    if (it == young_old.end()) continue;
    // Each younger-old volunteer visits at most two residents.
    size_t& next = used[r.resident.community_id];
    if (next >= 2 * it->second.size()) continue;
    size_t v = it->second[next % it->second.size()];
    ++next;
    d.pairings.push_back(SimPairing{absl::StrFormat("wx-pair%03d", d.pairings.size() + 1),
                                    d.volunteers[v].profile.external_id, r.id,
                                    Recurrence::kMonthly});
  }
}

// What each category asks for: required skill tokens (as CapabilityTokens spells them)
// and preferred ones.
void SkillsFor(Category c, std::vector<std::string>& required,
               std::vector<std::string>& preferred) {
  switch (c) {
    case Category::kElderVisit:
      preferred = {"companionship", "elder_care"};
      break;
    case Category::kEscort:
      preferred = {"driver", "first_aid"};
      break;
    case Category::kShopping:
      break;
    case Category::kHousework:
      preferred = {"cooking"};
      break;
    case Category::kRepair:
      required = {"repair"};
      break;
    case Category::kHealthCheck:
      required = {"medical"};
      break;
    case Category::kPsychSupport:
      required = {"counsellor"};
      break;
    case Category::kEpidemicSupply:
      preferred = {"driver"};
      break;
    default:
      break;
  }
}

std::string Description(Category c) {
  switch (c) {
    case Category::kElderVisit:
      return "上门探访陪伴老人";
    case Category::kEscort:
      return "陪同就医";
    case Category::kShopping:
      return "代买生活用品";
    case Category::kHousework:
      return "家务帮助";
    case Category::kRepair:
      return "水电及小家电维修";
    case Category::kHealthCheck:
      return "上门测量血压";
    case Category::kPsychSupport:
      return "心理疏导";
    case Category::kEpidemicSupply:
      return "疫情期间生活物资配送";
    default:
      return "其他求助";
  }
}

constexpr Category kCategories[] = {
    Category::kElderVisit,   Category::kEscort,         Category::kShopping,
    Category::kHousework,    Category::kRepair,         Category::kHealthCheck,
    Category::kPsychSupport, Category::kEpidemicSupply, Category::kOther};

int64_t MinutesToMs(double minutes) { return static_cast<int64_t>(std::llround(minutes * 60000)); }

void BuildRequests(Rng& rng, District& d) {
  const DistrictOptions& o = d.options;
  // Surge communities: distinct, population-weighted.
  std::vector<double> w;
  for (const Community& c : d.communities) w.push_back(c.population_weight);
  std::vector<std::string> surge_ids;
  int surge_n = std::min<int>(o.surge_communities, d.communities.size());
  while (static_cast<int>(surge_ids.size()) < surge_n) {
    size_t c = rng.Pick(w);
    w[c] = 0;
    surge_ids.push_back(d.communities[c].id);
  }
  std::sort(surge_ids.begin(), surge_ids.end());
  std::vector<size_t> surge_residents;
  for (size_t i = 0; i < d.residents.size(); ++i)
    if (std::binary_search(surge_ids.begin(), surge_ids.end(),
                           d.residents[i].resident.community_id))
      surge_residents.push_back(i);

  int surge_count = static_cast<int>(std::llround(o.requests * o.surge_share));
  if (surge_residents.empty()) surge_count = 0;
  absl::flat_hash_map<std::string, const Station*> station_by_community;
  for (const Station& s : d.stations) station_by_community.emplace(s.community_id, &s);

  for (int i = 0; i < o.requests; ++i) {
    bool surge = i >= o.requests - surge_count;
    SimRequest q;
    q.request_id = absl::StrFormat("sim-q%06d", i + 1);
    q.surge = surge;
    size_t ri = surge ? surge_residents[rng.Int(0, surge_residents.size() - 1)]
                      : static_cast<size_t>(rng.Int(0, d.residents.size() - 1));
    const SimResident& r = d.residents[ri];
    q.resident = r.id;
    RequestContent& c = q.content;
    c.resident = r.resident;
    c.channel = static_cast<Channel>(1 + rng.Pick(o.channel_share));
    c.urgency = static_cast<Urgency>(1 + rng.Pick(o.urgency_share));
    c.category = surge ? Category::kEpidemicSupply : kCategories[rng.Pick(o.category_share)];
    SkillsFor(c.category, c.required_skills, c.preferred_skills);
    // Mostly one helper; epidemic supply runs and escorts sometimes need two.
    double h = rng.Uniform();
    c.headcount = 1;
    if (c.category == Category::kEpidemicSupply || c.category == Category::kEscort ||
        c.category == Category::kHousework)
      c.headcount = h < 0.15 ? 2 : h < 0.18 ? 3 : 1;
    else if (h < 0.03)
      c.headcount = 2;
    c.recurrence = Recurrence::kOnce;
    c.description = absl::StrCat(Description(c.category), "（", r.resident.address, "）");
    double minute;
    if (surge) {
      minute = rng.Uniform(o.surge_start_minute, o.surge_end_minute);
    } else if (c.channel == Channel::kStation || c.channel == Channel::kSweep) {
      int batch = o.sweep_batch_minutes[rng.Int(0, o.sweep_batch_minutes.size() - 1)];
      minute = batch + rng.Uniform(0, o.batch_spread_minutes);
    } else {
      minute = rng.Pick(o.hourly_weight) * 60 + rng.Uniform(0, 60);
    }
    q.time_ms = std::min<int64_t>(MinutesToMs(minute), 24 * 3600 * 1000 - 1);
    if (c.channel == Channel::kStation || c.channel == Channel::kSweep) {
      auto it = station_by_community.find(r.resident.community_id);
      c.station_id = it != station_by_community.end()
                         ? it->second->id
                         : d.stations[rng.Int(0, d.stations.size() - 1)].id;
    }
    if (c.channel == Channel::kHotline) c.operator_id = "sim-hotline";
    // A deadline: CRISIS within an hour, URGENT within four, ROUTINE the same day or
    // none.
    if (c.urgency == Urgency::kCrisis) {
      c.window_end_ms = q.time_ms + 3600 * 1000;
    } else if (c.urgency == Urgency::kUrgent) {
      c.window_end_ms = q.time_ms + 4 * 3600 * 1000;
    } else if (rng.Chance(0.5)) {
      c.window_end_ms = 24 * 3600 * 1000;
    }
    d.requests.push_back(std::move(q));
  }
  std::sort(d.requests.begin(), d.requests.end(), [](const SimRequest& a, const SimRequest& b) {
    return std::tie(a.time_ms, a.request_id) < std::tie(b.time_ms, b.request_id);
  });

  SimMobilisation& m = d.mobilisation;
  m.idempotency_key = "sim-mobilise-surge";
  m.time_ms = MinutesToMs(o.surge_start_minute + o.mobilisation_delay_minutes);
  m.community_ids = surge_ids;
  double lat = 0, lng = 0;
  std::vector<LatLng> centers;
  for (const Community& c : d.communities)
    if (std::binary_search(surge_ids.begin(), surge_ids.end(), c.id)) centers.push_back(c.center);
  for (const LatLng& p : centers) lat += p.lat, lng += p.lng;
  m.center = LatLng{Round6(lat / centers.size()), Round6(lng / centers.size())};
  double radius = 0;
  for (const LatLng& p : centers) radius = std::max(radius, DistanceMeters(m.center, p));
  m.radius_m = std::round(radius + 1000);
  m.needed = o.mobilisation_needed;
  m.description =
      "Epidemic supply delivery to residents under control measures; report to "
      "the nearest service station.";
}

nlohmann::json Point(const LatLng& p) { return {p.lat, p.lng}; }

}  // namespace

DistrictOptions QuickOptions(uint64_t seed) {
  DistrictOptions o;
  o.seed = seed;
  o.volunteers = 600;
  o.residents = 600;
  o.requests = 500;
  o.teams = 8;
  o.pairings = 30;
  return o;
}

RequestContent ContentOnDay(const SimRequest& q, int64_t day_start_ms) {
  RequestContent c = q.content;
  if (c.window_start_ms != 0) c.window_start_ms += day_start_ms;
  if (c.window_end_ms != 0) c.window_end_ms += day_start_ms;
  return c;
}

double DistanceMeters(const LatLng& a, const LatLng& b) {
  constexpr double kEarthRadiusM = 6371008.8;
  double p1 = a.lat * kPi / 180, p2 = b.lat * kPi / 180;
  double dp = p2 - p1, dl = (b.lng - a.lng) * kPi / 180;
  double h = std::sin(dp / 2) * std::sin(dp / 2) +
             std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(h)));
}

absl::StatusOr<District> GenerateDistrict(const DistrictOptions& options) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  District d;
  d.options = options;
  Rng rng(options.seed);
  BuildGeography(rng, d);
  BuildUnits(rng, d);
  std::vector<double> community_w;
  std::vector<std::vector<size_t>> compounds_of(d.communities.size());
  absl::flat_hash_map<std::string, size_t> community_index;
  for (size_t i = 0; i < d.communities.size(); ++i) {
    community_w.push_back(d.communities[i].population_weight);
    community_index[d.communities[i].id] = i;
  }
  for (size_t k = 0; k < d.compounds.size(); ++k)
    compounds_of[community_index[d.compounds[k].community_id]].push_back(k);
  BuildVolunteers(rng, d, community_w, compounds_of);
  BuildTeams(rng, d);
  BuildResidents(rng, d, community_w, compounds_of);
  BuildPairings(d);
  BuildRequests(rng, d);
  return d;
}

std::string ToJson(const District& d) {
  using nlohmann::json;
  const DistrictOptions& o = d.options;
  json j;
  j["options"] = {{"seed", o.seed},
                  {"district", o.district},
                  {"volunteers", o.volunteers},
                  {"residents", o.residents},
                  {"requests", o.requests},
                  {"stations", o.stations},
                  {"vans", o.vans},
                  {"teams", o.teams},
                  {"pairings", o.pairings},
                  {"day_of_week", o.day_of_week},
                  {"channel_share", o.channel_share},
                  {"category_share", o.category_share},
                  {"urgency_share", o.urgency_share},
                  {"hourly_weight", o.hourly_weight},
                  {"sweep_batch_minutes", o.sweep_batch_minutes},
                  {"batch_spread_minutes", o.batch_spread_minutes},
                  {"surge_share", o.surge_share},
                  {"surge_communities", o.surge_communities},
                  {"surge_start_minute", o.surge_start_minute},
                  {"surge_end_minute", o.surge_end_minute},
                  {"mobilisation_delay_minutes", o.mobilisation_delay_minutes},
                  {"mobilisation_needed", o.mobilisation_needed}};
  j["center"] = Point(d.center);
  j["box"] = {d.box.min_lat, d.box.min_lng, d.box.max_lat, d.box.max_lng};
  for (const Street& s : d.streets)
    j["streets"].push_back({{"id", s.id}, {"name", s.name}, {"center", Point(s.center)}});
  for (const Community& c : d.communities)
    j["communities"].push_back({{"id", c.id},
                                {"name", c.name},
                                {"street", c.street_id},
                                {"center", Point(c.center)},
                                {"weight", c.population_weight}});
  for (const Compound& c : d.compounds)
    j["compounds"].push_back({{"id", c.id},
                              {"name", c.name},
                              {"community", c.community_id},
                              {"center", Point(c.center)},
                              {"weight", c.population_weight}});
  for (const Station& s : d.stations)
    j["stations"].push_back({{"id", s.id},
                             {"name", s.name},
                             {"community", s.community_id},
                             {"location", Point(s.location)}});
  for (const Van& v : d.vans)
    j["vans"].push_back({{"id", v.id},
                         {"home_station", v.home_station_id},
                         {"location", Point(v.location)},
                         {"capacity", v.capacity},
                         {"equipment", v.equipment}});
  for (const SimVolunteer& v : d.volunteers) {
    const VolunteerProfile& p = v.profile;
    json certs = json::array(), slots = json::array();
    for (Certificate c : p.certificates) certs.push_back(std::string(Name(c)));
    for (const AvailabilitySlot& s : p.availability)
      slots.push_back({s.day_of_week, s.start_minute, s.end_minute});
    j["volunteers"].push_back({{"id", p.external_id},
                               {"name", p.name},
                               {"phone", p.phone},
                               {"community", p.home_community_id},
                               {"compound", v.compound_id},
                               {"home", Point(v.home)},
                               {"age", v.age},
                               {"skills", p.skills},
                               {"certificates", certs},
                               {"languages", p.languages},
                               {"availability", slots},
                               {"capacity", p.capacity},
                               {"accept_probability", v.accept_probability},
                               {"speed_kmh", v.speed_kmh}});
  }
  j["teams"] = json::array();
  for (const SimTeam& t : d.teams)
    j["teams"].push_back({{"id", t.id},
                          {"community", t.community_id},
                          {"leader", t.leader},
                          {"members", t.members}});
  for (const SimResident& r : d.residents) {
    const Resident& res = r.resident;
    j["residents"].push_back({{"id", r.id},
                              {"name", res.name},
                              {"phone", res.phone},
                              {"address", res.address},
                              {"location", Point(*res.location)},
                              {"community", res.community_id},
                              {"compound", res.compound_id},
                              {"age", r.age},
                              {"high_age", res.high_age},
                              {"lives_alone", res.lives_alone},
                              {"disabled", res.disabled}});
  }
  j["pairings"] = json::array();
  for (const SimPairing& p : d.pairings)
    j["pairings"].push_back({{"id", p.id},
                             {"volunteer", p.volunteer},
                             {"resident", p.resident},
                             {"recurrence", std::string(Name(p.recurrence))}});
  j["requests"] = json::array();
  for (const SimRequest& q : d.requests) {
    const RequestContent& c = q.content;
    j["requests"].push_back({{"id", q.request_id},
                             {"time_ms", q.time_ms},
                             {"resident", q.resident},
                             {"channel", std::string(Name(c.channel))},
                             {"station", c.station_id},
                             {"operator", c.operator_id},
                             {"category", std::string(Name(c.category))},
                             {"urgency", std::string(Name(c.urgency))},
                             {"required_skills", c.required_skills},
                             {"preferred_skills", c.preferred_skills},
                             {"headcount", c.headcount},
                             {"window_end_ms", c.window_end_ms},
                             {"description", c.description},
                             {"surge", q.surge}});
  }
  const SimMobilisation& m = d.mobilisation;
  j["mobilisation"] = {{"idempotency_key", m.idempotency_key},
                       {"time_ms", m.time_ms},
                       {"center", Point(m.center)},
                       {"radius_m", m.radius_m},
                       {"needed", m.needed},
                       {"category", std::string(Name(m.category))},
                       {"description", m.description},
                       {"communities", m.community_ids}};
  return j.dump();
}

}  // namespace yiyuan::sim
