#ifndef YIYUAN_SERVER_UNIT_STORE_H_
#define YIYUAN_SERVER_UNIT_STORE_H_

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
#include "server/volunteer_store.h"

namespace yiyuan {

struct UnitFilter {
  std::string district;
  std::optional<UnitKind> kind;
  std::string community_id;
  bool active_only = false;
};

// Stations, vans and teams in Redis. Creating and updating is one Lua script each
// (updates: a read, then a script that checks the revision read), which also keeps
// team memberships on the volunteers and the set of placed units in step and appends
// the event. Thread-safe.
//
// Errors are those of RedisClient, plus: NOT_FOUND for an unknown unit or member;
// ALREADY_EXISTS for a client-chosen id holding a different unit; ABORTED when an
// update kept colliding with other writers.
class UnitStore {
 public:
  UnitStore(RedisClient* redis, VolunteerStoreOptions options = {});

  // Creates a validated unit (see ValidateUnitSpec) under `client_id` (empty: a
  // server-assigned id). `replayed` is set when the same id already held this unit.
  absl::StatusOr<Unit> Create(absl::string_view district, absl::string_view client_id,
                              const UnitSpec& spec, absl::string_view actor, absl::Time deadline,
                              bool* replayed);

  absl::StatusOr<Unit> Get(absl::string_view id, absl::Time deadline);

  // The units with these ids of one district, in one round trip; unknown ids are left out.
  absl::StatusOr<std::vector<Unit>> GetMany(absl::string_view district,
                                            const std::vector<std::string>& ids,
                                            absl::Time deadline);

  absl::StatusOr<Page<Unit>> List(const UnitFilter& filter, std::optional<int64_t> cursor,
                                  int page_size, absl::Time deadline);

  // Reads the unit, lets `edit` change it (an error gives up), and stores it unless it
  // changed meanwhile, in which case it starts again. `edit` reports whether it changed
  // the location through `location_changed`.
  absl::StatusOr<Unit> Update(
      absl::string_view id,
      const std::function<absl::Status(UnitSpec&, bool& location_changed)>& edit,
      absl::string_view actor, absl::Time deadline);

 private:
  absl::StatusOr<Unit> Save(absl::string_view district, absl::string_view mode,
                            absl::string_view id, int64_t revision, const UnitSpec& spec,
                            bool location_changed, absl::string_view actor, absl::Time deadline,
                            std::string* outcome);

  RedisClient* const redis_;
  const VolunteerStoreOptions options_;
  const LuaScript save_;
  const LuaScript list_;
};

std::string EncodeUnitSpec(const UnitSpec& u);
absl::StatusOr<UnitSpec> DecodeUnitSpec(absl::string_view doc);
// A unit hash as save_unit.lua writes it. NOT_FOUND when it is empty.
absl::StatusOr<Unit> UnitFromFields(const HashFields& f);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_UNIT_STORE_H_
