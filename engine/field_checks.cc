#include "engine/field_checks.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/phone.h"

namespace yiyuan::checks {
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

bool IsIdChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

}  // namespace

void Text(FieldViolations& v, absl::string_view field, absl::string_view value, int max_chars,
          bool required) {
  int n = CountChars(value);
  if (n < 0) {
    v.Add(field, "must be valid UTF-8 text without control characters");
  } else if (n > max_chars) {
    v.Add(field, absl::StrCat("must be at most ", max_chars, " characters (got ", n, ")"));
  } else if (required && absl::StripAsciiWhitespace(value).empty()) {
    v.Add(field, "is required");
  }
}

void Id(FieldViolations& v, absl::string_view field, absl::string_view value, size_t max_len,
        bool required) {
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

void District(FieldViolations& v, absl::string_view field, absl::string_view value) {
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

void Tokens(FieldViolations& v, absl::string_view field, std::vector<std::string>& tokens,
            int max_count, size_t max_len) {
  if (static_cast<int>(tokens.size()) > max_count) {
    v.Add(field, absl::StrCat("must hold at most ", max_count, " entries"));
    return;
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& s = tokens[i];
    s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
    std::string path = absl::StrCat(field, "[", i, "]");
    Id(v, path, s, max_len, /*required=*/true);
    for (size_t j = 0; j < i; ++j) {
      if (tokens[j] == s) {
        v.Add(path, absl::StrCat("repeats \"", s, "\""));
        break;
      }
    }
  }
}

void Location(FieldViolations& v, absl::string_view field, const std::optional<LatLng>& p,
              bool required) {
  if (!p.has_value()) {
    if (required) v.Add(field, "is required");
    return;
  }
  if (!std::isfinite(p->lat) || p->lat < -90 || p->lat > 90) {
    v.Add(absl::StrCat(field, ".lat"), "must be between -90 and 90");
  }
  if (!std::isfinite(p->lng) || p->lng < -180 || p->lng > 180) {
    v.Add(absl::StrCat(field, ".lng"), "must be between -180 and 180");
  }
  if (p->lat == 0 && p->lng == 0) v.Add(field, "is 0,0: the location was not set");
}

void Phone(FieldViolations& v, absl::string_view field, std::string& phone, bool required,
           bool mobile_only) {
  if (phone.empty()) {
    if (required) v.Add(field, "is required");
    return;
  }
  std::optional<std::string> p = NormalizePhone(phone);
  if (p.has_value() && (!mobile_only || (*p)[0] == '1')) {
    phone = *p;
  } else if (mobile_only) {
    v.Add(field, "must be an 11-digit mobile number (1[3-9]...)");
  } else {
    v.Add(field, "must be an 11-digit mobile number (1[3-9]...) or a landline with area code");
  }
}

void ResidentFields(FieldViolations& v, absl::string_view prefix, Resident& r,
                    bool location_required) {
  auto path = [&](absl::string_view f) { return absl::StrCat(prefix, ".", f); };
  r.name = std::string(absl::StripAsciiWhitespace(r.name));
  Text(v, path("name"), r.name, kMaxNameChars, /*required=*/true);
  Phone(v, path("phone"), r.phone, /*required=*/true, /*mobile_only=*/false);
  Text(v, path("address"), r.address, kMaxAddressChars, /*required=*/false);
  Location(v, path("location"), r.location, location_required);
  Id(v, path("community_id"), r.community_id, 64, /*required=*/true);
  Id(v, path("compound_id"), r.compound_id, 64, /*required=*/false);
}

}  // namespace yiyuan::checks
