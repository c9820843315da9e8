#ifndef YIYUAN_CLIENTS_API_FORMAT_H_
#define YIYUAN_CLIENTS_API_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/text_table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "yiyuan/v1/admin.pb.h"
#include "yiyuan/v1/dispatch.pb.h"
#include "yiyuan/v1/intake.pb.h"
#include "yiyuan/v1/unit.pb.h"
#include "yiyuan/v1/volunteer.pb.h"

namespace yiyuan {

// API enums and messages as people read and type them.
//
// Enum values are typed in any case, with '-' or '_', and without the prefix some enums
// repeat in every value: role "intake" is ROLE_INTAKE, channel "walk-in" is WALK_IN, duty
// "on" is DUTY_ON, certificate "medical" is CERT_MEDICAL, unit kind "van" is UNIT_VAN.
// Output shows the upper-case short name ("INTAKE").

// The display name of `number` in `type`: the value's name without the enum's prefix
// (the longest prefix ending in '_' that every non-zero value shares); empty for the zero
// (UNSPECIFIED) value; the number itself when it is not in `type`.
std::string EnumName(const google::protobuf::EnumDescriptor& type, int number);

// The names `ParseEnum` accepts for `type`, lower case, e.g. "routine, urgent, crisis".
std::string EnumChoices(const google::protobuf::EnumDescriptor& type);

// Parses `text`, the value of the command-line flag --`flag`, as a value of `type`.
// Empty text is 0 (unset). INVALID_ARGUMENT naming the flag and listing the valid names
// when `text` is not a value of `type` or names the zero value.
absl::StatusOr<int> ParseEnum(absl::string_view flag, absl::string_view text,
                              const google::protobuf::EnumDescriptor& type);

// As ParseEnum, for input that is not a flag (e.g. a command's operand): the error names
// `what` as given, e.g. "duty status: unknown value ...".
absl::StatusOr<int> ParseEnumValue(absl::string_view what, absl::string_view text,
                                   const google::protobuf::EnumDescriptor& type);

// Parses `text`, the value of --`flag`, as a comma-separated list of values of `type`;
// empty items are skipped, so empty text is an empty list. INVALID_ARGUMENT as ParseEnum
// for the first item that is not a value of `type`.
absl::StatusOr<std::vector<int>> ParseEnumList(absl::string_view flag, absl::string_view text,
                                               const google::protobuf::EnumDescriptor& type);

// Parses `text`, the value of --`flag`, as weekly availability: comma-separated items
// "DAYS HH:MM-HH:MM", e.g. "mon 08:00-12:00,sat 09:00-17:00". DAYS is a day (mon..sun or
// monday..sunday, any case) or a range of days ("mon-fri", one slot per day; a range may
// wrap past Sunday). Times are Asia/Shanghai local time, as the server reads them; the
// end may be 24:00 and must be after the start, so an interval across midnight is two
// items ("fri 22:00-24:00,sat 00:00-02:00"). Empty text is no slots. INVALID_ARGUMENT
// naming the flag, the item and what is wrong with it otherwise. Overlaps and the number
// of slots are left to the server.
absl::StatusOr<std::vector<v1::AvailabilitySlot>> ParseAvailability(absl::string_view flag,
                                                                    absl::string_view text);

// `slots` the way ParseAvailability reads them, e.g. "mon 08:00-12:00, sat 09:00-17:00"; a
// day outside 1..7 shows as "day N".
std::string FormatAvailability(
    const google::protobuf::RepeatedPtrField<v1::AvailabilitySlot>& slots);

// A distance for people: "850.3 m" below one kilometre, "1.25 km" from there on.
std::string FormatDistance(double metres);

// `ms` since the epoch in the local time zone, "YYYY-MM-DD HH:MM" (`with_seconds`:
// "YYYY-MM-DD HH:MM:SS"); empty for 0.
std::string LocalTime(int64_t ms, bool with_seconds = false);

// A request as a "key: value" block, every field the server returned.
std::vector<Field> RequestFields(const v1::HelpRequest& request);

// Requests as a table: ID, STATE, URGENCY, CATEGORY, CHANNEL, COMMUNITY, RESIDENT (name
// and phone as returned, so masked for most roles), CREATED.
std::string RequestTable(const google::protobuf::RepeatedPtrField<v1::HelpRequest>& requests);

// A token's description as a "key: value" block.
std::vector<Field> TokenFields(const v1::TokenInfo& token);

// Tokens as a table: TOKEN_ID, NAME, ROLE, DISTRICT, SCOPE (kiosk or volunteer), CREATED,
// STATUS (active or revoked).
std::string TokenTable(const google::protobuf::RepeatedPtrField<v1::TokenInfo>& tokens);

// A volunteer as a "key: value" block, every field the server returned (a kiosk, for
// one, sees only the name, masked phone and points).
std::vector<Field> VolunteerFields(const v1::Volunteer& volunteer);

// Volunteers as a table: ID, NAME, PHONE (as returned, so masked for most roles),
// COMMUNITY, DUTY, SKILLS, CERTIFICATES (lower-case tokens, as typed), ACTIVE/CAP (open
// assignments / capacity), POINTS.
std::string VolunteerTable(const google::protobuf::RepeatedPtrField<v1::Volunteer>& volunteers);

// A unit (station, van or team) as a "key: value" block.
std::vector<Field> UnitFields(const v1::Unit& unit);

// Units as a table: ID, KIND, NAME, COMMUNITY, STATUS (active or inactive), ACTIVE/CAP,
// MEMBERS (how many), SKILLS, EQUIPMENT.
std::string UnitTable(const google::protobuf::RepeatedPtrField<v1::Unit>& units);

// FindNearbyVolunteers candidates, nearest first, as a table: RANK (from 1), ID, KIND
// (volunteer, station, van or team), NAME, DISTANCE (FormatDistance), CAP_LEFT, SKILLS
// (a volunteer's skills and certificate tokens; a unit's skills and equipment).
std::string NearbyTable(const google::protobuf::RepeatedPtrField<v1::NearbyCandidate>& candidates);

// A pairing as a "key: value" block; the resident as returned (masked for most roles).
std::vector<Field> PairingFields(const v1::Pairing& pairing);

// Parses `text` as a volunteer or unit: "v:ID" or "volunteer:ID", "u:ID" or "unit:ID"
// (the kind in any case). INVALID_ARGUMENT naming `what` as given (e.g. "--from") when
// the kind or the id is missing or the kind is neither.
absl::StatusOr<v1::Assignee> ParseAssignee(absl::string_view what, absl::string_view text);

// `assignee` the way ParseAssignee reads it: "v:wuxing-v1", "u:wuxing-van-3"; empty when
// neither is set.
std::string AssigneeText(const v1::Assignee& assignee);

// A span of time for people, rounded down: "45 s", "12 min", "3 h 05 min", "2 d 4 h";
// negative spans count as 0.
std::string FormatAge(int64_t ms);

// An ExplainMatch answer as text: a "key: value" block (request, urgency, state, radius
// searched); the ranked candidates as a table — RANK, ID (AssigneeText), NAME, DISTANCE,
// TRAVEL (minutes), COST, one column per cost component with its weighted value, named
// after the component (TRAVEL_TIME, SKILL_FIT for preferred_skill_fit, CONTINUITY,
// FAIRNESS, RELIABILITY, URGENCY), and OFFER (the state of an offer already made) —
// followed by one "why" line per candidate with the components' details; then, when the
// answer has any, the excluded candidates as a table: ID, NAME, DISTANCE, REASON, DETAIL.
std::string ExplainText(const v1::ExplainMatchResponse& explanation);

// The escalation queue as a table, most pressing first as returned: REQUEST, URGENCY,
// CATEGORY, COMMUNITY, RESIDENT, REASON, ROUNDS, DECLINED, EXPIRED, WAITING (FormatAge of
// now_ms - escalate_time_ms), DETAIL.
std::string EscalationTable(const google::protobuf::RepeatedPtrField<v1::Escalation>& escalations,
                            int64_t now_ms);

// An assignment as a "key: value" block; the resident as returned (contact details only
// for operators and the assignee while it is open).
std::vector<Field> AssignmentFields(const v1::Assignment& assignment);

// An offer as a "key: value" block.
std::vector<Field> OfferFields(const v1::Offer& offer);

// Offers as a table: OFFER, REQUEST, URGENCY, CATEGORY, COMMUNITY, DISTANCE, TRAVEL
// (minutes), ROUND, EXPIRES_IN (FormatAge of expire_time_ms - now_ms; "expired" once
// past), SUMMARY.
std::string OfferTable(const std::vector<v1::Offer>& offers, int64_t now_ms);

// One streamed offer message as one line, no '\n': local time of its state change,
// STATE, offer id, request id, urgency, category, distance, then per state: pending —
// "expires HH:MM:SS" and the summary; declined — the reason.
std::string OfferLine(const v1::Offer& offer);

// One event as one line, no '\n': local time (with seconds), TYPE (for a type this client
// does not know, the "type" attribute), request id, who (AssigneeText of the volunteer or
// unit), "offer=ID" and the other attributes as key=value sorted by key (values with
// spaces quoted), and the event id in brackets, e.g.
// "2024-06-10 14:03:12  OFFER_MADE  wuxing-12  v:wuxing-v1  offer=wuxing-12-o1 round=1
// [1718000592000-0]". Columns are padded to fixed widths so that lines mostly align.
std::string EventLine(const v1::Event& event);

}  // namespace yiyuan

#endif  // YIYUAN_CLIENTS_API_FORMAT_H_
