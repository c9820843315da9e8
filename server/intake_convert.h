#ifndef YIYUAN_SERVER_INTAKE_CONVERT_H_
#define YIYUAN_SERVER_INTAKE_CONVERT_H_

#include "absl/status/statusor.h"
#include "engine/help_request.h"
#include "server/request_store.h"
#include "yiyuan/v1/intake.pb.h"

// Conversion between the intake API (yiyuan.v1) and the domain types. The only place
// that knows both.
namespace yiyuan {

Resident ResidentFromProto(const v1::Resident& r);
// `r` as the API shows it; when `unmasked` is false the phone is masked and the street
// address replaced by the compound id (DESIGN.md section 7).
void ToProto(const Resident& r, bool unmasked, v1::Resident* out);

// The content of a submitted request; output-only fields are ignored. Enum numbers this
// build does not know become kUnknown (the validator rejects them).
RequestContent ContentFromProto(const v1::HelpRequest& p);

// `r` as the API shows it. When `unmasked` is false the resident's phone is masked and
// the street address replaced by the compound id (DESIGN.md section 7).
void ToProto(const HelpRequest& r, bool unmasked, v1::HelpRequest* out);

// The filter of a ListRequests call, for `district`. INVALID_ARGUMENT naming the field
// for unknown enum values or a bad community id or time range.
absl::StatusOr<RequestFilter> FilterFromProto(const v1::ListRequestsRequest& p,
                                              absl::string_view district);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_INTAKE_CONVERT_H_
