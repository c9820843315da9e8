#ifndef YIYUAN_ENGINE_REQUEST_VALIDATOR_H_
#define YIYUAN_ENGINE_REQUEST_VALIDATOR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/help_request.h"

namespace yiyuan {

// Limits on what a request may hold. The defaults are what the API documents.
struct RequestLimits {
  // Longest description.
  int max_description_chars = 2000;
  // Longest cancel reason.
  int max_reason_chars = 500;
  // Most helpers one request may ask for.
  int max_headcount = 50;
  // Most required (and, separately, preferred) skills.
  int max_skills = 16;
  // How far ahead a time window may start.
  absl::Duration max_window_lead = absl::Hours(24 * 366);
  // Longest time window.
  absl::Duration max_window_length = absl::Hours(24 * 31);
};

// Checks a newly submitted request (`content`, the idempotency key and district) and
// normalises it in place (the resident's phone to digits only, skills to lower case,
// whitespace trimmed). `now` anchors time-window checks.
//
// Returns OK, or INVALID_ARGUMENT listing every bad field (see FieldViolations), with
// field paths as the API names them: "request_id", "district", "request.resident.phone".
absl::Status ValidateNewRequest(absl::string_view request_id, absl::string_view district,
                                RequestContent& content, absl::Time now,
                                const RequestLimits& limits = {});

// Checks an identifier the API takes (district, community, station...): 1..`max_len`
// characters of ASCII letters, digits, '-' and '_'. Names `field` when it is not.
absl::Status ValidateId(absl::string_view field, absl::string_view value, size_t max_len = 64);

// Checks a district id: 1..32 lower-case letters and digits (it is part of request ids
// and Redis hash tags, so it cannot hold '-').
absl::Status ValidateDistrict(absl::string_view field, absl::string_view value);

// Checks free text: valid UTF-8, no control characters other than newline and tab,
// at most `max_chars` code points, and at least one non-space character if `required`.
absl::Status ValidateText(absl::string_view field, absl::string_view value, int max_chars,
                          bool required);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_REQUEST_VALIDATOR_H_
