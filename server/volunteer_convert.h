#ifndef YIYUAN_SERVER_VOLUNTEER_CONVERT_H_
#define YIYUAN_SERVER_VOLUNTEER_CONVERT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/candidate.h"
#include "engine/volunteer.h"
#include "google/protobuf/field_mask.pb.h"
#include "server/unit_store.h"
#include "server/volunteer_store.h"
#include "yiyuan/v1/unit.pb.h"
#include "yiyuan/v1/volunteer.pb.h"

// Conversion between the volunteer and unit APIs (yiyuan.v1) and the domain types. The
// only place that knows both.
namespace yiyuan {

// How much of a volunteer a caller may see (DESIGN.md section 7).
enum class VolunteerView {
  kFull,    // OPERATOR, ADMIN, the volunteer themself.
  kMasked,  // Other staff: phone masked; no live location.
  kKiosk,   // Kiosks: id, name, masked phone and points balance only.
};

// `p` when `present` (the message's has_ bit), else nullopt.
std::optional<LatLng> LocationFromProto(bool present, const v1::LatLng& p);

// The profile part of `p`; output-only fields are ignored. Enum numbers this build
// does not know become kUnknown (the validator rejects them).
VolunteerProfile ProfileFromProto(const v1::Volunteer& p);
void ToProto(const Volunteer& v, VolunteerView view, v1::Volunteer* out);

// Applies `mask` to `profile`, taking the new values from `in`. INVALID_ARGUMENT
// "update_mask" for an empty mask or a path that is unknown, output-only or immutable;
// PERMISSION_DENIED for "certificates" unless `may_set_certificates`. Returns the
// comma-separated list of changed field names.
absl::StatusOr<std::string> ApplyVolunteerMask(const google::protobuf::FieldMask& mask,
                                               const v1::Volunteer& in, bool may_set_certificates,
                                               VolunteerProfile& profile);

// ListVolunteers filters for `district`. INVALID_ARGUMENT naming the field for unknown
// enum values or malformed values.
absl::StatusOr<VolunteerFilter> FilterFromProto(const v1::ListVolunteersRequest& p,
                                                absl::string_view district);

UnitSpec UnitSpecFromProto(const v1::Unit& p);
void ToProto(const Unit& u, v1::Unit* out);
// Like ApplyVolunteerMask for units; `location_changed` is set when "location" is in
// the mask.
absl::Status ApplyUnitMask(const google::protobuf::FieldMask& mask, const v1::Unit& in,
                           UnitSpec& spec, bool& location_changed);
absl::StatusOr<UnitFilter> FilterFromProto(const v1::ListUnitsRequest& p,
                                           absl::string_view district);

Pairing PairingFromProto(const v1::CreatePairingRequest& p);
// The resident's phone and address are masked unless `unmasked`.
void ToProto(const Pairing& p, bool unmasked, v1::Pairing* out);

// The hard constraints of a FindNearbyVolunteers call. INVALID_ARGUMENT naming the
// field for malformed skills or unknown enum values.
absl::StatusOr<CandidateQuery> QueryFromProto(const v1::FindNearbyVolunteersRequest& p);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_VOLUNTEER_CONVERT_H_
