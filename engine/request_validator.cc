#include "engine/request_validator.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/field_violations.h"
#include "engine/phone.h"

namespace yiyuan {
namespace {

// Counts UTF-8 code points, or returns -1 for invalid UTF-8 or a control character
// other than tab and newline.
int CountChars(absl::string_view s) {
  int count = 0;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return -1;
    }
    if (i + len > s.size()) return -1;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLen[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLen[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F) return -1;
    i += len;
    ++count;
  }
  return count;
}

void CheckText(FieldViolations& v, absl::string_view field, absl::string_view value,
               int max_chars, bool required) {
  int n = CountChars(value);
  if (n < 0) {
    v.Add(field, "must be valid UTF-8 text without control characters");
  } else if (n > max_chars) {
    v.Add(field, absl::StrCat("must be at most ", max_chars, " characters (got ", n, ")"));
  } else if (required && absl::StripAsciiWhitespace(value).empty()) {
    v.Add(field, "is required");
  }
}

bool IsIdChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

void CheckId(FieldViolations& v, absl::string_view field, absl::string_view value,
             size_t max_len, bool required) {
  if (value.empty()) {
    if (required) v.Add(field, "is required");
    return;
  }
  if (value.size() > max_len) {
    v.Add(field, absl::StrCat("must be at most ", max_len, " characters"));
    return;
  }
  for (char c : value) {
    if (!IsIdChar(c)) {
      v.Add(field, "may hold only letters, digits, '-' and '_'");
      return;
    }
  }
}

void CheckDistrict(FieldViolations& v, absl::string_view field, absl::string_view value) {
  if (value.empty()) {
    v.Add(field, "is required");
    return;
  }
  if (value.size() > 32) {
    v.Add(field, "must be at most 32 characters");
    return;
  }
  for (char c : value) {
    if (!absl::ascii_islower(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      v.Add(field, "may hold only lower-case letters and digits");
      return;
    }
  }
}

void NormalizeSkills(FieldViolations& v, absl::string_view field,
                     std::vector<std::string>& skills, int max_skills) {
  if (static_cast<int>(skills.size()) > max_skills) {
    v.Add(field, absl::StrCat("must hold at most ", max_skills, " skills"));
    return;
  }
  for (size_t i = 0; i < skills.size(); ++i) {
    std::string& s = skills[i];
    s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
    std::string path = absl::StrCat(field, "[", i, "]");
    CheckId(v, path, s, 32, /*required=*/true);
    for (size_t j = 0; j < i; ++j) {
      if (skills[j] == s) {
        v.Add(path, absl::StrCat("repeats \"", s, "\""));
        break;
      }
    }
  }
}

template <typename E>
void CheckEnum(FieldViolations& v, absl::string_view field, E value) {
  if (value == E::kUnspecified) {
    v.Add(field, "is required");
  } else if (value == E::kUnknown) {
    v.Add(field, "is not a known value");
  }
}

}  // namespace

absl::Status ValidateId(absl::string_view field, absl::string_view value, size_t max_len) {
  FieldViolations v;
  CheckId(v, field, value, max_len, /*required=*/true);
  return v.ToStatus();
}

absl::Status ValidateDistrict(absl::string_view field, absl::string_view value) {
  FieldViolations v;
  CheckDistrict(v, field, value);
  return v.ToStatus();
}

absl::Status ValidateText(absl::string_view field, absl::string_view value, int max_chars,
                          bool required) {
  FieldViolations v;
  CheckText(v, field, value, max_chars, required);
  return v.ToStatus();
}

absl::Status ValidateNewRequest(absl::string_view request_id, absl::string_view district,
                                RequestContent& c, absl::Time now,
                                const RequestLimits& limits) {
  FieldViolations v;
  if (request_id.size() < 8 && !request_id.empty()) {
    v.Add("request_id", "must be at least 8 characters (use a UUID)");
  } else {
    CheckId(v, "request_id", request_id, 64, /*required=*/true);
  }
  CheckDistrict(v, "district", district);

  CheckEnum(v, "request.channel", c.channel);
  CheckEnum(v, "request.category", c.category);
  CheckEnum(v, "request.urgency", c.urgency);
  if (c.recurrence == Recurrence::kUnspecified) {
    c.recurrence = Recurrence::kOnce;
  } else if (c.recurrence == Recurrence::kUnknown) {
    v.Add("request.recurrence", "is not a known value");
  }

  bool needs_station = c.channel == Channel::kStation || c.channel == Channel::kSweep;
  CheckId(v, "request.intake.station_id", c.station_id, 64, needs_station);
  CheckId(v, "request.intake.operator_id", c.operator_id, 64, /*required=*/false);

  Resident& r = c.resident;
  r.name = std::string(absl::StripAsciiWhitespace(r.name));
  CheckText(v, "request.resident.name", r.name, limits.max_name_chars, /*required=*/true);
  if (r.phone.empty()) {
    v.Add("request.resident.phone", "is required");
  } else if (std::optional<std::string> p = NormalizePhone(r.phone)) {
    r.phone = *p;
  } else {
    v.Add("request.resident.phone",
          "must be an 11-digit mobile number (1[3-9]...) or a landline with area code");
  }
  CheckText(v, "request.resident.address", r.address, limits.max_address_chars,
            /*required=*/false);
  if (!r.location.has_value()) {
    v.Add("request.resident.location", "is required");
  } else {
    const LatLng& p = *r.location;
    if (!std::isfinite(p.lat) || p.lat < -90 || p.lat > 90) {
      v.Add("request.resident.location.lat", "must be between -90 and 90");
    }
    if (!std::isfinite(p.lng) || p.lng < -180 || p.lng > 180) {
      v.Add("request.resident.location.lng", "must be between -180 and 180");
    }
    if (p.lat == 0 && p.lng == 0) {
      v.Add("request.resident.location", "is 0,0: the location was not set");
    }
  }
  CheckId(v, "request.resident.community_id", r.community_id, 64, /*required=*/true);
  CheckId(v, "request.resident.compound_id", r.compound_id, 64, /*required=*/false);

  CheckText(v, "request.description", c.description, limits.max_description_chars,
            /*required=*/false);
  NormalizeSkills(v, "request.required_skills", c.required_skills, limits.max_skills);
  NormalizeSkills(v, "request.preferred_skills", c.preferred_skills, limits.max_skills);

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
