#include "clients/api_format.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace yiyuan {
namespace {

using google::protobuf::EnumDescriptor;

// The prefix `type` repeats in every value: the longest prefix ending in '_' that all its
// non-zero values share (ROLE_ of ROLE_INTAKE, DUTY_ of DUTY_ON, CERT_ of CERT_MEDICAL;
// none for HOTLINE, APP, ...). With a single non-zero value there is nothing to compare,
// so it is the zero value's name less UNSPECIFIED.
std::string EnumPrefix(const EnumDescriptor& type) {
  absl::optional<absl::string_view> common;
  int compared = 0;
  for (int i = 0; i < type.value_count(); ++i) {
    if (type.value(i)->number() == 0) continue;
    absl::string_view name = type.value(i)->name();
    if (!common.has_value()) {
      common = name;
    } else {
      size_t n = 0;
      while (n < common->size() && n < name.size() && (*common)[n] == name[n]) ++n;
      common = common->substr(0, n);
    }
    ++compared;
  }
  if (compared < 2) {
    absl::string_view zero = type.value(0)->name();
    absl::ConsumeSuffix(&zero, "UNSPECIFIED");
    return std::string(zero);
  }
  size_t underscore = common->rfind('_');
  return underscore == absl::string_view::npos ? ""
                                               : std::string(common->substr(0, underscore + 1));
}

// `name` without the prefix its enum repeats in every value: ROLE_INTAKE is INTAKE; a
// name without it comes back whole.
std::string ShortName(const EnumDescriptor& type, const std::string& name) {
  absl::string_view short_name = name;
  absl::ConsumePrefix(&short_name, EnumPrefix(type));
  return std::string(short_name);
}

std::string LatLngText(const v1::LatLng& at) {
  return absl::StrFormat("%.8g, %.8g", at.lat(), at.lng());
}

// Lower-case tokens of certificates, as typed and as matched against skills: "medical".
std::vector<std::string> CertificateTokens(const google::protobuf::RepeatedField<int>& certs) {
  std::vector<std::string> out;
  for (int c : certs) {
    out.push_back(absl::AsciiStrToLower(EnumName(*v1::Certificate_descriptor(), c)));
  }
  return out;
}

// A count as text, empty for 0 so that a block leaves it out (roles that see less of a
// record get zeros for what they do not see).
std::string NonZero(int64_t n) { return n == 0 ? "" : absl::StrCat(n); }

// "open/capacity", e.g. "1/3".
std::string Load(int active, int capacity) { return absl::StrCat(active, "/", capacity); }

constexpr absl::string_view kDays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr absl::string_view kDayNames[] = {"monday", "tuesday",  "wednesday", "thursday",
                                           "friday", "saturday", "sunday"};

// 1 (Monday) .. 7 (Sunday) for a day's name or abbreviation in any case; 0 for anything
// else.
int ParseDay(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (int i = 0; i < 7; ++i) {
    if (lower == kDays[i] || lower == kDayNames[i]) return i + 1;
  }
  return 0;
}

std::string DayName(int day) {
  return day >= 1 && day <= 7 ? std::string(kDays[day - 1]) : absl::StrCat("day ", day);
}

int NextDay(int day) { return day % 7 + 1; }

// Minutes after midnight of "H:MM" or "HH:MM", 00:00..24:00; nullopt when malformed.
absl::optional<int> ParseClock(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  if (parts.size() != 2 || parts[0].empty() || parts[0].size() > 2 || parts[1].size() != 2) {
    return absl::nullopt;
  }
  for (absl::string_view part : parts) {
    for (char c : part) {
      if (!absl::ascii_isdigit(c)) return absl::nullopt;
    }
  }
  int hour = 0;
  int minute = 0;
  if (!absl::SimpleAtoi(parts[0], &hour) || !absl::SimpleAtoi(parts[1], &minute)) {
    return absl::nullopt;
  }
  if (minute > 59 || hour > 24 || (hour == 24 && minute != 0)) return absl::nullopt;
  return hour * 60 + minute;
}

std::string Clock(int minutes) { return absl::StrFormat("%02d:%02d", minutes / 60, minutes % 60); }

// "mon" or "mon-fri".
std::string Days(int first, int last) {
  return first == last ? DayName(first) : absl::StrCat(DayName(first), "-", DayName(last));
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

// Minutes of travel with one decimal, "4.2"; empty for 0.
std::string TravelMinutes(int travel_time_s) {
  return travel_time_s == 0 ? "" : absl::StrFormat("%.1f", travel_time_s / 60.0);
}

// A component's column title: its name in upper case, preferred_skill_fit shortened.
std::string ComponentTitle(const std::string& name) {
  if (name == "preferred_skill_fit") return "SKILL_FIT";
  return absl::AsciiStrToUpper(name);
}

// An attribute value for a key=value list: quoted when it has spaces, '"' or '=' or is
// empty.
std::string AttributeValue(const std::string& value) {
  if (!value.empty() && value.find_first_of(" \t\"=") == std::string::npos) return value;
  return absl::StrCat("\"", absl::StrReplaceAll(value, {{"\"", "\\\""}}), "\"");
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
  return ParseEnumValue(absl::StrCat("--", flag), text, type);
}

absl::StatusOr<int> ParseEnumValue(absl::string_view what, absl::string_view text,
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
      absl::StrCat(what, ": unknown value \"", text, "\"; valid: ", EnumChoices(type)));
}

absl::StatusOr<std::vector<int>> ParseEnumList(absl::string_view flag, absl::string_view text,
                                               const EnumDescriptor& type) {
  std::vector<int> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    absl::StatusOr<int> value = ParseEnum(flag, absl::StripAsciiWhitespace(item), type);
    if (!value.ok()) return value.status();
    out.push_back(*value);
  }
  return out;
}

absl::StatusOr<std::vector<v1::AvailabilitySlot>> ParseAvailability(absl::string_view flag,
                                                                    absl::string_view text) {
  std::vector<v1::AvailabilitySlot> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": \"", item, "\": ", why));
    };
    std::vector<absl::string_view> words =
        absl::StrSplit(item, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.size() != 2) {
      return bad("expected DAYS HH:MM-HH:MM, e.g. \"mon 08:00-12:00\" or \"mon-fri 09:00-17:00\"");
    }
    std::vector<absl::string_view> days = absl::StrSplit(words[0], absl::MaxSplits('-', 1));
    const int first = ParseDay(days[0]);
    const int last = days.size() == 2 ? ParseDay(days[1]) : first;
    if (first == 0 || last == 0) {
      return bad(absl::StrCat("unknown day \"", first == 0 ? days[0] : days[1],
                              "\"; days are mon, tue, wed, thu, fri, sat, sun or a range such as "
                              "mon-fri"));
    }
    std::vector<absl::string_view> times = absl::StrSplit(words[1], absl::MaxSplits('-', 1));
    absl::optional<int> start = ParseClock(times[0]);
    absl::optional<int> end = times.size() == 2 ? ParseClock(times[1]) : absl::nullopt;
    if (!start.has_value() || !end.has_value()) {
      return bad("times are HH:MM-HH:MM between 00:00 and 24:00, e.g. 08:00-12:00");
    }
    if (*end <= *start) {
      std::string why = "the end must be after the start";
      if (*end == 0 && *start > 0) {
        absl::StrAppend(&why, "; write midnight as 24:00");
      } else if (*end < *start) {
        absl::StrAppend(&why, "; across midnight write two items: \"", Days(first, last), " ",
                        Clock(*start), "-24:00,", Days(NextDay(first), NextDay(last)), " 00:00-",
                        Clock(*end), "\"");
      }
      return bad(why);
    }
    for (int day = first;; day = NextDay(day)) {
      v1::AvailabilitySlot& slot = out.emplace_back();
      slot.set_day_of_week(day);
      slot.set_start_minute(*start);
      slot.set_end_minute(*end);
      if (day == last) break;
    }
  }
  return out;
}

std::string FormatAvailability(
    const google::protobuf::RepeatedPtrField<v1::AvailabilitySlot>& slots) {
  // Runs of consecutive days with the same hours collapse into a range ("mon-fri ...").
  std::vector<std::string> items;
  for (int i = 0; i < slots.size();) {
    const v1::AvailabilitySlot& first = slots[i];
    int j = i + 1;
    while (j < slots.size() && slots[j].start_minute() == first.start_minute() &&
           slots[j].end_minute() == first.end_minute() && slots[j - 1].day_of_week() < 7 &&
           slots[j].day_of_week() == slots[j - 1].day_of_week() + 1) {
      ++j;
    }
    items.push_back(absl::StrCat(Days(first.day_of_week(), slots[j - 1].day_of_week()), " ",
                                 Clock(first.start_minute()), "-", Clock(first.end_minute())));
    i = j;
  }
  return absl::StrJoin(items, ", ");
}

std::string FormatDistance(double metres) {
  if (metres < 999.95) return absl::StrFormat("%.1f m", metres);
  return absl::StrFormat("%.2f km", metres / 1000);
}

std::vector<Field> RequestFields(const v1::HelpRequest& r) {
  const v1::Resident& resident = r.resident();
  std::string location;
  if (resident.has_location()) location = LatLngText(resident.location());
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

std::vector<Field> VolunteerFields(const v1::Volunteer& v) {
  std::string reliability;
  if (v.has_reliability()) {
    const v1::Reliability& r = v.reliability();
    reliability = r.offers() == 0
                      ? "no history yet"
                      : absl::StrFormat(
                            "accept %.0f%%, completion %.0f%%, no-show %.0f%% (%d offers, %d "
                            "assignments in 90 days)",
                            100 * r.accept_rate(), 100 * r.completion_rate(),
                            100 * r.no_show_rate(), r.offers(), r.assignments());
  }
  return {
      {"id", v.id()},
      {"external id", v.external_id()},
      {"name", v.name()},
      {"phone", v.phone()},
      {"district", v.district()},
      {"community", v.home_community_id()},
      {"duty", EnumName(*v1::DutyStatus_descriptor(), v.duty_status())},
      {"location", v.has_location() ? LatLngText(v.location()) : ""},
      {"location time", LocalTime(v.location_time_ms(), /*with_seconds=*/true)},
      {"skills", absl::StrJoin(v.skills(), ", ")},
      {"certificates", absl::StrJoin(CertificateTokens(v.certificates()), ", ")},
      {"languages", absl::StrJoin(v.languages(), ", ")},
      {"availability", FormatAvailability(v.availability())},
      {"teams", absl::StrJoin(v.team_ids(), ", ")},
      {"capacity", NonZero(v.capacity())},
      {"open assignments", NonZero(v.active_assignments())},
      {"recent load", v.recent_load() == 0 ? "" : absl::StrCat(v.recent_load(), " in 7 days")},
      {"reliability", reliability},
      {"last offer", LocalTime(v.last_offer_time_ms(), /*with_seconds=*/true)},
      {"minutes served", NonZero(v.minutes_served())},
      {"points", absl::StrCat(v.points_balance())},
      {"registered", LocalTime(v.create_time_ms(), /*with_seconds=*/true)},
      {"updated", LocalTime(v.update_time_ms(), /*with_seconds=*/true)},
  };
}

std::string VolunteerTable(const google::protobuf::RepeatedPtrField<v1::Volunteer>& volunteers) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Volunteer& v : volunteers) {
    rows.push_back({v.id(), v.name(), v.phone(), v.home_community_id(),
                    EnumName(*v1::DutyStatus_descriptor(), v.duty_status()),
                    absl::StrJoin(v.skills(), ","),
                    absl::StrJoin(CertificateTokens(v.certificates()), ","),
                    Load(v.active_assignments(), v.capacity()), absl::StrCat(v.points_balance())});
  }
  return FormatTable({"ID", "NAME", "PHONE", "COMMUNITY", "DUTY", "SKILLS", "CERTIFICATES",
                      "ACTIVE/CAP", "POINTS"},
                     rows);
}

std::vector<Field> UnitFields(const v1::Unit& u) {
  return {
      {"id", u.id()},
      {"kind", EnumName(*v1::UnitKind_descriptor(), u.kind())},
      {"name", u.name()},
      {"district", u.district()},
      {"status", u.active() ? "active" : "inactive"},
      {"community", u.community_id()},
      {"compound", u.compound_id()},
      {"address", u.address()},
      {"phone", u.phone()},
      {"location", u.has_location() ? LatLngText(u.location()) : ""},
      {"location time", LocalTime(u.location_time_ms(), /*with_seconds=*/true)},
      {"leader", u.leader_volunteer_id()},
      {"members", absl::StrJoin(u.member_volunteer_ids(), ", ")},
      {"capacity", NonZero(u.capacity())},
      {"open assignments", NonZero(u.active_assignments())},
      {"skills", absl::StrJoin(u.skills(), ", ")},
      {"equipment", absl::StrJoin(u.equipment(), ", ")},
      {"created", LocalTime(u.create_time_ms(), /*with_seconds=*/true)},
      {"updated", LocalTime(u.update_time_ms(), /*with_seconds=*/true)},
  };
}

std::string UnitTable(const google::protobuf::RepeatedPtrField<v1::Unit>& units) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Unit& u : units) {
    rows.push_back({u.id(), EnumName(*v1::UnitKind_descriptor(), u.kind()), u.name(),
                    u.community_id(), u.active() ? "active" : "inactive",
                    Load(u.active_assignments(), u.capacity()),
                    absl::StrCat(u.member_volunteer_ids_size()), absl::StrJoin(u.skills(), ","),
                    absl::StrJoin(u.equipment(), ",")});
  }
  return FormatTable(
      {"ID", "KIND", "NAME", "COMMUNITY", "STATUS", "ACTIVE/CAP", "MEMBERS", "SKILLS", "EQUIPMENT"},
      rows);
}

std::string NearbyTable(const google::protobuf::RepeatedPtrField<v1::NearbyCandidate>& candidates) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::NearbyCandidate& c : candidates) {
    std::string id;
    std::string kind;
    std::string name;
    std::vector<std::string> skills;
    if (c.has_volunteer()) {
      const v1::Volunteer& v = c.volunteer();
      id = v.id();
      kind = "volunteer";
      name = v.name();
      skills.assign(v.skills().begin(), v.skills().end());
      for (std::string& token : CertificateTokens(v.certificates())) skills.push_back(token);
    } else if (c.has_unit()) {
      const v1::Unit& u = c.unit();
      id = u.id();
      kind = u.kind() == v1::UNIT_KIND_UNSPECIFIED
                 ? "unit"
                 : absl::AsciiStrToLower(EnumName(*v1::UnitKind_descriptor(), u.kind()));
      name = u.name();
      skills.assign(u.skills().begin(), u.skills().end());
      skills.insert(skills.end(), u.equipment().begin(), u.equipment().end());
    }
    rows.push_back({absl::StrCat(rows.size() + 1), id, kind, name, FormatDistance(c.distance_m()),
                    absl::StrCat(c.capacity_left()), absl::StrJoin(skills, ",")});
  }
  return FormatTable({"RANK", "ID", "KIND", "NAME", "DISTANCE", "CAP_LEFT", "SKILLS"}, rows);
}

std::vector<Field> PairingFields(const v1::Pairing& p) {
  const v1::Resident& resident = p.resident();
  return {
      {"id", p.id()},
      {"district", p.district()},
      {"status", p.active() ? "active" : "ended"},
      {"volunteer", p.volunteer_id()},
      {"resident", ResidentSummary(resident)},
      {"address", resident.address()},
      {"location", resident.has_location() ? LatLngText(resident.location()) : ""},
      {"community", resident.community_id()},
      {"compound", resident.compound_id()},
      {"needs", Vulnerabilities(resident)},
      {"recurrence", EnumName(*v1::Recurrence_descriptor(), p.recurrence())},
      {"notes", p.notes()},
      {"created", LocalTime(p.create_time_ms(), /*with_seconds=*/true)},
  };
}

absl::StatusOr<v1::Assignee> ParseAssignee(absl::string_view what, absl::string_view text) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", text, "\": ", why, "; write v:VOLUNTEER_ID or u:UNIT_ID"));
  };
  std::pair<absl::string_view, absl::string_view> kind_id =
      absl::StrSplit(text, absl::MaxSplits(':', 1));
  if (!absl::StrContains(text, ':')) return bad("no kind");
  const std::string kind = absl::AsciiStrToLower(absl::StripAsciiWhitespace(kind_id.first));
  const absl::string_view id = absl::StripAsciiWhitespace(kind_id.second);
  if (id.empty()) return bad("no id");
  v1::Assignee out;
  if (kind == "v" || kind == "volunteer") {
    out.set_volunteer_id(std::string(id));
  } else if (kind == "u" || kind == "unit") {
    out.set_unit_id(std::string(id));
  } else {
    return bad(absl::StrCat("unknown kind \"", kind_id.first, "\""));
  }
  return out;
}

std::string AssigneeText(const v1::Assignee& a) {
  switch (a.kind_case()) {
    case v1::Assignee::kVolunteerId:
      return absl::StrCat("v:", a.volunteer_id());
    case v1::Assignee::kUnitId:
      return absl::StrCat("u:", a.unit_id());
    default:
      return "";
  }
}

std::string FormatAge(int64_t ms) {
  const int64_t s = std::max<int64_t>(ms, 0) / 1000;
  if (s < 60) return absl::StrCat(s, " s");
  if (s < 3600) return absl::StrCat(s / 60, " min");
  if (s < 86400) return absl::StrFormat("%d h %02d min", s / 3600, s % 3600 / 60);
  return absl::StrCat(s / 86400, " d ", s % 86400 / 3600, " h");
}

std::string ExplainText(const v1::ExplainMatchResponse& e) {
  std::string out = FormatFields({
      {"request", e.request_id()},
      {"urgency", EnumName(*v1::Urgency_descriptor(), e.urgency())},
      {"state", EnumName(*v1::RequestState_descriptor(), e.state())},
      {"searched radius", e.searched_radius_m() == 0 ? "" : FormatDistance(e.searched_radius_m())},
      {"computed", LocalTime(e.compute_time_ms(), /*with_seconds=*/true)},
  });
  absl::StrAppend(&out, "\n");
  if (e.candidates().empty()) {
    absl::StrAppend(&out, "No eligible candidates.\n");
  } else {
    std::vector<std::string> header = {"RANK", "ID", "NAME", "DISTANCE", "TRAVEL", "COST"};
    for (const v1::CostComponent& c : e.candidates(0).components()) {
      header.push_back(ComponentTitle(c.name()));
    }
    header.push_back("OFFER");
    std::vector<std::vector<std::string>> rows;
    std::string why;
    for (const v1::RankedCandidate& c : e.candidates()) {
      std::vector<std::string> row = {absl::StrCat(c.rank()),
                                      AssigneeText(c.assignee()),
                                      c.name(),
                                      FormatDistance(c.distance_m()),
                                      TravelMinutes(c.travel_time_s()),
                                      absl::StrFormat("%.2f", c.total_cost())};
      std::vector<std::string> details;
      for (const v1::CostComponent& part : c.components()) {
        row.push_back(absl::StrFormat("%.2f", part.weighted()));
        if (!part.detail().empty()) {
          details.push_back(absl::StrCat(part.name(), " ", part.detail()));
        }
      }
      row.resize(header.size() - 1);
      row.push_back(EnumName(*v1::OfferState_descriptor(), c.offer_state()));
      rows.push_back(std::move(row));
      if (!details.empty()) {
        absl::StrAppend(&why, "  ", c.rank(), " ", AssigneeText(c.assignee()), ": ",
                        absl::StrJoin(details, "; "), "\n");
      }
    }
    absl::StrAppend(&out, "Ranked (lower cost is better; travel in minutes):\n",
                    FormatTable(header, rows));
    if (!why.empty()) absl::StrAppend(&out, "\nWhy:\n", why);
  }
  if (!e.excluded().empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const v1::ExcludedCandidate& x : e.excluded()) {
      rows.push_back({AssigneeText(x.assignee()), x.name(), FormatDistance(x.distance_m()),
                      EnumName(*v1::ExclusionReason_descriptor(), x.reason()), x.detail()});
    }
    absl::StrAppend(&out, "\nExcluded (nearest first):\n",
                    FormatTable({"ID", "NAME", "DISTANCE", "REASON", "DETAIL"}, rows));
  }
  return out;
}

std::string EscalationTable(const google::protobuf::RepeatedPtrField<v1::Escalation>& escalations,
                            int64_t now_ms) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Escalation& e : escalations) {
    const v1::HelpRequest& r = e.request();
    rows.push_back(
        {r.id(), EnumName(*v1::Urgency_descriptor(), r.urgency()),
         EnumName(*v1::Category_descriptor(), r.category()), r.resident().community_id(),
         ResidentSummary(r.resident()), EnumName(*v1::EscalationReason_descriptor(), e.reason()),
         absl::StrCat(e.rounds()), absl::StrCat(e.declined()), absl::StrCat(e.expired()),
         e.escalate_time_ms() == 0 ? "" : FormatAge(now_ms - e.escalate_time_ms()), e.detail()});
  }
  return FormatTable({"REQUEST", "URGENCY", "CATEGORY", "COMMUNITY", "RESIDENT", "REASON", "ROUNDS",
                      "DECLINED", "EXPIRED", "WAITING", "DETAIL"},
                     rows);
}

std::vector<Field> AssignmentFields(const v1::Assignment& a) {
  const v1::Resident& resident = a.resident();
  return {
      {"request", a.request_id()},
      {"assignee", AssigneeText(a.assignee())},
      {"category", EnumName(*v1::Category_descriptor(), a.category())},
      {"offer", a.offer_id()},
      {"accepted", LocalTime(a.accept_time_ms(), /*with_seconds=*/true)},
      {"assigned by", a.assigned_by()},
      {"reason", a.assign_reason()},
      {"progress", EnumName(*v1::ProgressKind_descriptor(), a.progress())},
      {"progress time", LocalTime(a.progress_time_ms(), /*with_seconds=*/true)},
      {"minutes served", NonZero(a.minutes_served())},
      {"rating", NonZero(a.rating())},
      {"notes", a.notes()},
      {"points earned", NonZero(a.points_earned())},
      {"points pending", NonZero(a.points_pending())},
      {"released", LocalTime(a.release_time_ms(), /*with_seconds=*/true)},
      {"resident", ResidentSummary(resident)},
      {"address", resident.address()},
      {"location", resident.has_location() ? LatLngText(resident.location()) : ""},
      {"community", resident.community_id()},
      {"needs", Vulnerabilities(resident)},
  };
}

std::vector<Field> OfferFields(const v1::Offer& o) {
  return {
      {"offer", o.offer_id()},
      {"state", EnumName(*v1::OfferState_descriptor(), o.state())},
      {"request", o.request_id()},
      {"offered to", AssigneeText(o.offered_to())},
      {"urgency", EnumName(*v1::Urgency_descriptor(), o.urgency())},
      {"category", EnumName(*v1::Category_descriptor(), o.category())},
      {"community", o.community_id()},
      {"compound", o.compound_id()},
      {"distance", o.distance_m() == 0 ? "" : FormatDistance(o.distance_m())},
      {"travel",
       o.travel_time_s() == 0 ? "" : absl::StrCat(TravelMinutes(o.travel_time_s()), " min")},
      {"summary", o.summary()},
      {"required skills", absl::StrJoin(o.required_skills(), ", ")},
      {"headcount", NonZero(o.headcount())},
      {"round", NonZero(o.round())},
      {"mobilization", o.mobilization_id()},
      {"decline reason", EnumName(*v1::DeclineReason_descriptor(), o.decline_reason())},
      {"made", LocalTime(o.create_time_ms(), /*with_seconds=*/true)},
      {"expires", LocalTime(o.expire_time_ms(), /*with_seconds=*/true)},
      {"state time", LocalTime(o.state_time_ms(), /*with_seconds=*/true)},
  };
}

std::string OfferTable(const std::vector<v1::Offer>& offers, int64_t now_ms) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::Offer& o : offers) {
    std::string left = o.expire_time_ms() == 0        ? ""
                       : o.expire_time_ms() <= now_ms ? "expired"
                                                      : FormatAge(o.expire_time_ms() - now_ms);
    rows.push_back({o.offer_id(), o.request_id(), EnumName(*v1::Urgency_descriptor(), o.urgency()),
                    EnumName(*v1::Category_descriptor(), o.category()), o.community_id(),
                    FormatDistance(o.distance_m()), TravelMinutes(o.travel_time_s()),
                    NonZero(o.round()), left, o.summary()});
  }
  return FormatTable({"OFFER", "REQUEST", "URGENCY", "CATEGORY", "COMMUNITY", "DISTANCE", "TRAVEL",
                      "ROUND", "EXPIRES_IN", "SUMMARY"},
                     rows);
}

std::string OfferLine(const v1::Offer& o) {
  const int64_t at = o.state_time_ms() != 0 ? o.state_time_ms() : o.create_time_ms();
  std::string line = absl::StrFormat(
      "%-19s  %-9s  %s  %s  %s  %s  %s", LocalTime(at, /*with_seconds=*/true),
      EnumName(*v1::OfferState_descriptor(), o.state()), o.offer_id(), o.request_id(),
      EnumName(*v1::Urgency_descriptor(), o.urgency()),
      EnumName(*v1::Category_descriptor(), o.category()), FormatDistance(o.distance_m()));
  if (o.state() == v1::OFFER_PENDING) {
    if (o.expire_time_ms() != 0) {
      absl::StrAppend(&line, "  expires ",
                      absl::FormatTime("%H:%M:%S", absl::FromUnixMillis(o.expire_time_ms()),
                                       absl::LocalTimeZone()));
    }
    if (!o.summary().empty()) absl::StrAppend(&line, "  \"", o.summary(), "\"");
  } else if (o.state() == v1::OFFER_DECLINED && o.decline_reason() != 0) {
    absl::StrAppend(&line, "  ", EnumName(*v1::DeclineReason_descriptor(), o.decline_reason()));
  }
  return absl::StrReplaceAll(line, {{"\n", " "}, {"\r", " "}});
}

std::string EventLine(const v1::Event& e) {
  std::string who;
  if (!e.volunteer_id().empty()) who = absl::StrCat("v:", e.volunteer_id());
  if (!e.unit_id().empty()) {
    absl::StrAppend(&who, who.empty() ? "" : ",", "u:", e.unit_id());
  }
  std::vector<std::string> details;
  if (!e.offer_id().empty()) details.push_back(absl::StrCat("offer=", e.offer_id()));
  std::vector<std::pair<std::string, std::string>> attributes(e.attributes().begin(),
                                                              e.attributes().end());
  std::sort(attributes.begin(), attributes.end());
  // The "type" attribute is the stored name of the type: shown only for a type this
  // client does not know.
  std::string type = EnumName(*v1::EventType_descriptor(), e.type());
  for (const auto& [key, value] : attributes) {
    if (key == "type") {
      if (type.empty()) type = value;
      continue;
    }
    details.push_back(absl::StrCat(key, "=", AttributeValue(value)));
  }
  std::string line = absl::StrFormat("%-19s  %-20s  %-12s  %-14s  %s",
                                     LocalTime(e.time_ms(), /*with_seconds=*/true), type,
                                     e.request_id(), who, absl::StrJoin(details, " "));
  line.erase(line.find_last_not_of(' ') + 1);
  absl::StrAppend(&line, "  [", e.event_id(), "]");
  return absl::StrReplaceAll(line, {{"\n", " "}, {"\r", " "}});
}

}  // namespace yiyuan
