#include "engine/request_validator.h"

#include "absl/strings/str_cat.h"
#include "engine/field_checks.h"
#include "engine/field_violations.h"

namespace yiyuan {

absl::Status ValidateId(absl::string_view field, absl::string_view value, size_t max_len) {
  FieldViolations v;
  checks::Id(v, field, value, max_len, /*required=*/true);
  return v.ToStatus();
}

absl::Status ValidateDistrict(absl::string_view field, absl::string_view value) {
  FieldViolations v;
  checks::District(v, field, value);
  return v.ToStatus();
}

absl::Status ValidateText(absl::string_view field, absl::string_view value, int max_chars,
                          bool required) {
  FieldViolations v;
  checks::Text(v, field, value, max_chars, required);
  return v.ToStatus();
}

absl::Status ValidateNewRequest(absl::string_view request_id, absl::string_view district,
                                RequestContent& c, absl::Time now,
                                const RequestLimits& limits) {
  FieldViolations v;
  if (request_id.size() < 8 && !request_id.empty()) {
    v.Add("request_id", "must be at least 8 characters (use a UUID)");
  } else {
    checks::Id(v, "request_id", request_id, 64, /*required=*/true);
  }
  checks::District(v, "district", district);

  checks::RequiredEnum(v, "request.channel", c.channel);
  checks::RequiredEnum(v, "request.category", c.category);
  checks::RequiredEnum(v, "request.urgency", c.urgency);
  if (c.recurrence == Recurrence::kUnspecified) {
    c.recurrence = Recurrence::kOnce;
  } else if (c.recurrence == Recurrence::kUnknown) {
    v.Add("request.recurrence", "is not a known value");
  }

  bool needs_station = c.channel == Channel::kStation || c.channel == Channel::kSweep;
  checks::Id(v, "request.intake.station_id", c.station_id, 64, needs_station);
  checks::Id(v, "request.intake.operator_id", c.operator_id, 64, /*required=*/false);

  checks::ResidentFields(v, "request.resident", c.resident, /*location_required=*/true);

  checks::Text(v, "request.description", c.description, limits.max_description_chars,
            /*required=*/false);
  checks::Tokens(v, "request.required_skills", c.required_skills, limits.max_skills);
  checks::Tokens(v, "request.preferred_skills", c.preferred_skills, limits.max_skills);

  if (c.headcount == 0) c.headcount = 1;
  if (c.headcount < 1 || c.headcount > limits.max_headcount) {
    v.Add("request.headcount", absl::StrCat("must be between 1 and ", limits.max_headcount));
  }

  const int64_t now_ms = absl::ToUnixMillis(now);
  if (c.window_start_ms < 0) v.Add("request.window.start_ms", "must not be negative");
  if (c.window_end_ms < 0) v.Add("request.window.end_ms", "must not be negative");
  if (c.window_start_ms > now_ms + absl::ToInt64Milliseconds(limits.max_window_lead)) {
    v.Add("request.window.start_ms", "is more than a year ahead");
  }
  if (c.window_end_ms > 0) {
    if (c.window_end_ms <= now_ms) {
      v.Add("request.window.end_ms", "is in the past");
    } else if (c.window_start_ms > 0 && c.window_end_ms <= c.window_start_ms) {
      v.Add("request.window.end_ms", "must be after start_ms");
    } else if (c.window_end_ms - std::max(c.window_start_ms, now_ms) >
               absl::ToInt64Milliseconds(limits.max_window_length)) {
      v.Add("request.window", "must not be longer than 31 days");
    }
  }
  return v.ToStatus();
}

}  // namespace yiyuan
