#ifndef YIYUAN_SERVER_DISPATCH_STORE_H_
#define YIYUAN_SERVER_DISPATCH_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/help_request.h"
#include "engine/offer.h"
#include "engine/points.h"
#include "engine/volunteer.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"

namespace yiyuan {

struct DispatchStoreOptions {
  // Approximate cap on each district's event stream (XADD MAXLEN ~).
  int64_t event_stream_max_len = 1000000;
  // How long a Mobilize idempotency key is remembered.
  absl::Duration idempotency_ttl = absl::Hours(24 * 7);
  // What a volunteer earns for completing an assignment (lua/points_lib.lua).
  PointsRule points_rule;
};

// One offer to make: to whom, and the static part of the API message.
struct OfferToMake {
  AssigneeRef to;
  std::string doc;
};

// What MakeOffers did.
struct MadeOffers {
  bool made = false;  // False: nobody could be offered; nothing changed.
  int round = 0;
  int64_t now_ms = 0;
  int64_t expire_time_ms = 0;
  struct Made {
    std::string offer_id;
    AssigneeRef to;
  };
  std::vector<Made> offers;
  struct Skipped {
    AssigneeRef who;
    std::string reason;
  };
  std::vector<Skipped> skipped;
};

// A request as the dispatcher sees it: the request, its round and staffing, and who
// must not be offered it again.
struct DispatchSnapshot {
  bool gone = false;  // The request no longer exists.
  HelpRequest request;
  int round = 0;
  int round_base = 0;  // Round at which an operator last put it back to matching.
  int headcount = 1;
  int assigned = 0;     // Assignments standing (not released).
  int pending = 0;      // Pending offers.
  int declined = 0;     // Offers declined so far.
  int expired = 0;      // Offers expired so far.
  int expired_now = 0;  // Offers this Advance call expired.
  int offers_made = 0;  // Offers ever made; they are numbered 1..offers_made.
  std::string phone_hash;
  std::string mobilization_id;
  std::vector<AssigneeRef> assignees;
  absl::flat_hash_set<std::string> tried, declined_by, no_show, excluded;  // "v:<id>" keys.
  EscalationReason escalation_reason = EscalationReason::kUnspecified;
  std::string escalation_detail;
  int64_t escalate_time_ms = 0;
};

// An answer to an offer.
struct OfferAnswer {
  std::string offer_id;
  bool accept = false;
  int decline_reason = 0;
  std::string decline_note;
  // The volunteer answering; empty for a privileged caller (operator).
  std::string volunteer_id;
  // True when the caller may answer any offer (OPERATOR, ADMIN).
  bool privileged = false;
};

struct OfferReply {
  bool replayed = false;
  OfferRecord offer;
  std::optional<AssignmentRecord> assignment;  // Set when accepted.
};

struct ProgressReport {
  std::string request_id;
  std::optional<AssigneeRef> assignee;  // Unset: the request's only open assignment.
  ProgressKind kind = ProgressKind::kNone;
  int minutes_served = 0;
  int rating = 0;
  std::string notes;
  std::string actor;  // Token id.
  // The volunteer reporting; empty for a privileged caller.
  std::string volunteer_id;
};

struct ProgressReply {
  bool changed = false;
  AssignmentRecord assignment;
  RequestState request_state = RequestState::kUnspecified;
};

// An operator's override: assign `to` (AssignManually), or move `from` to `to` or back
// to matching (Reassign).
struct Override {
  std::string request_id;
  std::optional<AssigneeRef> from;
  std::optional<AssigneeRef> to;
  std::string reason;
  std::string actor;  // Token id.
  bool force = false;
};

struct OverrideReply {
  std::optional<AssignmentRecord> released;
  std::optional<AssignmentRecord> assigned;
};

// What the scorer needs to know about candidates beyond the live index.
struct CandidateHistory {
  absl::flat_hash_map<std::string, VolunteerStats> stats;  // By volunteer id.
  absl::flat_hash_set<std::string> paired;                 // Volunteer ids.
  absl::flat_hash_set<std::string> served_before;          // Volunteer ids.
};

// One page of a Redis stream read after a cursor.
struct StreamPage {
  std::vector<std::pair<std::string, HashFields>> entries;  // (stream id, fields).
  std::string oldest_id;  // Oldest retained entry; empty when the stream is empty.
  std::string last_id;    // Newest entry; empty when the stream is empty.
};

struct Lease {
  int64_t token = 0;  // 0: another instance holds it.
  std::string holder;
};

struct Mobilization {
  bool replayed = false;
  std::string mobilization_id;
  HelpRequest request;
};

// Offers, assignments and the leader's queues in Redis (layout and rules: the header
// of lua/dispatch_lib.lua). Each mutation is one Lua script, atomic, with its events.
// Thread-safe.
//
// Errors are those of RedisClient, plus: NOT_FOUND for an unknown request, offer,
// assignment, volunteer or unit; FAILED_PRECONDITION when the state forbids the change
// (offer taken, expired or withdrawn; request closed or fully staffed; no capacity);
// PERMISSION_DENIED when the answering volunteer is not the offeree; ABORTED when a
// round compare-and-set or the leader's fencing token no longer holds (someone else
// acted first: not an error for the caller to report).
class DispatchStore {
 public:
  DispatchStore(RedisClient* redis, DispatchStoreOptions options = {});

  // Makes offers for round `expected_round + 1` (`next_round`) or adds them to round
  // `expected_round`. `fence` is the leader token, or 0 outside the leader loop.
  absl::StatusOr<MadeOffers> MakeOffers(absl::string_view request_id, int expected_round,
                                        bool next_round, absl::Duration ttl,
                                        absl::string_view mobilization_id, int64_t fence,
                                        const std::vector<OfferToMake>& offers,
                                        absl::Time deadline);
  // One request's part of MakeOffersMany: MakeOffers' arguments.
  struct OfferBatch {
    std::string request_id;
    int expected_round = 0;
    bool next_round = true;
    absl::Duration ttl;
    std::string mobilization_id;
    std::vector<OfferToMake> offers;
  };
  // MakeOffers for each batch, in order, in one round trip; each has its own outcome.
  // The outer status fails only when Redis could not be reached.
  absl::StatusOr<std::vector<absl::StatusOr<MadeOffers>>> MakeOffersMany(
      const std::vector<OfferBatch>& batches, int64_t fence, absl::Time deadline);
  // The leader's step on a due request: expires its overdue offers and returns it.
  absl::StatusOr<DispatchSnapshot> Advance(absl::string_view request_id, int64_t fence,
                                           absl::Time deadline);
  // Advance for each of `request_ids` in one round trip; each has its own outcome. The
  // outer status fails only when Redis could not be reached.
  absl::StatusOr<std::vector<absl::StatusOr<DispatchSnapshot>>> AdvanceMany(
      const std::vector<std::string>& request_ids, int64_t fence, absl::Time deadline);
  // Reads a request's dispatch state without changing anything.
  absl::StatusOr<DispatchSnapshot> Load(absl::string_view request_id, absl::Time deadline);
  // Escalates to the operator queue. `expected_round` nullopt: whatever the round.
  absl::StatusOr<HelpRequest> Escalate(absl::string_view request_id,
                                       std::optional<int> expected_round, EscalationReason reason,
                                       absl::string_view detail, absl::string_view actor,
                                       int64_t fence, absl::Time deadline);
  absl::StatusOr<OfferReply> Respond(const OfferAnswer& answer, absl::Time deadline);
  absl::StatusOr<ProgressReply> Progress(const ProgressReport& report, absl::Time deadline);
  absl::StatusOr<OverrideReply> Apply(const Override& o, absl::Time deadline);
  absl::StatusOr<Mobilization> Mobilize(absl::string_view district, absl::string_view key,
                                        const RequestContent& content,
                                        absl::string_view fingerprint, absl::string_view actor,
                                        absl::Time deadline);

  absl::StatusOr<OfferRecord> GetOffer(absl::string_view offer_id, absl::Time deadline);
  // Pending offers of an assignee.
  absl::StatusOr<std::vector<OfferRecord>> PendingOffers(absl::string_view district,
                                                         const AssigneeRef& who,
                                                         absl::Time deadline);
  // Every offer of a request, oldest first.
  absl::StatusOr<std::vector<OfferRecord>> OffersOf(absl::string_view request_id, int count,
                                                    absl::Time deadline);
  // The assignments (standing and past) of a request.
  absl::StatusOr<std::vector<AssignmentRecord>> AssignmentsOf(const DispatchSnapshot& s,
                                                              absl::Time deadline);
  absl::StatusOr<AssignmentRecord> GetAssignment(absl::string_view request_id,
                                                 const AssigneeRef& who, absl::Time deadline);

  // Statistics, pairings and service history of volunteers for a resident.
  absl::StatusOr<CandidateHistory> History(absl::string_view district,
                                           const std::vector<std::string>& volunteer_ids,
                                           absl::string_view phone_hash, absl::Time deadline);
  // The same for several residents at once, in one round trip (a batch cycle).
  struct HistoryAsk {
    std::string phone_hash;
    std::vector<std::string> volunteer_ids;
  };
  absl::StatusOr<std::vector<CandidateHistory>> Histories(absl::string_view district,
                                                          const std::vector<HistoryAsk>& asks,
                                                          absl::Time deadline);

  // Up to `limit` request ids of `district` due at or before `now_ms`.
  absl::StatusOr<std::vector<std::string>> DueRequests(absl::string_view district, int64_t now_ms,
                                                       int limit, absl::Time deadline);
  // Moves requests of `district` already in the due set to `at_ms` (a later batch).
  absl::Status Postpone(absl::string_view district, const std::vector<std::string>& request_ids,
                        int64_t at_ms, absl::Time deadline);
  // Escalated requests, most pressing first, from position `offset`.
  absl::StatusOr<std::vector<DispatchSnapshot>> Escalations(absl::string_view district,
                                                            int64_t offset, int limit,
                                                            absl::Time deadline);

  // Takes or renews (`hold`) or gives up the district's leader lease for `owner`.
  absl::StatusOr<Lease> HoldLease(absl::string_view district, absl::string_view owner,
                                  absl::Duration ttl, bool hold, absl::Time deadline);

  // Entries of stream `key` after `after_id` (exclusive), at most `count`.
  absl::StatusOr<StreamPage> ReadStream(absl::string_view key, absl::string_view after_id,
                                        int count, absl::Time deadline);

 private:
  std::vector<std::string> Args(absl::string_view district, int64_t fence) const;
  absl::StatusOr<RedisClient::ScriptCall> MakeOffersCall(const OfferBatch& b, int64_t fence) const;
  absl::StatusOr<RedisClient::ScriptCall> AdvanceCall(absl::string_view request_id,
                                                      int64_t fence) const;

  RedisClient* const redis_;
  const DispatchStoreOptions options_;
  const LuaScript make_offers_;
  const LuaScript advance_;
  const LuaScript escalate_;
  const LuaScript respond_;
  const LuaScript progress_;
  const LuaScript assign_;
  const LuaScript lease_;
  const LuaScript mobilize_;
};

// Reads an offer hash; NOT_FOUND when empty.
absl::StatusOr<OfferRecord> OfferFromFields(const HashFields& f);
// Reads an assignment hash; NOT_FOUND when empty.
absl::StatusOr<AssignmentRecord> AssignmentFromFields(const HashFields& f);
// The district part of an offer id ("wuxing-12-o3" -> "wuxing").
absl::StatusOr<std::string> DistrictOfOfferId(absl::string_view field, absl::string_view id);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_DISPATCH_STORE_H_
