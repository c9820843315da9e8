#ifndef YIYUAN_SERVER_DISPATCH_CONVERT_H_
#define YIYUAN_SERVER_DISPATCH_CONVERT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "engine/help_request.h"
#include "engine/offer.h"
#include "engine/scorer.h"
#include "server/dispatch_store.h"
#include "server/redis_fields.h"
#include "yiyuan/v1/dispatch.pb.h"
#include "yiyuan/v1/volunteer.pb.h"

// Conversions between the dispatch domain (offers, assignments, explanations, events)
// and the API messages of VolunteerService and DispatchService.
namespace yiyuan {

// The static part of an offer of `r` to `to` (what and roughly where, never the
// resident's phone or exact address), serialised: what OfferRecord::doc holds.
std::string OfferDocument(const HelpRequest& r, const AssigneeRef& to, double distance_m,
                          int travel_time_s, absl::string_view mobilization_id);
// The description shortened to 140 characters (whole UTF-8 characters), with every run
// of 7 or more digits masked so that no phone number leaks into an offer.
std::string OfferSummary(absl::string_view description);
// The full API message of a stored offer.
void ToProto(const OfferRecord& o, v1::Offer* out);
// The API message of one inbox stream entry (see lua/dispatch_lib.lua inbox_push).
void OfferFromInbox(absl::string_view district, absl::string_view stream_id,
                    const HashFields& entry, v1::Offer* out);

void ToProto(const AssigneeRef& a, v1::Assignee* out);
// INVALID_ARGUMENT naming `field` unless exactly one id is set and well formed.
absl::StatusOr<AssigneeRef> AssigneeFromProto(absl::string_view field, const v1::Assignee& a);

// An assignment; the resident's contact details only when `unmasked`.
void ToProto(const AssignmentRecord& a, const HelpRequest* request, bool unmasked,
             v1::Assignment* out);

void ToProto(const ScoredCandidate& c, int rank, v1::RankedCandidate* out);
void ToProto(const ExcludedCandidate& c, v1::ExcludedCandidate* out);

// The API event of a district stream entry; false for internal entries clients do not
// see.
bool EventFromStream(absl::string_view district, absl::string_view stream_id,
                     const HashFields& entry, v1::Event* out);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_DISPATCH_CONVERT_H_
