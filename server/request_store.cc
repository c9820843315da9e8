#include "server/request_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/field_violations.h"
#include "engine/request_validator.h"
#include "nlohmann/json.hpp"
#include "server/keys.h"
#include "server/redis_fields.h"
#include "server/volunteer_store.h"

namespace yiyuan {
namespace {

using Json = nlohmann::json;


// Reads a script reply {outcome, HGETALL fields...}.
absl::StatusOr<std::pair<std::string, HelpRequest>> OutcomeAndRequest(const RedisValue& v) {
  absl::StatusOr<std::pair<std::string, HashFields>> of = OutcomeAndFields(v);
  if (!of.ok()) return of.status();
  absl::StatusOr<HelpRequest> r = RequestFromFields(of->second);
  if (!r.ok()) return r.status();
  return std::make_pair(of->first, *std::move(r));
}

// ",A,B," of the states for which `keep` is true, for scripts to test membership with
// string.find: the engine stays the one place that decides which states are which.
std::string StatesWhere(bool (*keep)(RequestState)) {
  std::string out = ",";
  for (int s = 1; s < static_cast<int>(RequestState::kUnknown); ++s) {
    RequestState state = static_cast<RequestState>(s);
    if (keep(state)) absl::StrAppend(&out, Name(state), ",");
  }
  return out;
}

}  // namespace

absl::StatusOr<HelpRequest> RequestFromFields(const HashFields& m) {
  HelpRequest r;
  r.id = m.str("id");
  if (r.id.empty()) return absl::NotFoundError("no such request");
  r.district = m.str("district");
  r.request_id = m.str("request_id");
  absl::StatusOr<RequestContent> content = DecodeRequestContent(m.str("doc"));
  if (!content.ok()) return content.status();
  r.content = *std::move(content);
  r.state = ParseRequestState(m.str("state")).value_or(RequestState::kUnknown);
  r.create_time_ms = m.integer("create_ms");
  r.update_time_ms = m.integer("update_ms");
  r.cancel_reason = m.str("cancel_reason");
  return r;
}

std::string EncodeRequestContent(const RequestContent& c) {
  Json resident = {
      {"name", c.resident.name},
      {"phone", c.resident.phone},
      {"address", c.resident.address},
      {"community_id", c.resident.community_id},
      {"compound_id", c.resident.compound_id},
      {"lives_alone", c.resident.lives_alone},
      {"high_age", c.resident.high_age},
      {"disabled", c.resident.disabled},
  };
  if (c.resident.location.has_value()) {
    resident["lat"] = c.resident.location->lat;
    resident["lng"] = c.resident.location->lng;
  }
  Json doc = {
      {"v", 1},
      {"channel", Name(c.channel)},
      {"station_id", c.station_id},
      {"operator_id", c.operator_id},
      {"resident", resident},
      {"category", Name(c.category)},
      {"description", c.description},
      {"urgency", Name(c.urgency)},
      {"required_skills", c.required_skills},
      {"preferred_skills", c.preferred_skills},
      {"headcount", c.headcount},
      {"window_start_ms", c.window_start_ms},
      {"window_end_ms", c.window_end_ms},
      {"recurrence", Name(c.recurrence)},
  };
  return doc.dump();
}

absl::StatusOr<RequestContent> DecodeRequestContent(absl::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return absl::InternalError("stored request document is corrupt");
  RequestContent c;
  auto str = [](const Json& j, const char* k) { return j.value(k, std::string()); };
  c.channel = ParseChannel(str(doc, "channel")).value_or(Channel::kUnknown);
  c.station_id = str(doc, "station_id");
  c.operator_id = str(doc, "operator_id");
  const Json& r = doc.contains("resident") ? doc["resident"] : Json::object();
  c.resident.name = str(r, "name");
  c.resident.phone = str(r, "phone");
  c.resident.address = str(r, "address");
  c.resident.community_id = str(r, "community_id");
  c.resident.compound_id = str(r, "compound_id");
  c.resident.lives_alone = r.value("lives_alone", false);
  c.resident.high_age = r.value("high_age", false);
  c.resident.disabled = r.value("disabled", false);
  if (r.contains("lat") && r.contains("lng")) {
    c.resident.location = LatLng{r.value("lat", 0.0), r.value("lng", 0.0)};
  }
  c.category = ParseCategory(str(doc, "category")).value_or(Category::kUnknown);
  c.description = str(doc, "description");
  c.urgency = ParseUrgency(str(doc, "urgency")).value_or(Urgency::kUnknown);
  c.required_skills = doc.value("required_skills", std::vector<std::string>());
  c.preferred_skills = doc.value("preferred_skills", std::vector<std::string>());
  c.headcount = doc.value("headcount", 1);
  c.window_start_ms = doc.value("window_start_ms", int64_t{0});
  c.window_end_ms = doc.value("window_end_ms", int64_t{0});
  c.recurrence = ParseRecurrence(str(doc, "recurrence")).value_or(Recurrence::kOnce);
  return c;
}

absl::StatusOr<std::string> DistrictOfRequestId(absl::string_view field, absl::string_view id) {
  size_t dash = id.find('-');
  if (id.empty()) return InvalidField(field, "is required");
  int64_t n = 0;
  if (dash == absl::string_view::npos || !absl::SimpleAtoi(id.substr(dash + 1), &n) || n <= 0) {
    return InvalidField(field, "must look like \"<district>-<number>\", e.g. \"wuxing-42\"");
  }
  std::string district(id.substr(0, dash));
  if (absl::Status s = ValidateDistrict(field, district); !s.ok()) return s;
  return district;
}

RequestStore::RequestStore(RedisClient* redis, RequestStoreOptions options)
    : redis_(redis),
      options_(options),
      submit_(LuaScript::Embedded("submit_request.lua")),
      cancel_(LuaScript::WithLibrary("dispatch_lib.lua", "cancel_request.lua")),
      list_(LuaScript::Embedded("list_requests.lua")) {}

absl::StatusOr<SubmitResult> RequestStore::Submit(absl::string_view district,
                                                  absl::string_view request_id,
                                                  const RequestContent& content,
                                                  absl::Time deadline) {
  // The phone is hashed so that no phone number appears in a key name.
  std::string phone_hash = PhoneKeyHash(content.resident.phone);
  std::vector<std::string> keys = {
      keys::Idempotency(district, request_id),
      keys::OpenRequest(district, phone_hash, Name(content.category)),
      keys::RequestSeq(district),
      keys::RequestIndex(district),
      keys::Events(district),
  };
  std::vector<std::string> args = {
      keys::District(district),
      std::string(district),
      std::string(request_id),
      EncodeRequestContent(content),
      std::string(Name(content.channel)),
      std::string(Name(content.category)),
      std::string(Name(content.urgency)),
      content.resident.community_id,
      std::to_string(absl::ToInt64Seconds(options_.idempotency_ttl)),
      std::to_string(options_.event_stream_max_len),
      StatesWhere(IsOpen),
      std::to_string(std::max(1, content.headcount)),
      phone_hash,
      std::to_string(absl::ToInt64Milliseconds(options_.dispatch_grace)),
      std::to_string(content.urgency == Urgency::kRoutine
                         ? absl::ToInt64Milliseconds(options_.batch_interval)
                         : 0),
  };
  absl::StatusOr<RedisValue> reply = redis_->Eval(submit_, keys, args, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HelpRequest>> r = OutcomeAndRequest(*reply);
  if (!r.ok()) return r.status();
  SubmitResult result;
  result.request = std::move(r->second);
  if (r->first == "replayed") {
    result.outcome = SubmitOutcome::kReplayed;
  } else if (r->first == "duplicate") {
    result.outcome = SubmitOutcome::kDuplicate;
  } else {
    result.outcome = SubmitOutcome::kCreated;
  }
  return result;
}

absl::StatusOr<HelpRequest> RequestStore::Get(absl::string_view id, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("id", id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"HGETALL", keys::Request(*district, id)}, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<HelpRequest> r =
      RequestFromFields(HashFields(*reply));
  if (absl::IsNotFound(r.status())) {
    return absl::NotFoundError(absl::StrCat("no request with id ", id));
  }
  return r;
}

absl::StatusOr<RequestPage> RequestStore::List(const RequestFilter& f,
                                               std::optional<int64_t> cursor, int page_size,
                                               absl::Time deadline) {
  std::string states;
  if (!f.states.empty()) {
    states = ",";
    for (RequestState s : f.states) absl::StrAppend(&states, Name(s), ",");
  }
  std::vector<std::string> args = {
      keys::District(f.district),
      cursor.has_value() ? std::to_string(*cursor) : "+inf",
      std::to_string(page_size),
      std::to_string(std::max(options_.list_scan_budget, page_size)),
      states,
      f.channel.has_value() ? std::string(Name(*f.channel)) : "",
      f.category.has_value() ? std::string(Name(*f.category)) : "",
      f.urgency.has_value() ? std::string(Name(*f.urgency)) : "",
      f.community_id,
      MsString(f.created_after_ms),
      MsString(f.created_before_ms),
  };
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(list_, {keys::RequestIndex(f.district)}, args, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<ScanPage> scan = ScanPageOf(*reply);
  if (!scan.ok()) return scan.status();
  RequestPage page;
  int64_t next = 0;
  if (absl::SimpleAtoi(scan->next_cursor, &next)) page.next_cursor = next;
  for (const HashFields& fields : scan->records) {
    absl::StatusOr<HelpRequest> r = RequestFromFields(fields);
    if (!r.ok()) return r.status();
    page.requests.push_back(*std::move(r));
  }
  return page;
}

absl::StatusOr<HelpRequest> RequestStore::Cancel(absl::string_view id, absl::string_view reason,
                                                 absl::string_view actor, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("id", id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply = redis_->Eval(
      cancel_, {keys::Request(*district, id)},
      {keys::District(*district), std::to_string(options_.event_stream_max_len), "",
       std::string(reason), StatesWhere(IsCancellable), std::string(actor)},
      deadline);
  if (absl::IsNotFound(reply.status())) {
    return absl::NotFoundError(absl::StrCat("no request with id ", id));
  }
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HelpRequest>> r = OutcomeAndRequest(*reply);
  if (!r.ok()) return r.status();
  return std::move(r->second);
}

}  // namespace yiyuan
