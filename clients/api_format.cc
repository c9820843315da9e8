#include "clients/api_format.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace yiyuan {
namespace {

using google::protobuf::EnumDescriptor;

// `name` without the prefix its enum repeats in every value: ROLE_INTAKE is INTAKE. The
// prefix is the zero value's (ROLE_ of ROLE_UNSPECIFIED); a name without it (HOTLINE under
// CHANNEL_UNSPECIFIED) comes back whole.
std::string ShortName(const EnumDescriptor& type, const std::string& name) {
  absl::string_view prefix = type.value(0)->name();
  absl::ConsumeSuffix(&prefix, "UNSPECIFIED");
  absl::string_view short_name = name;
  absl::ConsumePrefix(&short_name, prefix);
  return std::string(short_name);
}

std::string ResidentSummary(const v1::Resident& resident) {
  return std::string(
      absl::StripAsciiWhitespace(absl::StrCat(resident.name(), " ", resident.phone())));
}

std::string Vulnerabilities(const v1::Resident& resident) {
  std::vector<std::string> out;
  if (resident.lives_alone()) out.push_back("lives alone");
  if (resident.high_age()) out.push_back("high age (80+)");
  if (resident.disabled()) out.push_back("disabled");
  return absl::StrJoin(out, ", ");
}

std::string Window(const v1::HelpRequest& request) {
  if (!request.has_window()) return "";
  const v1::TimeWindow& w = request.window();
  std::string start = w.start_ms() == 0 ? "now" : LocalTime(w.start_ms());
  std::string end = w.end_ms() == 0 ? "no deadline" : LocalTime(w.end_ms());
  return absl::StrCat(start, " .. ", end);
}

}  // namespace

std::string LocalTime(int64_t ms, bool with_seconds) {
  if (ms == 0) return "";
  return absl::FormatTime(with_seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M",
                          absl::FromUnixMillis(ms), absl::LocalTimeZone());
}

std::string EnumName(const EnumDescriptor& type, int number) {
  if (number == 0) return "";
  const google::protobuf::EnumValueDescriptor* value = type.FindValueByNumber(number);
  return value == nullptr ? absl::StrCat(number) : ShortName(type, value->name());
}

std::string EnumChoices(const EnumDescriptor& type) {
  std::vector<std::string> names;
  for (int i = 0; i < type.value_count(); ++i) {
    if (type.value(i)->number() == 0) continue;
    names.push_back(absl::AsciiStrToLower(ShortName(type, type.value(i)->name())));
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<int> ParseEnum(absl::string_view flag, absl::string_view text,
                              const EnumDescriptor& type) {
  if (text.empty()) return 0;
  std::string name = absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{"-", "_"}}));
  for (int i = 0; i < type.value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = type.value(i);
    if (value->number() != 0 && (value->name() == name || ShortName(type, value->name()) == name)) {
      return value->number();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": unknown value \"", text, "\"; valid: ", EnumChoices(type)));
}

std::vector<Field> RequestFields(const v1::HelpRequest& r) {
  const v1::Resident& resident = r.resident();
  std::string location;
  if (resident.has_location()) {
    location = absl::StrFormat("%.8g, %.8g", resident.location().lat(), resident.location().lng());
  }
  return {
      {"id", r.id()},
      {"state", EnumName(*v1::RequestState_descriptor(), r.state())},
      {"district", r.district()},
      {"channel", EnumName(*v1::Channel_descriptor(), r.channel())},
      {"category", EnumName(*v1::Category_descriptor(), r.category())},
      {"urgency", EnumName(*v1::Urgency_descriptor(), r.urgency())},
      {"headcount", r.headcount() == 0 ? "" : absl::StrCat(r.headcount())},
      {"resident", ResidentSummary(resident)},
      {"address", resident.address()},
      {"location", location},
      {"community", resident.community_id()},
      {"compound", resident.compound_id()},
      {"needs", Vulnerabilities(resident)},
      {"description", r.description()},
      {"required skills", absl::StrJoin(r.required_skills(), ", ")},
      {"preferred skills", absl::StrJoin(r.preferred_skills(), ", ")},
      {"window", Window(r)},
      {"recurrence", EnumName(*v1::Recurrence_descriptor(), r.recurrence())},
      {"station", r.intake().station_id()},
      {"operator", r.intake().operator_id()},
      {"cancel reason", r.cancel_reason()},
      {"created", LocalTime(r.create_time_ms(), /*with_seconds=*/true)},
      {"updated", LocalTime(r.update_time_ms(), /*with_seconds=*/true)},
      {"request id", r.request_id()},
  };
}

std::string RequestTable(const google::protobuf::RepeatedPtrField<v1::HelpRequest>& requests) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::HelpRequest& r : requests) {
    rows.push_back({r.id(), EnumName(*v1::RequestState_descriptor(), r.state()),
                    EnumName(*v1::Urgency_descriptor(), r.urgency()),
                    EnumName(*v1::Category_descriptor(), r.category()),
                    EnumName(*v1::Channel_descriptor(), r.channel()), r.resident().community_id(),
                    ResidentSummary(r.resident()), LocalTime(r.create_time_ms())});
  }
  return FormatTable(
      {"ID", "STATE", "URGENCY", "CATEGORY", "CHANNEL", "COMMUNITY", "RESIDENT", "CREATED"}, rows);
}

std::vector<Field> TokenFields(const v1::TokenInfo& t) {
  return {
      {"token id", t.token_id()},
      {"name", t.name()},
      {"role", EnumName(*v1::Role_descriptor(), t.role())},
      {"district", t.district()},
      {"kiosk", t.kiosk_id()},
      {"volunteer", t.volunteer_id()},
      {"created", LocalTime(t.create_time_ms(), /*with_seconds=*/true)},
      {"status", t.revoked() ? "revoked" : "active"},
  };
}

std::string TokenTable(const google::protobuf::RepeatedPtrField<v1::TokenInfo>& tokens) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::TokenInfo& t : tokens) {
    std::string scope = !t.kiosk_id().empty()       ? absl::StrCat("kiosk ", t.kiosk_id())
                        : !t.volunteer_id().empty() ? absl::StrCat("volunteer ", t.volunteer_id())
                                                    : "";
    rows.push_back({t.token_id(), t.name(), EnumName(*v1::Role_descriptor(), t.role()),
                    t.district(), scope, LocalTime(t.create_time_ms()),
                    t.revoked() ? "revoked" : "active"});
  }
  return FormatTable({"TOKEN_ID", "NAME", "ROLE", "DISTRICT", "SCOPE", "CREATED", "STATUS"}, rows);
}

}  // namespace yiyuan
