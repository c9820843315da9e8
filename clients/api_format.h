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
#include "yiyuan/v1/intake.pb.h"

namespace yiyuan {

// API enums and messages as people read and type them.
//
// Enum values are typed in any case, with '-' or '_', and without the prefix some enums
// repeat in every value: role "intake" is ROLE_INTAKE, channel "walk-in" is WALK_IN.
// Output shows the upper-case short name ("INTAKE").

// The display name of `number` in `type`: the value's name without the enum's prefix;
// empty for the zero (UNSPECIFIED) value; the number itself when it is not in `type`.
std::string EnumName(const google::protobuf::EnumDescriptor& type, int number);

// The names `ParseEnum` accepts for `type`, lower case, e.g. "routine, urgent, crisis".
std::string EnumChoices(const google::protobuf::EnumDescriptor& type);

// Parses `text`, the value of the command-line flag --`flag`, as a value of `type`.
// Empty text is 0 (unset). INVALID_ARGUMENT naming the flag and listing the valid names
// when `text` is not a value of `type` or names the zero value.
absl::StatusOr<int> ParseEnum(absl::string_view flag, absl::string_view text,
                              const google::protobuf::EnumDescriptor& type);

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

}  // namespace yiyuan

#endif  // YIYUAN_CLIENTS_API_FORMAT_H_
