#include "engine/help_request.h"

#include <array>

#include "engine/enum_names.h"

namespace yiyuan {
namespace {

using enum_names::FromNumber;
using enum_names::NameOf;
using enum_names::Parse;

constexpr std::array<absl::string_view, 9> kChannelNames = {
    "CHANNEL_UNSPECIFIED", "HOTLINE", "APP", "WECHAT", "STATION", "SWEEP", "WALK_IN", "OPERATOR",
    "UNKNOWN"};
constexpr std::array<absl::string_view, 13> kCategoryNames = {
    "CATEGORY_UNSPECIFIED", "ELDER_VISIT", "ESCORT", "SHOPPING", "HOUSEWORK",
    "REPAIR", "HEALTH_CHECK", "PSYCH_SUPPORT", "EPIDEMIC_SUPPLY", "MEDIATION",
    "COMMUNITY_EVENT", "OTHER", "UNKNOWN"};
constexpr std::array<absl::string_view, 5> kUrgencyNames = {
    "URGENCY_UNSPECIFIED", "ROUTINE", "URGENT", "CRISIS", "UNKNOWN"};
constexpr std::array<absl::string_view, 11> kStateNames = {
    "REQUEST_STATE_UNSPECIFIED", "SUBMITTED", "OFFERED", "ASSIGNED", "EN_ROUTE", "IN_SERVICE",
    "COMPLETED", "RATED", "CANCELLED", "ESCALATED", "UNKNOWN"};
constexpr std::array<absl::string_view, 5> kRecurrenceNames = {
    "RECURRENCE_UNSPECIFIED", "ONCE", "WEEKLY", "MONTHLY", "UNKNOWN"};

}  // namespace

absl::string_view Name(Channel v) { return NameOf(kChannelNames, v); }
absl::string_view Name(Category v) { return NameOf(kCategoryNames, v); }
absl::string_view Name(Urgency v) { return NameOf(kUrgencyNames, v); }
absl::string_view Name(RequestState v) { return NameOf(kStateNames, v); }
absl::string_view Name(Recurrence v) { return NameOf(kRecurrenceNames, v); }

std::optional<Channel> ParseChannel(absl::string_view n) { return Parse<Channel>(kChannelNames, n); }
std::optional<Category> ParseCategory(absl::string_view n) { return Parse<Category>(kCategoryNames, n); }
std::optional<Urgency> ParseUrgency(absl::string_view n) { return Parse<Urgency>(kUrgencyNames, n); }
std::optional<RequestState> ParseRequestState(absl::string_view n) {
  return Parse<RequestState>(kStateNames, n);
}
std::optional<Recurrence> ParseRecurrence(absl::string_view n) {
  return Parse<Recurrence>(kRecurrenceNames, n);
}

Channel ChannelFromNumber(int n) { return FromNumber<Channel>(kChannelNames, n); }
Category CategoryFromNumber(int n) { return FromNumber<Category>(kCategoryNames, n); }
Urgency UrgencyFromNumber(int n) { return FromNumber<Urgency>(kUrgencyNames, n); }
RequestState RequestStateFromNumber(int n) { return FromNumber<RequestState>(kStateNames, n); }
Recurrence RecurrenceFromNumber(int n) { return FromNumber<Recurrence>(kRecurrenceNames, n); }

bool IsOpen(RequestState s) {
  return s != RequestState::kCompleted && s != RequestState::kRated &&
         s != RequestState::kCancelled;
}

bool IsCancellable(RequestState s) {
  switch (s) {
    case RequestState::kSubmitted:
    case RequestState::kOffered:
    case RequestState::kAssigned:
    case RequestState::kEnRoute:
    case RequestState::kEscalated:
      return true;
    default:
      return false;
  }
}

}  // namespace yiyuan
