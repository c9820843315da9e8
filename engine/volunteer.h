#ifndef YIYUAN_ENGINE_VOLUNTEER_H_
#define YIYUAN_ENGINE_VOLUNTEER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/help_request.h"

namespace yiyuan {

// The domain model of the people and units who help (DESIGN.md section 3). Enum values
// match the numbers of the API enums; kUnknown stands for a number this build does not
// know.

enum class DutyStatus { kUnspecified = 0, kOff, kOn, kBusy, kUnknown };
enum class Certificate {
  kUnspecified = 0,
  kLicensedSocialWorker,
  kMedical,
  kNurse,
  kDriver,
  kCounsellor,
  kElectrician,
  kFirstAid,
  kElderCare,
  kLegalAid,
  kSignLanguage,
  kUnknown
};
enum class UnitKind { kUnspecified = 0, kStation, kVan, kTeam, kUnknown };

// Stable upper-case names as stored in Redis: "OFF"/"ON"/"BUSY", "MEDICAL", "VAN".
absl::string_view Name(DutyStatus v);
absl::string_view Name(Certificate v);
absl::string_view Name(UnitKind v);
// Any case; nullopt for unknown names.
std::optional<DutyStatus> ParseDutyStatus(absl::string_view name);
std::optional<Certificate> ParseCertificate(absl::string_view name);
std::optional<UnitKind> ParseUnitKind(absl::string_view name);
DutyStatus DutyStatusFromNumber(int n);
Certificate CertificateFromNumber(int n);
UnitKind UnitKindFromNumber(int n);

// The skill token a certificate satisfies: its name in lower case ("medical",
// "licensed_social_worker").
std::string CertificateToken(Certificate c);

// One weekly interval of availability in Asia/Shanghai local time (UTC+8, no DST).
struct AvailabilitySlot {
  int day_of_week = 0;   // ISO: 1 = Monday .. 7 = Sunday.
  int start_minute = 0;  // 0..1439.
  int end_minute = 0;    // Exclusive; start_minute+1..1440.
  friend bool operator==(const AvailabilitySlot& a, const AvailabilitySlot& b) {
    return a.day_of_week == b.day_of_week && a.start_minute == b.start_minute &&
           a.end_minute == b.end_minute;
  }
};

// True when `t` falls in one of `slots` (Asia/Shanghai time); an empty list means
// "whenever on duty" and is always true.
bool AvailableAt(const std::vector<AvailabilitySlot>& slots, absl::Time t);

// What a volunteer (or an operator for them) says about themself. All of it is the
// registration's identity for idempotency.
struct VolunteerProfile {
  std::string external_id;
  std::string name;
  std::string phone;  // Normalised once validated.
  std::string home_community_id;
  std::vector<std::string> skills;             // Sorted once validated.
  std::vector<Certificate> certificates;       // Sorted once validated.
  std::vector<std::string> languages;          // Sorted once validated.
  std::vector<AvailabilitySlot> availability;  // Sorted once validated.
  int capacity = 0;                            // 0 on input means 1.
};

// The skills and certificate tokens of `p`, sorted, without repeats: what required
// skills are matched against.
std::vector<std::string> CapabilityTokens(const VolunteerProfile& p);

// Dispatch statistics the server keeps about a volunteer.
struct VolunteerStats {
  int offers = 0;  // Offers received.
  int offers_accepted = 0;
  int offers_answered = 0;    // Accepted, declined or expired.
  int assignments_ended = 0;  // Completed, no-show or released.
  int completed = 0;
  int no_shows = 0;
  int recent_load = 0;  // Assignments accepted in the last 7 days.
  int active_assignments = 0;
  int64_t last_offer_time_ms = 0;
  int64_t minutes_served = 0;
  int64_t points_balance = 0;
};

// A registered volunteer as stored.
struct Volunteer {
  std::string id;  // "<district>-v<n>".
  std::string district;
  VolunteerProfile profile;
  DutyStatus duty = DutyStatus::kOff;
  std::optional<LatLng> location;  // Only while on duty (ON or BUSY).
  int64_t location_time_ms = 0;
  std::vector<std::string> team_ids;
  VolunteerStats stats;
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
  // Bumped by every change (profile, duty, location); orders copies of the record.
  int64_t revision = 0;
};

// A station, van or team as its operator describes it.
struct UnitSpec {
  UnitKind kind = UnitKind::kUnspecified;
  std::string name;
  std::optional<LatLng> location;
  std::string community_id;
  std::string compound_id;
  std::string address;
  std::string phone;
  std::vector<std::string> member_volunteer_ids;
  std::string leader_volunteer_id;
  int capacity = 0;  // 0 on input means 1.
  std::vector<std::string> skills;
  std::vector<std::string> equipment;
  bool active = false;
};

// The skills and equipment of `u`, sorted, without repeats.
std::vector<std::string> CapabilityTokens(const UnitSpec& u);

struct Unit {
  std::string id;  // "<district>-u<n>" or "<district>-<client id>".
  std::string district;
  UnitSpec spec;
  int64_t location_time_ms = 0;
  int active_assignments = 0;
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
  int64_t revision = 0;
};

// A standing pairing of a volunteer with a resident.
struct Pairing {
  std::string id;  // "<district>-p<n>".
  std::string district;
  std::string volunteer_id;
  Resident resident;
  Recurrence recurrence = Recurrence::kUnspecified;
  std::string notes;
  bool active = true;
  int64_t create_time_ms = 0;
};

// The district part of an id made by this system ("wuxing-v3" -> "wuxing"; districts
// hold no '-'), or empty when there is no '-'.
absl::string_view DistrictPrefix(absl::string_view id);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_VOLUNTEER_H_
