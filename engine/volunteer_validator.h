#ifndef YIYUAN_ENGINE_VOLUNTEER_VALIDATOR_H_
#define YIYUAN_ENGINE_VOLUNTEER_VALIDATOR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/volunteer.h"

namespace yiyuan {

// Limits on volunteers and units; the defaults are what the API documents.
struct VolunteerLimits {
  int max_skills = 32;
  int max_languages = 8;
  int max_slots = 28;
  int max_volunteer_capacity = 10;
  int max_unit_capacity = 100;
  int max_members = 500;
  int max_notes_chars = 1000;
};

// Checks a volunteer's profile and normalises it in place: phone to digits, names
// trimmed, skills lower case; skills, certificates, languages and availability sorted
// (so equal profiles compare equal); capacity 0 becomes 1. Fields are named
// "<prefix>.phone", "<prefix>.availability[2].end_minute", ... INVALID_ARGUMENT listing
// every bad field, else OK.
absl::Status ValidateVolunteerProfile(absl::string_view prefix, VolunteerProfile& p,
                                      const VolunteerLimits& limits = {});

// Checks a unit as created or updated, normalising it the same way. Member ids must look
// like volunteer ids of `district` (whether they exist is the store's question).
absl::Status ValidateUnitSpec(absl::string_view prefix, absl::string_view district, UnitSpec& u,
                              const VolunteerLimits& limits = {});

// Checks a new pairing (volunteer_id, resident, recurrence, notes) and normalises it;
// recurrence unset stays unset (no fixed schedule).
absl::Status ValidatePairing(absl::string_view district, Pairing& p,
                             const VolunteerLimits& limits = {});

// The district of a volunteer id "<district>-v<n>", or INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> DistrictOfVolunteerId(absl::string_view field, absl::string_view id);
// The district of a unit id "<district>-<rest>", or INVALID_ARGUMENT naming `field`.
absl::StatusOr<std::string> DistrictOfUnitId(absl::string_view field, absl::string_view id);

// Checks a client-chosen unit id: 3..64 letters, digits, '-' and '_', and not of the
// server-assigned forms "u<n>", "v<n>" and "p<n>".
absl::Status ValidateClientUnitId(absl::string_view field, absl::string_view id);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_VOLUNTEER_VALIDATOR_H_
