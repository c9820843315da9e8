#ifndef YIYUAN_ENGINE_HELP_REQUEST_H_
#define YIYUAN_ENGINE_HELP_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace yiyuan {

// The domain model of a resident's request for help (DESIGN.md section 3). Enum values
// match the numbers of the API enums of the same name; kUnknown stands for a number the
// API sent that this build does not know.

enum class Channel { kUnspecified = 0, kHotline, kApp, kWechat, kStation, kSweep, kWalkIn, kOperator, kUnknown };
enum class Category {
  kUnspecified = 0, kElderVisit, kEscort, kShopping, kHousework, kRepair, kHealthCheck,
  kPsychSupport, kEpidemicSupply, kMediation, kCommunityEvent, kOther, kUnknown
};
enum class Urgency { kUnspecified = 0, kRoutine, kUrgent, kCrisis, kUnknown };
enum class RequestState {
  kUnspecified = 0, kSubmitted, kOffered, kAssigned, kEnRoute, kInService, kCompleted,
  kRated, kCancelled, kEscalated, kUnknown
};
enum class Recurrence { kUnspecified = 0, kOnce, kWeekly, kMonthly, kUnknown };

// Stable upper-case names ("HOTLINE", "ELDER_VISIT", ...), as stored in Redis and shown
// to people. kUnknown and kUnspecified have names too, but are never stored.
absl::string_view Name(Channel v);
absl::string_view Name(Category v);
absl::string_view Name(Urgency v);
absl::string_view Name(RequestState v);
absl::string_view Name(Recurrence v);

// The value whose Name() is `name`, or nullopt. Accepts any case.
std::optional<Channel> ParseChannel(absl::string_view name);
std::optional<Category> ParseCategory(absl::string_view name);
std::optional<Urgency> ParseUrgency(absl::string_view name);
std::optional<RequestState> ParseRequestState(absl::string_view name);
std::optional<Recurrence> ParseRecurrence(absl::string_view name);

// The value with API number `n`; kUnknown when out of range.
Channel ChannelFromNumber(int n);
Category CategoryFromNumber(int n);
Urgency UrgencyFromNumber(int n);
RequestState RequestStateFromNumber(int n);
Recurrence RecurrenceFromNumber(int n);

// True for the states in which a request still needs or receives help: everything but
// COMPLETED, RATED and CANCELLED.
bool IsOpen(RequestState s);
// True when CancelRequest may move a request from `s` to CANCELLED.
bool IsCancellable(RequestState s);

struct LatLng {
  double lat = 0;
  double lng = 0;
};

struct Resident {
  std::string name;
  std::string phone;  // Normalised by NormalizePhone once validated.
  std::string address;
  std::optional<LatLng> location;
  std::string community_id;
  std::string compound_id;
  bool lives_alone = false;
  bool high_age = false;
  bool disabled = false;
};

// What the caller submitted. Everything here is part of the request's identity for
// idempotency: a replay must carry the same content.
struct RequestContent {
  Channel channel = Channel::kUnspecified;
  std::string station_id;
  std::string operator_id;
  Resident resident;
  Category category = Category::kUnspecified;
  std::string description;
  Urgency urgency = Urgency::kUnspecified;
  std::vector<std::string> required_skills;
  std::vector<std::string> preferred_skills;
  int headcount = 0;
  int64_t window_start_ms = 0;  // 0: as soon as possible.
  int64_t window_end_ms = 0;    // 0: no deadline.
  Recurrence recurrence = Recurrence::kUnspecified;
};

// A stored request: the content plus what the server keeps about it.
struct HelpRequest {
  std::string id;
  std::string district;
  std::string request_id;  // The client's idempotency key.
  RequestContent content;
  RequestState state = RequestState::kUnspecified;
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
  std::string cancel_reason;
};

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_HELP_REQUEST_H_
