#include "server/volunteer_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/field_violations.h"
#include "engine/volunteer_validator.h"
#include "nlohmann/json.hpp"
#include "server/crypto.h"
#include "server/keys.h"
#include "server/redis_fields.h"

namespace yiyuan {
namespace {

using Json = nlohmann::json;

std::string CertificateList(const std::vector<Certificate>& certs) {
  std::string out = ",";
  for (Certificate c : certs) absl::StrAppend(&out, Name(c), ",");
  return out;
}

std::string PairingDoc(const Pairing& p) {
  const Resident& r = p.resident;
  Json resident = {{"name", r.name},
                   {"phone", r.phone},
                   {"address", r.address},
                   {"community_id", r.community_id},
                   {"compound_id", r.compound_id},
                   {"lives_alone", r.lives_alone},
                   {"high_age", r.high_age},
                   {"disabled", r.disabled}};
  if (r.location.has_value()) {
    resident["lat"] = r.location->lat;
    resident["lng"] = r.location->lng;
  }
  Json doc = {
      {"v", 1}, {"resident", resident}, {"recurrence", Name(p.recurrence)}, {"notes", p.notes}};
  return doc.dump();
}

absl::StatusOr<Pairing> PairingFromFields(const HashFields& f) {
  Pairing p;
  p.id = f.str("id");
  if (p.id.empty()) return absl::NotFoundError("no such pairing");
  p.district = f.str("district");
  p.volunteer_id = f.str("volunteer");
  p.active = f.str("active") == "1";
  p.create_time_ms = f.integer("create_ms");
  const std::string& text = f.str("doc");
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return absl::InternalError("stored pairing document is corrupt");
  const Json& r = doc.contains("resident") ? doc["resident"] : Json::object();
  p.resident.name = r.value("name", "");
  p.resident.phone = r.value("phone", "");
  p.resident.address = r.value("address", "");
  p.resident.community_id = r.value("community_id", "");
  p.resident.compound_id = r.value("compound_id", "");
  p.resident.lives_alone = r.value("lives_alone", false);
  p.resident.high_age = r.value("high_age", false);
  p.resident.disabled = r.value("disabled", false);
  if (r.contains("lat") && r.contains("lng")) {
    p.resident.location = LatLng{r.value("lat", 0.0), r.value("lng", 0.0)};
  }
  p.recurrence = ParseRecurrence(doc.value("recurrence", "")).value_or(Recurrence::kUnspecified);
  p.notes = doc.value("notes", "");
  return p;
}

// Whether `v` passes every filter of `f` (the same tests list_scan.lua makes).
bool Matches(const Volunteer& v, const VolunteerFilter& f) {
  const VolunteerProfile& p = v.profile;
  auto has = [](const auto& list, const auto& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
  };
  return (f.phone.empty() || p.phone == f.phone) &&
         (f.external_id.empty() || p.external_id == f.external_id) &&
         (f.community_id.empty() || p.home_community_id == f.community_id) &&
         (f.token.empty() || has(CapabilityTokens(p), f.token)) &&
         (!f.certificate.has_value() || has(p.certificates, *f.certificate)) &&
         (!f.duty.has_value() || v.duty == *f.duty) &&
         (f.team_id.empty() || has(v.team_ids, f.team_id));
}

}  // namespace

std::string EncodeVolunteerProfile(const VolunteerProfile& p) {
  Json certs = Json::array();
  for (Certificate c : p.certificates) certs.push_back(Name(c));
  Json slots = Json::array();
  for (const AvailabilitySlot& s : p.availability) {
    slots.push_back({s.day_of_week, s.start_minute, s.end_minute});
  }
  Json doc = {{"v", 1},
              {"external_id", p.external_id},
              {"name", p.name},
              {"phone", p.phone},
              {"home_community_id", p.home_community_id},
              {"skills", p.skills},
              {"certificates", certs},
              {"languages", p.languages},
              {"availability", slots},
              {"capacity", p.capacity}};
  return doc.dump();
}

absl::StatusOr<VolunteerProfile> DecodeVolunteerProfile(absl::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return absl::InternalError("stored volunteer document is corrupt");
  VolunteerProfile p;
  p.external_id = doc.value("external_id", "");
  p.name = doc.value("name", "");
  p.phone = doc.value("phone", "");
  p.home_community_id = doc.value("home_community_id", "");
  p.skills = doc.value("skills", std::vector<std::string>());
  for (const std::string& c : doc.value("certificates", std::vector<std::string>())) {
    p.certificates.push_back(ParseCertificate(c).value_or(Certificate::kUnknown));
  }
  p.languages = doc.value("languages", std::vector<std::string>());
  for (const Json& s : doc.value("availability", Json::array())) {
    if (s.is_array() && s.size() == 3) {
      p.availability.push_back({s[0].get<int>(), s[1].get<int>(), s[2].get<int>()});
    }
  }
  p.capacity = doc.value("capacity", 1);
  return p;
}

absl::StatusOr<Volunteer> VolunteerFromFields(const HashFields& f) {
  Volunteer v;
  v.id = f.str("id");
  if (v.id.empty()) return absl::NotFoundError("no such volunteer");
  v.district = f.str("district");
  absl::StatusOr<VolunteerProfile> profile = DecodeVolunteerProfile(f.str("doc"));
  if (!profile.ok()) return profile.status();
  v.profile = *std::move(profile);
  v.duty = ParseDutyStatus(f.str("duty")).value_or(DutyStatus::kOff);
  if (f.has("lat") && f.has("lng")) {
    v.location = LatLng{f.number("lat"), f.number("lng")};
    v.location_time_ms = f.integer("loc_ms");
  }
  v.team_ids = f.list("teams");
  VolunteerStats& s = v.stats;
  s.offers = static_cast<int>(f.integer("n_offers"));
  s.offers_accepted = static_cast<int>(f.integer("n_accepted"));
  s.offers_answered = static_cast<int>(f.integer("n_answered"));
  s.assignments_ended = static_cast<int>(f.integer("n_ended"));
  s.completed = static_cast<int>(f.integer("n_completed"));
  s.no_shows = static_cast<int>(f.integer("n_no_show"));
  s.recent_load = static_cast<int>(f.integer("recent_load"));
  s.active_assignments = static_cast<int>(f.integer("active_n"));
  s.last_offer_time_ms = f.integer("last_offer_ms");
  s.minutes_served = f.integer("minutes");
  s.points_balance = f.integer("points");
  v.create_time_ms = f.integer("create_ms");
  v.update_time_ms = f.integer("update_ms");
  v.revision = f.integer("rev");
  return v;
}

std::string PhoneKeyHash(absl::string_view normalized_phone) {
  return Sha256Hex(normalized_phone).substr(0, 20);
}

absl::Status RememberDistrict(RedisClient* redis, absl::string_view district, absl::Time deadline) {
  return redis->Command({"SADD", std::string(keys::kDistricts), std::string(district)}, deadline)
      .status();
}

VolunteerStore::VolunteerStore(RedisClient* redis, VolunteerStoreOptions options)
    : redis_(redis),
      options_(options),
      register_(LuaScript::Embedded("register_volunteer.lua")),
      update_(LuaScript::Embedded("update_volunteer.lua")),
      set_duty_(LuaScript::WithLibrary("dispatch_lib.lua", "set_duty.lua")),
      report_location_(LuaScript::Embedded("report_location.lua")),
      list_(LuaScript::Embedded("list_scan.lua")),
      create_pairing_(LuaScript::Embedded("create_pairing.lua")) {}

absl::StatusOr<Volunteer> VolunteerStore::Register(absl::string_view district,
                                                   const VolunteerProfile& p, absl::Time deadline,
                                                   bool* replayed) {
  std::string phone_hash = PhoneKeyHash(p.phone);
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(register_,
                   {keys::VolunteerExternal(district, p.external_id), keys::VolunteerSeq(district),
                    keys::VolunteerIndex(district), keys::VolunteerPhone(district, phone_hash),
                    keys::Events(district)},
                   {keys::District(district), std::string(district), EncodeVolunteerProfile(p),
                    p.external_id, phone_hash, p.home_community_id, CommaList(CapabilityTokens(p)),
                    CertificateList(p.certificates), std::to_string(p.capacity),
                    std::to_string(options_.event_stream_max_len)},
                   deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HashFields>> r = OutcomeAndFields(*reply);
  if (!r.ok()) return r.status();
  if (replayed != nullptr) *replayed = r->first == "replayed";
  return VolunteerFromFields(r->second);
}

absl::StatusOr<Volunteer> VolunteerStore::Get(absl::string_view id, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfVolunteerId("id", id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"HGETALL", keys::Volunteer(*district, id)}, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<Volunteer> v = VolunteerFromFields(HashFields(*reply));
  if (absl::IsNotFound(v.status())) {
    return absl::NotFoundError(absl::StrCat("no volunteer with id ", id));
  }
  return v;
}

absl::StatusOr<std::vector<Volunteer>> VolunteerStore::GetMany(absl::string_view district,
                                                               const std::vector<std::string>& ids,
                                                               absl::Time deadline) {
  std::vector<std::string> hashes;
  for (const std::string& id : ids) hashes.push_back(keys::Volunteer(district, id));
  return FetchRecords<Volunteer>(redis_, hashes, VolunteerFromFields, deadline);
}

absl::StatusOr<Page<Volunteer>> VolunteerStore::List(const VolunteerFilter& f,
                                                     std::optional<int64_t> cursor, int page_size,
                                                     absl::Time deadline) {
  // Phone and external id are looked up by their own keys: at most a handful of hits.
  if (!f.phone.empty() || !f.external_id.empty()) {
    std::vector<std::string> ids;
    if (!f.external_id.empty()) {
      absl::StatusOr<RedisValue> id = redis_->Command(
          {"HGET", keys::VolunteerExternal(f.district, f.external_id), "id"}, deadline);
      if (!id.ok()) return id.status();
      if (!id->is_nil()) ids.push_back(id->str);
    } else {
      absl::StatusOr<RedisValue> members = redis_->Command(
          {"SMEMBERS", keys::VolunteerPhone(f.district, PhoneKeyHash(f.phone))}, deadline);
      if (!members.ok()) return members.status();
      for (const RedisValue& m : members->elements) ids.push_back(m.str);
    }
    absl::StatusOr<std::vector<Volunteer>> found = GetMany(f.district, ids, deadline);
    if (!found.ok()) return found.status();
    Page<Volunteer> page;
    for (Volunteer& v : *found) {
      if (Matches(v, f)) page.items.push_back(std::move(v));
    }
    std::sort(page.items.begin(), page.items.end(), [](const Volunteer& a, const Volunteer& b) {
      return a.create_time_ms < b.create_time_ms;
    });
    return page;
  }
  std::vector<std::string> args = {
      absl::StrCat(keys::District(f.district), "vol:"),
      cursor.has_value() ? std::to_string(*cursor) : "-inf",
      std::to_string(page_size),
      std::to_string(std::max(options_.list_scan_budget, page_size)),
  };
  auto filter = [&args](absl::string_view field, absl::string_view op, absl::string_view value) {
    args.insert(args.end(), {std::string(field), std::string(op), std::string(value)});
  };
  if (!f.community_id.empty()) filter("community", "eq", f.community_id);
  if (!f.token.empty()) filter("tokens", "has", f.token);
  if (f.certificate.has_value()) filter("certs", "has", Name(*f.certificate));
  if (f.duty.has_value()) filter("duty", "eq", Name(*f.duty));
  if (!f.team_id.empty()) filter("teams", "has", f.team_id);
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(list_, {keys::VolunteerIndex(f.district)}, args, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<ScanPage> scan = ScanPageOf(*reply);
  if (!scan.ok()) return scan.status();
  return PageFromScan<Volunteer>(*scan, VolunteerFromFields);
}

absl::StatusOr<Volunteer> VolunteerStore::Update(
    absl::string_view id, const std::function<absl::Status(VolunteerProfile&)>& edit,
    absl::string_view fields, absl::string_view actor, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfVolunteerId("volunteer.id", id);
  if (!district.ok()) return district.status();
  absl::Status last = absl::AbortedError("the volunteer kept changing; try again");
  for (int attempt = 0; attempt < options_.update_attempts; ++attempt) {
    absl::StatusOr<Volunteer> current = Get(id, deadline);
    if (!current.ok()) return current.status();
    VolunteerProfile p = current->profile;
    if (absl::Status s = edit(p); !s.ok()) return s;
    absl::StatusOr<RedisValue> reply = redis_->Eval(
        update_, {keys::Volunteer(*district, id), keys::Events(*district)},
        {keys::District(*district), std::to_string(current->revision), EncodeVolunteerProfile(p),
         PhoneKeyHash(p.phone), p.home_community_id, CommaList(CapabilityTokens(p)),
         CertificateList(p.certificates), std::to_string(p.capacity),
         std::to_string(options_.event_stream_max_len), std::string(actor), std::string(fields)},
        deadline);
    if (absl::IsAborted(reply.status())) {
      last = reply.status();
      continue;
    }
    if (absl::IsNotFound(reply.status())) {
      return absl::NotFoundError(absl::StrCat("no volunteer with id ", id));
    }
    if (!reply.ok()) return reply.status();
    return VolunteerFromFields(HashFields(*reply));
  }
  return last;
}

absl::StatusOr<Volunteer> VolunteerStore::SetDuty(absl::string_view id, DutyStatus status,
                                                  const std::optional<LatLng>& location,
                                                  absl::string_view actor, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfVolunteerId("volunteer_id", id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply = redis_->Eval(
      set_duty_,
      {keys::Volunteer(*district, id), keys::OnDuty(*district), keys::Events(*district),
       keys::Locations(*district)},
      {keys::District(*district), std::to_string(options_.event_stream_max_len), "",
       std::string(Name(status)), location.has_value() ? ExactDouble(location->lat) : "",
       location.has_value() ? ExactDouble(location->lng) : "",
       std::to_string(options_.location_feed_max_len), std::string(actor)},
      deadline);
  if (absl::IsNotFound(reply.status())) {
    return absl::NotFoundError(absl::StrCat("no volunteer with id ", id));
  }
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HashFields>> r = OutcomeAndFields(*reply);
  if (!r.ok()) return r.status();
  return VolunteerFromFields(r->second);
}

absl::StatusOr<StoredFix> VolunteerStore::ReportLocation(
    absl::string_view district, absl::string_view volunteer_id, absl::string_view unit_id,
    absl::string_view crew_member, LatLng location, int64_t fix_time_ms, absl::Time deadline) {
  bool is_unit = !unit_id.empty();
  std::string subject =
      is_unit ? keys::Unit(district, unit_id) : keys::Volunteer(district, volunteer_id);
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(report_location_,
                   {subject, keys::Locations(district),
                    is_unit ? keys::PlacedUnits(district) : keys::OnDuty(district)},
                   {is_unit ? "u" : "v", ExactDouble(location.lat), ExactDouble(location.lng),
                    std::to_string(fix_time_ms), std::to_string(options_.location_feed_max_len),
                    std::string(is_unit ? crew_member : "")},
                   deadline);
  if (absl::IsNotFound(reply.status())) {
    return absl::NotFoundError(is_unit ? absl::StrCat("no unit with id ", unit_id)
                                       : absl::StrCat("no volunteer with id ", volunteer_id));
  }
  if (!reply.ok()) return reply.status();
  StoredFix fix;
  const std::vector<RedisValue>& e = reply->elements;
  if (e.size() == 3 && e[0].integer == 1) {
    fix.stored = true;
    fix.revision = e[1].integer;
    absl::SimpleAtoi(e[2].str, &fix.time_ms);
  }
  return fix;
}

absl::StatusOr<Pairing> VolunteerStore::CreatePairing(absl::string_view district, const Pairing& p,
                                                      absl::string_view actor, absl::Time deadline,
                                                      bool* existed) {
  std::string phone_hash = PhoneKeyHash(p.resident.phone);
  absl::StatusOr<RedisValue> reply = redis_->Eval(
      create_pairing_,
      {keys::PairingKey(district, p.volunteer_id, phone_hash), keys::PairingSeq(district),
       keys::Volunteer(district, p.volunteer_id), keys::ResidentPairings(district, phone_hash),
       keys::Events(district)},
      {keys::District(district), std::string(district), PairingDoc(p), p.volunteer_id,
       std::to_string(options_.event_stream_max_len), p.resident.community_id, std::string(actor)},
      deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HashFields>> r = OutcomeAndFields(*reply);
  if (!r.ok()) return r.status();
  if (existed != nullptr) *existed = r->first == "existing";
  return PairingFromFields(r->second);
}

}  // namespace yiyuan
