#ifndef YIYUAN_SERVER_VOLUNTEER_STORE_H_
#define YIYUAN_SERVER_VOLUNTEER_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/volunteer.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"

namespace yiyuan {

struct VolunteerStoreOptions {
  // Approximate cap on each district's event stream (XADD MAXLEN ~).
  int64_t event_stream_max_len = 1000000;
  // Approximate cap on each district's location feed; other instances must read a fix
  // before this many newer ones push it out (at 100k volunteers reporting every 20 s,
  // 200k entries are 40 s of fixes).
  int64_t location_feed_max_len = 200000;
  // Most records one List call examines before it returns a page token.
  int list_scan_budget = 2000;
  // How often Update retries when another writer changed the record meanwhile.
  int update_attempts = 5;
};

// ListVolunteers filters; empty / unset members match everything.
struct VolunteerFilter {
  std::string district;
  std::string community_id;
  std::string token;  // A skill or a certificate's token.
  std::optional<Certificate> certificate;
  std::optional<DutyStatus> duty;
  std::string team_id;
  std::string phone;  // Normalised.
  std::string external_id;
};

// What ReportLocation did.
struct StoredFix {
  bool stored = false;   // False when the fix was ignored.
  int64_t revision = 0;  // The subject's revision after storing it.
  int64_t time_ms = 0;   // The fix time stored.
};

// Volunteers and pairings in Redis. Every mutation is one Lua script that also appends
// its event to the district's stream (profile updates: a read, then a script that
// checks the revision read). Thread-safe.
//
// Errors are those of RedisClient, plus: NOT_FOUND for an unknown volunteer;
// INVALID_ARGUMENT "volunteer.external_id" for a registration replayed with other
// details; ABORTED when an update kept colliding with other writers.
class VolunteerStore {
 public:
  VolunteerStore(RedisClient* redis, VolunteerStoreOptions options = {});

  // Registers a validated profile (see ValidateVolunteerProfile). `replayed` is set when
  // the same external id was registered with the same profile before.
  absl::StatusOr<Volunteer> Register(absl::string_view district, const VolunteerProfile& profile,
                                     absl::Time deadline, bool* replayed);

  absl::StatusOr<Volunteer> Get(absl::string_view id, absl::Time deadline);

  // The volunteers with these ids of one district, in one round trip; unknown ids are
  // left out.
  absl::StatusOr<std::vector<Volunteer>> GetMany(absl::string_view district,
                                                 const std::vector<std::string>& ids,
                                                 absl::Time deadline);

  // Up to `page_size` volunteers matching `filter` with sequence numbers above `cursor`
  // (nullopt: from the first), in registration order.
  absl::StatusOr<Page<Volunteer>> List(const VolunteerFilter& filter, std::optional<int64_t> cursor,
                                       int page_size, absl::Time deadline);

  // Reads the volunteer, lets `edit` change its profile (returning an error to give up),
  // and stores the result unless someone changed the volunteer meanwhile, in which case
  // it starts again. `fields` names the changed fields for the event.
  absl::StatusOr<Volunteer> Update(absl::string_view id,
                                   const std::function<absl::Status(VolunteerProfile&)>& edit,
                                   absl::string_view fields, absl::string_view actor,
                                   absl::Time deadline);

  // Sets the duty status; `location` is stored for ON and BUSY when given. The same
  // status again changes nothing but the location, if one is given.
  absl::StatusOr<Volunteer> SetDuty(absl::string_view id, DutyStatus status,
                                    const std::optional<LatLng>& location, absl::string_view actor,
                                    absl::Time deadline);

  // Stores a location fix of an on-duty volunteer (`unit_id` empty) or an active van
  // reported by `crew_member` (empty: anyone may). `fix_time_ms` 0 means now. The fix
  // is ignored (off duty, inactive, or older than the stored fix) without error.
  // INVALID_ARGUMENT "unit_id" for a unit that is not a van; PERMISSION_DENIED for a
  // reporter outside the van's crew.
  absl::StatusOr<StoredFix> ReportLocation(absl::string_view district,
                                           absl::string_view volunteer_id,
                                           absl::string_view unit_id, absl::string_view crew_member,
                                           LatLng location, int64_t fix_time_ms,
                                           absl::Time deadline);

  // Records a validated pairing (see ValidatePairing), or returns the pairing of the same
  // volunteer and resident phone that exists already (`existed` set).
  absl::StatusOr<Pairing> CreatePairing(absl::string_view district, const Pairing& pairing,
                                        absl::string_view actor, absl::Time deadline,
                                        bool* existed);

 private:
  RedisClient* const redis_;
  const VolunteerStoreOptions options_;
  const LuaScript register_;
  const LuaScript update_;
  const LuaScript set_duty_;
  const LuaScript report_location_;
  const LuaScript list_;
  const LuaScript create_pairing_;
};

// The canonical JSON document of a profile, as stored and compared for idempotency.
std::string EncodeVolunteerProfile(const VolunteerProfile& p);
absl::StatusOr<VolunteerProfile> DecodeVolunteerProfile(absl::string_view doc);

// A volunteer hash as the scripts write it. NOT_FOUND when it is empty.
absl::StatusOr<Volunteer> VolunteerFromFields(const HashFields& f);

// The hash of a phone number used in key names (so no phone appears in a key).
std::string PhoneKeyHash(absl::string_view normalized_phone);

// Adds `district` to the set of districts the live index follows (idempotent).
absl::Status RememberDistrict(RedisClient* redis, absl::string_view district, absl::Time deadline);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_VOLUNTEER_STORE_H_
