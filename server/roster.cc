#include "server/roster.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/keys.h"
#include "server/log.h"
#include "server/unit_store.h"
#include "server/volunteer_store.h"

namespace yiyuan {
namespace {

GeoPoint ToGeo(LatLng p) { return GeoPoint{p.lat, p.lng}; }

// The id of the newest entry of an XREVRANGE ... COUNT 1 reply, or "0-0" when the
// stream is empty or missing.
std::string NewestId(const RedisValue& v) {
  if (v.is_array() && !v.elements.empty() && v.elements[0].is_array() &&
      !v.elements[0].elements.empty()) {
    return v.elements[0].elements[0].str;
  }
  return "0-0";
}

std::vector<std::string> Strings(const RedisValue& v) {
  std::vector<std::string> out;
  out.reserve(v.elements.size());
  for (const RedisValue& e : v.elements) out.push_back(e.str);
  return out;
}

}  // namespace

Roster::Roster(RedisClient* redis, const Clock* clock, RosterOptions options)
    : redis_(redis), clock_(clock), options_(options) {}

Roster::~Roster() { Stop(); }

absl::Status Roster::Start(absl::Time deadline) {
  if (absl::Status s = RefreshDistricts(deadline); !s.ok()) return s;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Roster::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Roster::District& Roster::DistrictLocked(absl::string_view district) {
  auto it = districts_.find(district);
  if (it == districts_.end()) {
    it = districts_.emplace(std::string(district), std::make_unique<District>(options_.geo)).first;
  }
  return *it->second;
}

void Roster::ApplyLocked(absl::string_view district, const std::string& id, bool indexable,
                         LatLng location, Candidate c) {
  District& d = DistrictLocked(district);
  const int64_t rev = c.revision;
  if (const Candidate* cur = d.index.FindValue(id)) {
    if (cur->revision >= rev) return;
  } else if (auto t = d.tombstones.find(id); t != d.tombstones.end() && t->second.first >= rev) {
    return;
  }
  records_applied_.fetch_add(1, std::memory_order_relaxed);
  if (indexable && d.index.Upsert(id, ToGeo(location), std::move(c)).ok()) {
    d.tombstones.erase(id);
    return;
  }
  // Only a removal needs a tombstone: an id that was never indexed cannot be brought
  // back by an older copy (any indexable copy was applied when it was written).
  if (d.index.Remove(id)) d.tombstones[id] = {rev, clock_->Now()};
}

bool Roster::HasRevision(absl::string_view district, absl::string_view id, int64_t revision) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = districts_.find(district);
  if (it == districts_.end()) return false;
  const District& d = *it->second;
  if (const Candidate* c = d.index.FindValue(id)) return c->revision >= revision;
  auto t = d.tombstones.find(id);
  return t != d.tombstones.end() && t->second.first >= revision;
}

void Roster::ApplyLocked(const Volunteer& v) {
  ApplyLocked(v.district, v.id, Indexable(v), v.location.value_or(LatLng{}), CandidateOf(v));
}

void Roster::ApplyLocked(const Unit& u) {
  ApplyLocked(u.district, u.id, Indexable(u), u.spec.location.value_or(LatLng{}), CandidateOf(u));
}

void Roster::Apply(const Volunteer& v) {
  absl::MutexLock lock(&mu_);
  ApplyLocked(v);
}

void Roster::Apply(const Unit& u) {
  absl::MutexLock lock(&mu_);
  ApplyLocked(u);
}

bool Roster::ApplyLocation(absl::string_view district, bool, absl::string_view id, LatLng location,
                           int64_t time_ms, int64_t revision) {
  absl::MutexLock lock(&mu_);
  District& d = DistrictLocked(district);
  Candidate* c = d.index.MutableValue(id);
  if (c == nullptr) return false;
  if (c->revision >= revision) return true;
  c->revision = revision;
  c->location_time_ms = time_ms;
  if (d.index.Move(id, ToGeo(location)).ok()) {
    locations_applied_.fetch_add(1, std::memory_order_relaxed);
  } else {
    d.index.Remove(id);
  }
  return true;
}

absl::Status Roster::Follow(absl::string_view district, absl::Time deadline) {
  {
    absl::ReaderMutexLock lock(&mu_);
    if (districts_.contains(district)) return absl::OkStatus();
  }
  if (absl::Status s = RememberDistrict(redis_, district, deadline); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    DistrictLocked(district);
  }
  absl::MutexLock lock(&follow_mu_);
  to_follow_.emplace_back(district);
  return absl::OkStatus();
}

std::vector<Roster::Hit> Roster::Nearest(absl::string_view district, LatLng center, int k,
                                         double max_radius_m, const CandidateQuery& q,
                                         absl::Time now, double* searched_radius_m) const {
  std::vector<Hit> out;
  if (searched_radius_m != nullptr) *searched_radius_m = 0;
  absl::ReaderMutexLock lock(&mu_);
  auto it = districts_.find(district);
  if (it == districts_.end()) {
    if (searched_radius_m != nullptr) *searched_radius_m = max_radius_m;
    return out;
  }
  auto eligible = [&](absl::string_view id, const Candidate& c) { return Eligible(id, c, q, now); };
  auto hits =
      it->second->index.Nearest(ToGeo(center), k, max_radius_m, eligible, searched_radius_m);
  out.reserve(hits.size());
  for (const auto& h : hits) {
    out.push_back(Hit{*h.id, h.value->is_unit, LatLng{h.location.lat, h.location.lng}, h.distance_m,
                      h.value->capacity_left(), *h.value});
  }
  return out;
}

void Roster::ApplyLoad(absl::string_view district, bool, absl::string_view id,
                       int active_assignments, int64_t revision) {
  absl::MutexLock lock(&mu_);
  auto it = districts_.find(district);
  if (it == districts_.end()) return;
  Candidate* c = it->second->index.MutableValue(id);
  if (c == nullptr || c->revision >= revision) return;
  c->active_assignments = active_assignments;
  c->revision = revision;
}

std::vector<std::string> Roster::Districts() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [name, d] : districts_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

size_t Roster::size(absl::string_view district) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = districts_.find(district);
  return it == districts_.end() ? 0 : it->second->index.size();
}

Roster::Stats Roster::stats() const {
  Stats s;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, d] : districts_) s.indexed += static_cast<int64_t>(d->index.size());
  }
  s.events_read = events_read_.load();
  s.records_applied = records_applied_.load();
  s.locations_applied = locations_applied_.load();
  s.read_errors = read_errors_.load();
  return s;
}

std::string Roster::MetricsText() const {
  Stats s = stats();
  auto metric = [](absl::string_view name, absl::string_view type, absl::string_view help,
                   int64_t value) {
    return absl::StrCat("# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ",
                        value, "\n");
  };
  return absl::StrCat(
      metric("yiyuan_roster_indexed", "gauge",
             "On-duty volunteers and placed units in the live geo index.", s.indexed),
      metric("yiyuan_roster_stream_entries_total", "counter",
             "Event and location-feed entries read by the roster.", s.events_read),
      metric("yiyuan_roster_records_applied_total", "counter",
             "Volunteer and unit records applied to the roster.", s.records_applied),
      metric("yiyuan_roster_locations_applied_total", "counter",
             "Location fixes applied to the roster.", s.locations_applied),
      metric("yiyuan_roster_read_errors_total", "counter",
             "Failed reads of the streams or the district set.", s.read_errors));
}

absl::Status Roster::RefreshDistricts(absl::Time deadline) {
  absl::StatusOr<RedisValue> names =
      redis_->Command({"SMEMBERS", std::string(keys::kDistricts)}, deadline);
  if (!names.ok()) return names.status();
  std::vector<std::string> pending;
  {
    absl::MutexLock lock(&follow_mu_);
    pending.swap(to_follow_);
  }
  for (const RedisValue& n : names->elements) pending.push_back(n.str);
  for (const std::string& d : pending) {
    bool followed = false;
    for (const Cursor& c : cursors_) followed = followed || c.district == d;
    if (followed) continue;
    if (absl::Status s = LoadDistrict(d, deadline); !s.ok()) {
      // Try again at the next refresh.
      absl::MutexLock lock(&follow_mu_);
      to_follow_.push_back(d);
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Roster::LoadDistrict(const std::string& district, absl::Time deadline) {
  // Stream positions first: whatever changes after them is read from the streams, so a
  // change racing the snapshot is applied twice at worst (revisions make that harmless).
  absl::StatusOr<std::vector<RedisValue>> heads =
      redis_->Pipeline({{"XREVRANGE", keys::Events(district), "+", "-", "COUNT", "1"},
                        {"XREVRANGE", keys::Locations(district), "+", "-", "COUNT", "1"},
                        {"SMEMBERS", keys::OnDuty(district)},
                        {"SMEMBERS", keys::PlacedUnits(district)}},
                       deadline);
  if (!heads.ok()) return heads.status();
  Cursor cursor{district, NewestId((*heads)[0]), NewestId((*heads)[1])};
  if (absl::Status s = Refetch(district, Strings((*heads)[2]), Strings((*heads)[3])); !s.ok()) {
    return s;
  }
  {
    absl::MutexLock lock(&mu_);
    DistrictLocked(district);
  }
  cursors_.push_back(std::move(cursor));
  // Events written before the cursor were not observed one by one.
  if (observer_) observer_(district, "", HashFields());
  Log(LogLevel::kInfo, "roster.loaded",
      {{"district", district}, {"indexed", std::to_string(size(district))}});
  return absl::OkStatus();
}

absl::Status Roster::Refetch(const std::string& district,
                             const std::vector<std::string>& volunteers,
                             const std::vector<std::string>& units) {
  size_t batch = static_cast<size_t>(std::max(1, options_.load_batch));
  for (size_t i = 0; i < volunteers.size() + units.size(); i += batch) {
    std::vector<std::vector<std::string>> commands;
    for (size_t j = i; j < std::min(i + batch, volunteers.size() + units.size()); ++j) {
      commands.push_back({"HGETALL", j < volunteers.size()
                                         ? keys::Volunteer(district, volunteers[j])
                                         : keys::Unit(district, units[j - volunteers.size()])});
    }
    absl::StatusOr<std::vector<RedisValue>> replies =
        redis_->Pipeline(commands, absl::Now() + absl::Seconds(10));
    if (!replies.ok()) return replies.status();
    absl::MutexLock lock(&mu_);
    for (size_t j = 0; j < replies->size(); ++j) {
      HashFields f((*replies)[j]);
      if (f.empty()) continue;
      if (i + j >= volunteers.size()) {
        if (absl::StatusOr<Unit> u = UnitFromFields(f); u.ok()) ApplyLocked(*u);
      } else if (absl::StatusOr<Volunteer> v = VolunteerFromFields(f); v.ok()) {
        ApplyLocked(*v);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Roster::ReadOnce() {
  std::vector<std::string> argv = {"XREAD",
                                   "COUNT",
                                   std::to_string(options_.read_count),
                                   "BLOCK",
                                   std::to_string(absl::ToInt64Milliseconds(options_.block)),
                                   "STREAMS"};
  for (const Cursor& c : cursors_) {
    argv.push_back(keys::Events(c.district));
    argv.push_back(keys::Locations(c.district));
  }
  for (const Cursor& c : cursors_) {
    argv.push_back(c.events_id);
    argv.push_back(c.locations_id);
  }
  absl::StatusOr<RedisValue> reply =
      redis_->Command(argv, absl::Now() + options_.block + absl::Seconds(2));
  if (!reply.ok()) return reply.status();
  if (!reply->is_array()) return absl::OkStatus();  // Timed out: nothing new.

  for (const RedisValue& stream : reply->elements) {
    if (!stream.is_array() || stream.elements.size() != 2) continue;
    const std::string& key = stream.elements[0].str;
    Cursor* cursor = nullptr;
    bool is_events = false;
    for (Cursor& c : cursors_) {
      if (key == keys::Events(c.district)) {
        cursor = &c;
        is_events = true;
      } else if (key == keys::Locations(c.district)) {
        cursor = &c;
      }
    }
    if (cursor == nullptr) continue;
    std::vector<std::string> volunteers, units;
    for (const RedisValue& entry : stream.elements[1].elements) {
      if (entry.elements.size() != 2) continue;
      events_read_.fetch_add(1, std::memory_order_relaxed);
      (is_events ? cursor->events_id : cursor->locations_id) = entry.elements[0].str;
      HashFields f(entry.elements[1]);
      if (is_events) {
        if (observer_) observer_(cursor->district, entry.elements[0].str, f);
        const std::string& type = f.str("type");
        if (type == "assignee.load") {
          bool unit = f.has("unit");
          ApplyLoad(cursor->district, unit, f.str(unit ? "unit" : "volunteer"),
                    static_cast<int>(f.integer("active_n")), f.integer("rev"));
          continue;
        }
        // A new volunteer is off duty: nothing to index. A change this roster already
        // holds (its own instance's write) needs no second read.
        if (type == "volunteer.registered") continue;
        bool is_volunteer = absl::StartsWith(type, "volunteer.") && f.has("volunteer");
        bool is_unit = absl::StartsWith(type, "unit.") && f.has("unit");
        if (!is_volunteer && !is_unit) continue;
        const std::string& id = f.str(is_unit ? "unit" : "volunteer");
        if (f.has("rev") && HasRevision(cursor->district, id, f.integer("rev"))) continue;
        (is_unit ? units : volunteers).push_back(id);
        continue;
      }
      bool is_unit = f.str("k") == "u";
      const std::string& id = f.str("id");
      if (!ApplyLocation(cursor->district, is_unit, id, LatLng{f.number("lat"), f.number("lng")},
                         f.integer("ms"), f.integer("rev"))) {
        // Not indexed (e.g. a van's first fix): read the record; revisions keep a copy
        // older than what is held from being applied.
        (is_unit ? units : volunteers).push_back(id);
      }
    }
    if (!volunteers.empty() || !units.empty()) {
      std::sort(volunteers.begin(), volunteers.end());
      volunteers.erase(std::unique(volunteers.begin(), volunteers.end()), volunteers.end());
      std::sort(units.begin(), units.end());
      units.erase(std::unique(units.begin(), units.end()), units.end());
      if (absl::Status s = Refetch(cursor->district, volunteers, units); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

void Roster::Run() {
  absl::Time next_refresh = absl::Now() + options_.district_refresh;
  absl::Time next_prune = absl::Now() + options_.tombstone_ttl / 2;
  while (!stop_) {
    bool have_new;
    {
      absl::MutexLock lock(&follow_mu_);
      have_new = !to_follow_.empty();
    }
    if (have_new || absl::Now() >= next_refresh) {
      if (absl::Status s = RefreshDistricts(absl::Now() + absl::Seconds(10)); !s.ok()) {
        read_errors_.fetch_add(1, std::memory_order_relaxed);
      }
      next_refresh = absl::Now() + options_.district_refresh;
    }
    if (absl::Now() >= next_prune) {
      next_prune = absl::Now() + options_.tombstone_ttl / 2;
      absl::Time cutoff = clock_->Now() - options_.tombstone_ttl;
      absl::MutexLock lock(&mu_);
      for (auto& [name, d] : districts_) {
        absl::erase_if(d->tombstones, [&](const auto& t) { return t.second.second < cutoff; });
      }
    }
    if (cursors_.empty()) {
      absl::SleepFor(options_.block);
      continue;
    }
    if (absl::Status s = ReadOnce(); !s.ok()) {
      read_errors_.fetch_add(1, std::memory_order_relaxed);
      absl::SleepFor(options_.block);
    }
  }
}

}  // namespace yiyuan
