#ifndef YIYUAN_ENGINE_FIELD_CHECKS_H_
#define YIYUAN_ENGINE_FIELD_CHECKS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/field_violations.h"
#include "engine/help_request.h"

// The checks every validator of API input shares. Each records what is wrong with one
// field in `v` under the field's API path and leaves other fields alone; some also
// normalise the value in place (as documented).
namespace yiyuan::checks {

// Free text: valid UTF-8, no control characters but newline and tab, at most
// `max_chars` code points, and not blank if `required`.
void Text(FieldViolations& v, absl::string_view field, absl::string_view value, int max_chars,
          bool required);

// An identifier: 1..`max_len` ASCII letters, digits, '-' and '_' (empty is fine unless
// `required`).
void Id(FieldViolations& v, absl::string_view field, absl::string_view value, size_t max_len,
        bool required);

// A district: 1..32 lower-case letters and digits.
void District(FieldViolations& v, absl::string_view field, absl::string_view value);

// A list of lower-case tokens (skills, equipment): trims and lower-cases each in place;
// each must be an identifier of at most `max_len` characters, none repeated, at most
// `max_count` of them. Violations name "field[i]".
void Tokens(FieldViolations& v, absl::string_view field, std::vector<std::string>& tokens,
            int max_count, size_t max_len = 32);

// A location: lat in -90..90, lng in -180..180, not exactly 0,0 (an unset message).
// Missing is a violation only if `required`.
void Location(FieldViolations& v, absl::string_view field, const std::optional<LatLng>& p,
              bool required);

// A phone number: normalised in place (see NormalizePhone). Mobile numbers only when
// `mobile_only`. Empty is a violation only if `required`.
void Phone(FieldViolations& v, absl::string_view field, std::string& phone, bool required,
           bool mobile_only);

// A resident as given in a request or pairing, with fields named "<prefix>.name" etc.:
// name and phone and community_id required, location required if `location_required`.
// Trims the name and normalises the phone in place.
void ResidentFields(FieldViolations& v, absl::string_view prefix, Resident& r,
                    bool location_required);

// A required enum of the engine (kUnspecified is missing, kUnknown is not a known value).
template <typename E>
void RequiredEnum(FieldViolations& v, absl::string_view field, E value) {
  if (value == E::kUnspecified) {
    v.Add(field, "is required");
  } else if (value == E::kUnknown) {
    v.Add(field, "is not a known value");
  }
}

// Limits shared by every resident record.
inline constexpr int kMaxNameChars = 64;
inline constexpr int kMaxAddressChars = 256;

}  // namespace yiyuan::checks

#endif  // YIYUAN_ENGINE_FIELD_CHECKS_H_
