#ifndef YIYUAN_SERVER_KEYS_H_
#define YIYUAN_SERVER_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
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

// Dispatch keys (offers, assignments, the leader's queues); their layout and rules are
// documented in lua/dispatch_lib.lua, which every dispatch script shares.
// Hash: one offer.
inline std::string Offer(absl::string_view d, absl::string_view offer_id) {
  return absl::StrCat(District(d), "offer:", offer_id);
}
// Hash: the assignment of one volunteer ("v") or unit ("u") to one request.
inline std::string Assignment(absl::string_view d, absl::string_view request_id,
                              absl::string_view assignee_key) {
  return absl::StrCat(District(d), "asg:", request_id, ":", assignee_key);
}
// Sets per request: pending offer ids, and "v:<id>"/"u:<id>" ever offered, declined,
// no-show, excluded by an operator.
inline std::string RequestPending(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "rpend:", id);
}
inline std::string RequestTried(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "rtried:", id);
}
inline std::string RequestDeclined(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "rdecl:", id);
}
inline std::string RequestNoShow(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "rnoshow:", id);
}
inline std::string RequestExcluded(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "rexcl:", id);
}
// Set of an assignee's pending offer ids ("v:<id>" or "u:<id>").
inline std::string AssigneePending(absl::string_view d, absl::string_view assignee_key) {
  return absl::StrCat(District(d), "apending:", assignee_key);
}
// Stream of an assignee's offer messages: what WatchOffers sends and resumes from.
inline std::string Inbox(absl::string_view d, absl::string_view assignee_key) {
  return absl::StrCat(District(d), "inbox:", assignee_key);
}
// Zset request id -> when the district's leader must look at it next.
inline std::string Due(absl::string_view d) { return absl::StrCat(District(d), "due"); }
// Zset request id -> escalation order (CRISIS first, then oldest first).
inline std::string Escalations(absl::string_view d) { return absl::StrCat(District(d), "esc"); }
// String "<token> <owner>" with a TTL: the district's leader lease.
inline std::string Lease(absl::string_view d) { return absl::StrCat(District(d), "lease"); }
// Set of volunteer ids who completed work for one resident phone (hashed).
inline std::string Served(absl::string_view d, absl::string_view phone_hash) {
  return absl::StrCat(District(d), "served:", phone_hash);
}
// Hash {id, sha}: what a Mobilize idempotency key was used for.
inline std::string MobilizeIdempotency(absl::string_view d, absl::string_view key) {
  return absl::StrCat(District(d), "idem:mob:", key);
}
// Counter: the last mobilisation number handed out.
inline std::string MobilizationSeq(absl::string_view d) {
  return absl::StrCat(District(d), "seq:mob");
}

// Points keys; their layout and rules are documented in lua/points_lib.lua.
// Hash holding an account's balance fields (a volunteer's live in its own hash).
inline std::string PointsAccount(absl::string_view d, absl::string_view account) {
  if (absl::StartsWith(account, "volunteer:")) {
    return Volunteer(d, account.substr(sizeof("volunteer:") - 1));
  }
  return absl::StrCat(District(d), "acct:", account);
}
// Hash: ledger entry number n.
inline std::string LedgerEntry(absl::string_view d, int64_t n) {
  return absl::StrCat(District(d), "led:", n);
}
// Zset n -> n: every ledger entry, or those of one account.
inline std::string Ledger(absl::string_view d) { return absl::StrCat(District(d), "ledger"); }
inline std::string AccountLedger(absl::string_view d, absl::string_view account) {
  return absl::StrCat(District(d), "ledacct:", account);
}
// Hash: one catalog item of a kiosk; "<prefix>:<item>" for items of one kiosk.
inline std::string CatalogItemPrefix(absl::string_view d, absl::string_view kiosk) {
  return absl::StrCat(District(d), "item:", kiosk, ":");
}
// Zset (scores 0) of a kiosk's item ids.
inline std::string Catalog(absl::string_view d, absl::string_view kiosk) {
  return absl::StrCat(District(d), "items:", kiosk);
}
// Set of kiosk ids with a catalog.
inline std::string Kiosks(absl::string_view d) { return absl::StrCat(District(d), "kiosks"); }

// Set of every district that has volunteers or units: what the live index follows.
inline constexpr absl::string_view kDistricts = "{yiyuan}:districts";

// "{yiyuan}:token:" — prefix of the hash describing one token, by SHA-256 of its secret.
inline constexpr absl::string_view kTokenPrefix = "{yiyuan}:token:";
// Hash token id -> SHA-256 of the secret.
inline constexpr absl::string_view kTokenIndex = "{yiyuan}:tokens";

}  // namespace yiyuan::keys

#endif  // YIYUAN_SERVER_KEYS_H_
