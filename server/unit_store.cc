#include "server/unit_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/volunteer_validator.h"
#include "nlohmann/json.hpp"
#include "server/keys.h"

namespace yiyuan {
namespace {

using Json = nlohmann::json;

}  // namespace

std::string EncodeUnitSpec(const UnitSpec& u) {
  // The location is not part of the document: vans move, and a replayed create must
  // still match. It is kept in the hash's lat/lng fields.
  Json doc = {{"v", 1},
              {"kind", Name(u.kind)},
              {"name", u.name},
              {"community_id", u.community_id},
              {"compound_id", u.compound_id},
              {"address", u.address},
              {"phone", u.phone},
              {"members", u.member_volunteer_ids},
              {"leader", u.leader_volunteer_id},
              {"capacity", u.capacity},
              {"skills", u.skills},
              {"equipment", u.equipment},
              {"active", u.active}};
  return doc.dump();
}

absl::StatusOr<UnitSpec> DecodeUnitSpec(absl::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return absl::InternalError("stored unit document is corrupt");
  UnitSpec u;
  u.kind = ParseUnitKind(doc.value("kind", "")).value_or(UnitKind::kUnknown);
  u.name = doc.value("name", "");
  u.community_id = doc.value("community_id", "");
  u.compound_id = doc.value("compound_id", "");
  u.address = doc.value("address", "");
  u.phone = doc.value("phone", "");
  u.member_volunteer_ids = doc.value("members", std::vector<std::string>());
  u.leader_volunteer_id = doc.value("leader", "");
  u.capacity = doc.value("capacity", 1);
  u.skills = doc.value("skills", std::vector<std::string>());
  u.equipment = doc.value("equipment", std::vector<std::string>());
  u.active = doc.value("active", false);
  return u;
}

absl::StatusOr<Unit> UnitFromFields(const HashFields& f) {
  Unit u;
  u.id = f.str("id");
  if (u.id.empty()) return absl::NotFoundError("no such unit");
  u.district = f.str("district");
  absl::StatusOr<UnitSpec> spec = DecodeUnitSpec(f.str("doc"));
  if (!spec.ok()) return spec.status();
  u.spec = *std::move(spec);
  if (f.has("lat") && f.has("lng")) {
    u.spec.location = LatLng{f.number("lat"), f.number("lng")};
    u.location_time_ms = f.integer("loc_ms");
  }
  u.active_assignments = static_cast<int>(f.integer("active_n"));
  u.create_time_ms = f.integer("create_ms");
  u.update_time_ms = f.integer("update_ms");
  u.revision = f.integer("rev");
  return u;
}

UnitStore::UnitStore(RedisClient* redis, VolunteerStoreOptions options)
    : redis_(redis),
      options_(options),
      save_(LuaScript::Embedded("save_unit.lua")),
      list_(LuaScript::Embedded("list_scan.lua")) {}

absl::StatusOr<Unit> UnitStore::Save(absl::string_view district, absl::string_view mode,
                                     absl::string_view id, int64_t revision, const UnitSpec& spec,
                                     bool location_changed, absl::string_view actor,
                                     absl::Time deadline, std::string* outcome) {
  const std::optional<LatLng>& loc = spec.location;
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(save_,
                   {keys::UnitSeq(district), keys::UnitIndex(district), keys::PlacedUnits(district),
                    keys::Events(district)},
                   {keys::District(district), std::string(district), std::string(mode),
                    std::string(id), std::to_string(revision), EncodeUnitSpec(spec),
                    std::string(Name(spec.kind)), spec.community_id, spec.active ? "1" : "0",
                    CommaList(spec.member_volunteer_ids), CommaList(CapabilityTokens(spec)),
                    std::to_string(spec.capacity), loc.has_value() ? ExactDouble(loc->lat) : "",
                    loc.has_value() ? ExactDouble(loc->lng) : "", location_changed ? "1" : "0",
                    std::to_string(options_.event_stream_max_len), std::string(actor)},
                   deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HashFields>> r = OutcomeAndFields(*reply);
  if (!r.ok()) return r.status();
  if (outcome != nullptr) *outcome = r->first;
  return UnitFromFields(r->second);
}

absl::StatusOr<Unit> UnitStore::Create(absl::string_view district, absl::string_view client_id,
                                       const UnitSpec& spec, absl::string_view actor,
                                       absl::Time deadline, bool* replayed) {
  std::string id = client_id.empty() ? "" : absl::StrCat(district, "-", client_id);
  std::string outcome;
  absl::StatusOr<Unit> u =
      Save(district, "create", id, 0, spec, /*location_changed=*/true, actor, deadline, &outcome);
  if (replayed != nullptr) *replayed = outcome == "replayed";
  return u;
}

absl::StatusOr<Unit> UnitStore::Get(absl::string_view id, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfUnitId("id", id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"HGETALL", keys::Unit(*district, id)}, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<Unit> u = UnitFromFields(HashFields(*reply));
  if (absl::IsNotFound(u.status()))
    return absl::NotFoundError(absl::StrCat("no unit with id ", id));
  return u;
}

absl::StatusOr<std::vector<Unit>> UnitStore::GetMany(absl::string_view district,
                                                     const std::vector<std::string>& ids,
                                                     absl::Time deadline) {
  std::vector<std::string> hashes;
  for (const std::string& id : ids) hashes.push_back(keys::Unit(district, id));
  return FetchRecords<Unit>(redis_, hashes, UnitFromFields, deadline);
}

absl::StatusOr<Page<Unit>> UnitStore::List(const UnitFilter& f, std::optional<int64_t> cursor,
                                           int page_size, absl::Time deadline) {
  std::vector<std::string> args = {
      absl::StrCat(keys::District(f.district), "unit:"),
      cursor.has_value() ? std::to_string(*cursor) : "-inf",
      std::to_string(page_size),
      std::to_string(std::max(options_.list_scan_budget, page_size)),
  };
  if (f.kind.has_value()) args.insert(args.end(), {"kind", "eq", std::string(Name(*f.kind))});
  if (!f.community_id.empty()) args.insert(args.end(), {"community", "eq", f.community_id});
  if (f.active_only) args.insert(args.end(), {"active", "eq", "1"});
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(list_, {keys::UnitIndex(f.district)}, args, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<ScanPage> scan = ScanPageOf(*reply);
  if (!scan.ok()) return scan.status();
  return PageFromScan<Unit>(*scan, UnitFromFields);
}

absl::StatusOr<Unit> UnitStore::Update(
    absl::string_view id,
    const std::function<absl::Status(UnitSpec&, bool& location_changed)>& edit,
    absl::string_view actor, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfUnitId("unit.id", id);
  if (!district.ok()) return district.status();
  absl::Status last = absl::AbortedError("the unit kept changing; try again");
  for (int attempt = 0; attempt < options_.update_attempts; ++attempt) {
    absl::StatusOr<Unit> current = Get(id, deadline);
    if (!current.ok()) return current.status();
    UnitSpec spec = current->spec;
    bool location_changed = false;
    if (absl::Status s = edit(spec, location_changed); !s.ok()) return s;
    absl::StatusOr<Unit> u = Save(*district, "update", id, current->revision, spec,
                                  location_changed, actor, deadline, nullptr);
    if (absl::IsAborted(u.status())) {
      last = u.status();
      continue;
    }
    return u;
  }
  return last;
}

}  // namespace yiyuan
