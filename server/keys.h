#ifndef YIYUAN_SERVER_KEYS_H_
#define YIYUAN_SERVER_KEYS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// The Redis key layout. Every key of a district carries the hash tag {d:<district>} so
// that each script touches one Redis Cluster slot; global keys use {yiyuan}.
namespace yiyuan::keys {

// "{d:wuxing}:" — the prefix of every key of a district.
inline std::string District(absl::string_view d) { return absl::StrCat("{d:", d, "}:"); }
// Hash: one help request.
inline std::string Request(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "req:", id);
}
// Zset seq -> request id: every request of the district, in creation order.
inline std::string RequestIndex(absl::string_view d) { return absl::StrCat(District(d), "reqs"); }
// Counter: the last request number handed out.
inline std::string RequestSeq(absl::string_view d) { return absl::StrCat(District(d), "seq:req"); }
// Hash {id, sha, dup}: what a client idempotency key was used for.
inline std::string Idempotency(absl::string_view d, absl::string_view request_id) {
  return absl::StrCat(District(d), "idem:", request_id);
}
// String: the open request of one resident phone (hashed) in one category.
inline std::string OpenRequest(absl::string_view d, absl::string_view phone_hash,
                               absl::string_view category) {
  return absl::StrCat(District(d), "open:", phone_hash, ":", category);
}
// Stream: every event of the district.
inline std::string Events(absl::string_view d) { return absl::StrCat(District(d), "events"); }
// Hash: one volunteer (profile document plus duty, location, statistics).
inline std::string Volunteer(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "vol:", id);
}
// Zset seq -> volunteer id: every volunteer of the district, in registration order.
inline std::string VolunteerIndex(absl::string_view d) { return absl::StrCat(District(d), "vols"); }
// Counter: the last volunteer number handed out.
inline std::string VolunteerSeq(absl::string_view d) { return absl::StrCat(District(d), "seq:vol"); }
// Hash {id, sha}: the volunteer registered under one external id.
inline std::string VolunteerExternal(absl::string_view d, absl::string_view external_id) {
  return absl::StrCat(District(d), "vext:", external_id);
}
// Set of volunteer ids with one phone number (hashed).
inline std::string VolunteerPhone(absl::string_view d, absl::string_view phone_hash) {
  return absl::StrCat(District(d), "vphone:", phone_hash);
}
// Set of volunteer ids on duty (ON or BUSY) with a location: what the live index holds.
inline std::string OnDuty(absl::string_view d) { return absl::StrCat(District(d), "onduty"); }
// Stream of location fixes (volunteers and vans), for other instances' live indexes.
inline std::string Locations(absl::string_view d) { return absl::StrCat(District(d), "locs"); }
// Hash: one unit (station, van, team).
inline std::string Unit(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "unit:", id);
}
// Zset seq -> unit id, in creation order.
inline std::string UnitIndex(absl::string_view d) { return absl::StrCat(District(d), "units"); }
// Counter: the last unit number handed out.
inline std::string UnitSeq(absl::string_view d) { return absl::StrCat(District(d), "seq:unit"); }
// Set of unit ids that are active and located: what the live index holds.
inline std::string PlacedUnits(absl::string_view d) { return absl::StrCat(District(d), "placed"); }
// Hash: one pairing.
inline std::string Pairing(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "pair:", id);
}
// Counter: the last pairing number handed out.
inline std::string PairingSeq(absl::string_view d) { return absl::StrCat(District(d), "seq:pair"); }
// String: the pairing of one volunteer with one resident phone (hashed).
inline std::string PairingKey(absl::string_view d, absl::string_view volunteer_id,
                              absl::string_view phone_hash) {
  return absl::StrCat(District(d), "pairkey:", volunteer_id, ":", phone_hash);
}
// Set of pairing ids of one resident phone (hashed): the continuity component's lookup.
inline std::string ResidentPairings(absl::string_view d, absl::string_view phone_hash) {
  return absl::StrCat(District(d), "rpairs:", phone_hash);
}

// Set of every district that has volunteers or units: what the live index follows.
inline constexpr absl::string_view kDistricts = "{yiyuan}:districts";

// "{yiyuan}:token:" — prefix of the hash describing one token, by SHA-256 of its secret.
inline constexpr absl::string_view kTokenPrefix = "{yiyuan}:token:";
// Hash token id -> SHA-256 of the secret.
inline constexpr absl::string_view kTokenIndex = "{yiyuan}:tokens";

}  // namespace yiyuan::keys

#endif  // YIYUAN_SERVER_KEYS_H_
