#include "engine/offer.h"

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/enum_names.h"

namespace yiyuan {
namespace {

using enum_names::FromNumber;
using enum_names::NameOf;
using enum_names::Parse;

constexpr std::array<absl::string_view, 7> kOfferStateNames = {
    "OFFER_STATE_UNSPECIFIED", "PENDING", "ACCEPTED", "DECLINED", "EXPIRED", "WITHDRAWN",
    "UNKNOWN"};
constexpr std::array<absl::string_view, 7> kProgressNames = {
    "NONE", "EN_ROUTE", "ARRIVED", "COMPLETED", "RATED", "NO_SHOW", "UNKNOWN"};
constexpr std::array<absl::string_view, 7> kEscalationNames = {
    "ESCALATION_REASON_UNSPECIFIED", "NO_CANDIDATE", "ROUNDS_EXHAUSTED", "SLA_BREACHED",
    "NO_SHOW", "MANUAL", "UNKNOWN"};

}  // namespace

absl::string_view Name(OfferState v) { return NameOf(kOfferStateNames, v); }
absl::string_view Name(ProgressKind v) { return NameOf(kProgressNames, v); }
absl::string_view Name(EscalationReason v) { return NameOf(kEscalationNames, v); }

std::optional<OfferState> ParseOfferState(absl::string_view n) {
  return Parse<OfferState>(kOfferStateNames, n);
}
std::optional<ProgressKind> ParseProgressKind(absl::string_view n) {
  if (absl::EqualsIgnoreCase(n, "NONE")) return ProgressKind::kNone;
  return Parse<ProgressKind>(kProgressNames, n);
}
std::optional<EscalationReason> ParseEscalationReason(absl::string_view n) {
  return Parse<EscalationReason>(kEscalationNames, n);
}
OfferState OfferStateFromNumber(int n) { return FromNumber<OfferState>(kOfferStateNames, n); }
ProgressKind ProgressKindFromNumber(int n) { return FromNumber<ProgressKind>(kProgressNames, n); }
EscalationReason EscalationReasonFromNumber(int n) {
  return FromNumber<EscalationReason>(kEscalationNames, n);
}

std::string AssigneeRef::Key() const { return absl::StrCat(is_unit ? "u:" : "v:", id); }

std::optional<AssigneeRef> AssigneeRef::FromKey(absl::string_view key) {
  AssigneeRef r;
  if (absl::ConsumePrefix(&key, "u:")) {
    r.is_unit = true;
  } else if (!absl::ConsumePrefix(&key, "v:")) {
    return std::nullopt;
  }
  if (key.empty()) return std::nullopt;
  r.id = std::string(key);
  return r;
}

}  // namespace yiyuan
