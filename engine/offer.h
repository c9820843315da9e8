#ifndef YIYUAN_ENGINE_OFFER_H_
#define YIYUAN_ENGINE_OFFER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace yiyuan {

// Offers and assignments (DESIGN.md section 3). Enum values match the numbers of the
// API enums of the same name; kUnknown stands for a number this build does not know.
enum class OfferState { kUnspecified = 0, kPending, kAccepted, kDeclined, kExpired, kWithdrawn, kUnknown };
// kNone: assigned, nothing reported yet (PROGRESS_KIND_UNSPECIFIED in the API).
enum class ProgressKind { kNone = 0, kEnRoute, kArrived, kCompleted, kRated, kNoShow, kUnknown };
enum class EscalationReason {
  kUnspecified = 0, kNoCandidate, kRoundsExhausted, kSlaBreached, kNoShow, kManual, kUnknown
};

// Stored names: "PENDING", "EN_ROUTE", "ROUNDS_EXHAUSTED", ...; ProgressKind::kNone is
// "NONE".
absl::string_view Name(OfferState v);
absl::string_view Name(ProgressKind v);
absl::string_view Name(EscalationReason v);
std::optional<OfferState> ParseOfferState(absl::string_view name);
std::optional<ProgressKind> ParseProgressKind(absl::string_view name);
std::optional<EscalationReason> ParseEscalationReason(absl::string_view name);
OfferState OfferStateFromNumber(int n);
ProgressKind ProgressKindFromNumber(int n);
EscalationReason EscalationReasonFromNumber(int n);

// Who an offer or assignment is for.
struct AssigneeRef {
  bool is_unit = false;
  std::string id;  // "wuxing-v3" or "wuxing-u1".

  // "v:<id>" or "u:<id>", as stored in Redis sets.
  std::string Key() const;
  // Reads Key()'s form; nullopt when malformed.
  static std::optional<AssigneeRef> FromKey(absl::string_view key);
  friend bool operator==(const AssigneeRef& a, const AssigneeRef& b) {
    return a.is_unit == b.is_unit && a.id == b.id;
  }
};

// An offer as stored. `doc` is the static part of the API message (what was offered
// and where), serialised by the server when the offer is made.
struct OfferRecord {
  std::string id;  // "<request id>-o<n>".
  std::string request_id;
  std::string district;
  AssigneeRef to;
  OfferState state = OfferState::kUnspecified;
  int round = 0;
  int64_t create_time_ms = 0;
  int64_t expire_time_ms = 0;
  int64_t state_time_ms = 0;
  std::string mobilization_id;
  int decline_reason = 0;  // API DeclineReason number.
  std::string doc;
};

// A (current or past) assignment of one helper to a request.
struct AssignmentRecord {
  std::string request_id;
  std::string district;
  AssigneeRef who;
  std::string offer_id;  // Empty for a manual assignment.
  int64_t accept_time_ms = 0;
  std::string assigned_by;  // Operator token id, for manual assignments.
  std::string assign_reason;
  ProgressKind progress = ProgressKind::kNone;
  int64_t progress_time_ms = 0;
  int64_t en_route_time_ms = 0;
  int64_t arrive_time_ms = 0;
  int64_t complete_time_ms = 0;
  int minutes_served = 0;
  int rating = 0;
  std::string notes;
  int64_t release_time_ms = 0;
  std::string release_reason;  // "no_show", "reassigned", "cancelled".
  int64_t points_earned = 0;
  int64_t points_pending = 0;
};

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_OFFER_H_
