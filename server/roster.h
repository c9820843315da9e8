#ifndef YIYUAN_SERVER_ROSTER_H_
#define YIYUAN_SERVER_ROSTER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "engine/candidate.h"
#include "engine/clock.h"
#include "engine/geo_index.h"
#include "engine/volunteer.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"

namespace yiyuan {

struct RosterOptions {
  // How long one XREAD waits for new events: the upper bound on how stale another
  // instance's changes are here (plus the time to apply them).
  absl::Duration block = absl::Milliseconds(200);
  // How often the set of districts is read again to pick up new ones.
  absl::Duration district_refresh = absl::Milliseconds(500);
  // Records fetched per pipeline while loading a district.
  int load_batch = 500;
  // Most stream entries read per XREAD.
  int read_count = 2000;
  // How long a removed id remembers its revision, so that an older copy arriving late
  // (a slow read racing a newer write) cannot bring it back.
  absl::Duration tombstone_ttl = absl::Seconds(60);
  // Grid of the geo index.
  GeoIndexOptions geo;
};

// The live, in-process picture of who can be dispatched where: one geo index per
// district of on-duty volunteers and active, located units (DESIGN.md section 2). It is
// a cache: rebuilt from Redis by Start(), then kept fresh from each district's event
// stream and location feed by a background thread, so instances sharing a Redis see
// each other's changes within about `block`. Handlers also apply their own writes at
// once so a caller reads what it just wrote. Copies are ordered by the record's
// revision; an older copy never replaces a newer one.
//
// Thread-safe.
class Roster {
 public:
  Roster(RedisClient* redis, const Clock* clock, RosterOptions options = {});
  ~Roster();
  Roster(const Roster&) = delete;
  Roster& operator=(const Roster&) = delete;

  // Loads every known district and starts following them. UNAVAILABLE when Redis
  // cannot be read (the caller may retry; the roster is then empty but consistent).
  absl::Status Start(absl::Time deadline);
  // Stops following; queries keep answering from the last state.
  void Stop();

  // Applies a record just read from Redis.
  void Apply(const Volunteer& v);
  void Apply(const Unit& u);
  // Applies a location fix of volunteer (`is_unit` false) or unit `id`. Returns false
  // when `id` is not indexed: the fix may have made it indexable (a van's first fix, a
  // busy volunteer's first location), so the caller reads the record and applies it.
  bool ApplyLocation(absl::string_view district, bool is_unit, absl::string_view id,
                     LatLng location, int64_t time_ms, int64_t revision);
  // Makes sure `district` is followed here and, by adding it to the set of known
  // districts (one Redis write, once per district and process), by every instance.
  // Call before the first write to a district.
  absl::Status Follow(absl::string_view district, absl::Time deadline);

  struct Hit {
    std::string id;
    bool is_unit = false;
    LatLng location;
    double distance_m = 0;
    int capacity_left = 0;
    Candidate candidate;  // A copy of the indexed entry.
  };
  // Up to `k` candidates of `district` eligible under `q` at `now` within
  // `max_radius_m` of `center`, nearest first (ties by id). `searched_radius_m`
  // receives the radius proven searched.
  std::vector<Hit> Nearest(absl::string_view district, LatLng center, int k, double max_radius_m,
                           const CandidateQuery& q, absl::Time now,
                           double* searched_radius_m) const;

  // Sets the open-assignment count of an indexed volunteer or unit (from an
  // assignee.load event at `revision`); ignored when not indexed or not newer.
  void ApplyLoad(absl::string_view district, bool is_unit, absl::string_view id,
                 int active_assignments, int64_t revision);

  // Called by the following thread with every event it reads (district, stream id,
  // fields), in stream order; with an empty id when a district has just been loaded
  // (its earlier events are not observed one by one). Set before Start; must not block.
  using EventObserver =
      std::function<void(const std::string& district, const std::string& id, const HashFields& f)>;
  void SetEventObserver(EventObserver observer) { observer_ = std::move(observer); }

  // Every district followed here.
  std::vector<std::string> Districts() const;

  // Entries indexed in `district` (volunteers and units).
  size_t size(absl::string_view district) const;

  struct Stats {
    int64_t indexed = 0;          // Entries over all districts.
    int64_t events_read = 0;      // Stream entries read.
    int64_t records_applied = 0;  // Records applied (own writes and refetches).
    int64_t locations_applied = 0;
    int64_t read_errors = 0;
  };
  Stats stats() const;
  // The stats as Prometheus exposition text.
  std::string MetricsText() const;

 private:
  struct District {
    explicit District(const GeoIndexOptions& o) : index(o) {}
    GeoIndex<Candidate> index;
    // Removed ids: the revision removed at and when.
    absl::flat_hash_map<std::string, std::pair<int64_t, absl::Time>> tombstones;
  };
  struct Cursor {
    std::string district;
    std::string events_id;
    std::string locations_id;
  };

  District& DistrictLocked(absl::string_view district) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True when the roster holds `id` (or its removal) at `revision` or later.
  bool HasRevision(absl::string_view district, absl::string_view id, int64_t revision) const;
  void ApplyLocked(absl::string_view district, const std::string& id, bool indexable,
                   LatLng location, Candidate c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLocked(const Volunteer& v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLocked(const Unit& u) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status LoadDistrict(const std::string& district, absl::Time deadline);
  absl::Status RefreshDistricts(absl::Time deadline);
  absl::Status ReadOnce();
  // Reads the records named by events of `district` and applies them.
  absl::Status Refetch(const std::string& district, const std::vector<std::string>& volunteers,
                       const std::vector<std::string>& units);
  void Run();

  RedisClient* const redis_;
  const Clock* const clock_;
  const RosterOptions options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<District>> districts_ ABSL_GUARDED_BY(mu_);

  // Owned by the following thread (and Start before it runs).
  std::vector<Cursor> cursors_;
  absl::Mutex follow_mu_;
  std::vector<std::string> to_follow_ ABSL_GUARDED_BY(follow_mu_);

  EventObserver observer_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<int64_t> events_read_{0};
  std::atomic<int64_t> records_applied_{0};
  std::atomic<int64_t> locations_applied_{0};
  std::atomic<int64_t> read_errors_{0};
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_ROSTER_H_
