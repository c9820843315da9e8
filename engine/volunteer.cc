#include "engine/volunteer.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "engine/enum_names.h"

namespace yiyuan {
namespace {

using enum_names::FromNumber;
using enum_names::NameOf;
using enum_names::Parse;

constexpr std::array<absl::string_view, 5> kDutyNames = {"DUTY_STATUS_UNSPECIFIED", "OFF", "ON",
                                                         "BUSY", "UNKNOWN"};
constexpr std::array<absl::string_view, 12> kCertificateNames = {"CERTIFICATE_UNSPECIFIED",
                                                                 "LICENSED_SOCIAL_WORKER",
                                                                 "MEDICAL",
                                                                 "NURSE",
                                                                 "DRIVER",
                                                                 "COUNSELLOR",
                                                                 "ELECTRICIAN",
                                                                 "FIRST_AID",
                                                                 "ELDER_CARE",
                                                                 "LEGAL_AID",
                                                                 "SIGN_LANGUAGE",
                                                                 "UNKNOWN"};
constexpr std::array<absl::string_view, 5> kUnitKindNames = {"UNIT_KIND_UNSPECIFIED", "STATION",
                                                             "VAN", "TEAM", "UNKNOWN"};

// Asia/Shanghai has been UTC+8 without daylight saving since 1991.
constexpr int64_t kShanghaiOffsetSeconds = 8 * 3600;

std::vector<std::string> SortedUnique(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

absl::string_view Name(DutyStatus v) { return NameOf(kDutyNames, v); }
absl::string_view Name(Certificate v) { return NameOf(kCertificateNames, v); }
absl::string_view Name(UnitKind v) { return NameOf(kUnitKindNames, v); }
std::optional<DutyStatus> ParseDutyStatus(absl::string_view n) {
  return Parse<DutyStatus>(kDutyNames, n);
}
std::optional<Certificate> ParseCertificate(absl::string_view n) {
  return Parse<Certificate>(kCertificateNames, n);
}
std::optional<UnitKind> ParseUnitKind(absl::string_view n) {
  return Parse<UnitKind>(kUnitKindNames, n);
}
DutyStatus DutyStatusFromNumber(int n) { return FromNumber<DutyStatus>(kDutyNames, n); }
Certificate CertificateFromNumber(int n) { return FromNumber<Certificate>(kCertificateNames, n); }
UnitKind UnitKindFromNumber(int n) { return FromNumber<UnitKind>(kUnitKindNames, n); }

std::string CertificateToken(Certificate c) { return absl::AsciiStrToLower(Name(c)); }

bool AvailableAt(const std::vector<AvailabilitySlot>& slots, absl::Time t) {
  if (slots.empty()) return true;
  int64_t local = absl::ToUnixSeconds(t) + kShanghaiOffsetSeconds;
  int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  int minute = static_cast<int>((local - days * 86400) / 60);
  // 1970-01-01 was a Thursday (ISO day 4).
  int day = static_cast<int>(((days % 7) + 7 + 3) % 7) + 1;
  for (const AvailabilitySlot& s : slots) {
    if (s.day_of_week == day && s.start_minute <= minute && minute < s.end_minute) return true;
  }
  return false;
}

std::vector<std::string> CapabilityTokens(const VolunteerProfile& p) {
  std::vector<std::string> t = p.skills;
  for (Certificate c : p.certificates) t.push_back(CertificateToken(c));
  return SortedUnique(std::move(t));
}

std::vector<std::string> CapabilityTokens(const UnitSpec& u) {
  std::vector<std::string> t = u.skills;
  t.insert(t.end(), u.equipment.begin(), u.equipment.end());
  return SortedUnique(std::move(t));
}

absl::string_view DistrictPrefix(absl::string_view id) {
  size_t dash = id.find('-');
  return dash == absl::string_view::npos ? absl::string_view() : id.substr(0, dash);
}

}  // namespace yiyuan
