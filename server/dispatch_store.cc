#include "server/dispatch_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/field_violations.h"
#include "server/keys.h"
#include "server/request_store.h"

namespace yiyuan {
namespace {

constexpr absl::string_view kLib = "dispatch_lib.lua";

std::string KindOf(const AssigneeRef& a) { return a.is_unit ? "u" : "v"; }

absl::flat_hash_set<std::string> SetOf(const RedisValue& v) {
  absl::flat_hash_set<std::string> out;
  for (const RedisValue& e : v.elements) out.insert(e.str);
  return out;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("malformed reply from ", what));
}

int64_t Int(const RedisValue& v) {
  if (v.type == RedisValue::Type::kInteger) return v.integer;
  int64_t n = 0;
  (void)absl::SimpleAtoi(v.str, &n);
  return n;
}

// Reads the request hash of a snapshot and its dispatch fields.
absl::Status FillSnapshot(const HashFields& f, DispatchSnapshot* s) {
  absl::StatusOr<HelpRequest> r = RequestFromFields(f);
  if (!r.ok()) return r.status();
  s->request = *std::move(r);
  s->round = static_cast<int>(f.integer("round"));
  s->round_base = static_cast<int>(f.integer("round_base"));
  s->headcount = std::max<int>(1, static_cast<int>(f.integer("headcount")));
  s->assigned = static_cast<int>(f.integer("n_assigned"));
  s->declined = static_cast<int>(f.integer("n_declined"));
  s->expired = static_cast<int>(f.integer("n_expired"));
  s->offers_made = static_cast<int>(f.integer("n_offers"));
  s->phone_hash = f.str("phone_hash");
  s->mobilization_id = f.str("mob");
  for (absl::string_view key : absl::StrSplit(f.str("assignees"), ',', absl::SkipEmpty())) {
    if (std::optional<AssigneeRef> a = AssigneeRef::FromKey(key)) s->assignees.push_back(*a);
  }
  s->escalation_reason =
      ParseEscalationReason(f.str("esc_reason")).value_or(EscalationReason::kUnspecified);
  s->escalation_detail = f.str("esc_detail");
  s->escalate_time_ms = f.integer("esc_ms");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> DistrictOfOfferId(absl::string_view field, absl::string_view id) {
  size_t o = id.rfind("-o");
  if (o == absl::string_view::npos || o == 0) {
    return InvalidField(field, "must look like \"<request id>-o<n>\"");
  }
  return DistrictOfRequestId(field, id.substr(0, o));
}

absl::StatusOr<OfferRecord> OfferFromFields(const HashFields& f) {
  OfferRecord o;
  o.id = f.str("id");
  if (o.id.empty()) return absl::NotFoundError("no such offer");
  o.request_id = f.str("req");
  o.district = std::string(DistrictPrefix(o.request_id));
  o.to.is_unit = f.str("kind") == "u";
  o.to.id = f.str("to");
  o.state = ParseOfferState(f.str("state")).value_or(OfferState::kUnknown);
  o.round = static_cast<int>(f.integer("round"));
  o.create_time_ms = f.integer("create_ms");
  o.expire_time_ms = f.integer("expire_ms");
  o.state_time_ms = f.integer("state_ms");
  o.mobilization_id = f.str("mob");
  o.decline_reason = static_cast<int>(f.integer("dr"));
  o.doc = f.str("doc");
  return o;
}

absl::StatusOr<AssignmentRecord> AssignmentFromFields(const HashFields& f) {
  AssignmentRecord a;
  a.request_id = f.str("req");
  if (a.request_id.empty()) return absl::NotFoundError("no such assignment");
  a.district = std::string(DistrictPrefix(a.request_id));
  a.who.is_unit = f.str("kind") == "u";
  a.who.id = f.str("who");
  a.offer_id = f.str("offer");
  a.accept_time_ms = f.integer("accept_ms");
  a.assigned_by = f.str("by");
  a.assign_reason = f.str("reason");
  a.progress = ParseProgressKind(f.str("progress")).value_or(ProgressKind::kNone);
  a.progress_time_ms = f.integer("progress_ms");
  a.en_route_time_ms = f.integer("en_route_ms");
  a.arrive_time_ms = f.integer("arrive_ms");
  a.complete_time_ms = f.integer("complete_ms");
  a.minutes_served = static_cast<int>(f.integer("minutes"));
  a.rating = static_cast<int>(f.integer("rating"));
  a.notes = f.str("notes");
  a.release_time_ms = f.integer("release_ms");
  a.release_reason = f.str("released");
  a.points_earned = f.integer("points");
  a.points_pending = f.integer("points_pending");
  return a;
}

DispatchStore::DispatchStore(RedisClient* redis, DispatchStoreOptions options)
    : redis_(redis),
      options_(options),
      make_offers_(LuaScript::WithLibrary(kLib, "make_offers.lua")),
      advance_(LuaScript::WithLibrary(kLib, "advance_request.lua")),
      escalate_(LuaScript::WithLibrary(kLib, "escalate_request.lua")),
      respond_(LuaScript::WithLibrary(kLib, "respond_offer.lua")),
      progress_(LuaScript::WithLibraries({kLib, "points_lib.lua"}, "report_progress.lua")),
      assign_(LuaScript::WithLibrary(kLib, "assign_request.lua")),
      lease_(LuaScript::WithLibrary(kLib, "lease.lua")),
      mobilize_(LuaScript::WithLibrary(kLib, "mobilize.lua")) {}

std::vector<std::string> DispatchStore::Args(absl::string_view district, int64_t fence) const {
  return {keys::District(district), std::to_string(options_.event_stream_max_len),
          fence > 0 ? std::to_string(fence) : ""};
}

namespace {

// make_offers.lua's reply.
absl::StatusOr<MadeOffers> MadeOffersOf(const absl::StatusOr<RedisValue>& reply) {
  if (!reply.ok()) return reply.status();
  const auto& e = reply->elements;
  if (e.size() != 6 || !e[4].is_array() || !e[5].is_array()) return Malformed("make_offers");
  MadeOffers out;
  out.made = e[0].str == "made";
  out.round = static_cast<int>(Int(e[1]));
  out.now_ms = Int(e[2]);
  out.expire_time_ms = Int(e[3]);
  for (const RedisValue& m : e[4].elements) {
    if (m.elements.size() != 3) return Malformed("make_offers");
    out.offers.push_back({m.elements[0].str, {m.elements[1].str == "u", m.elements[2].str}});
  }
  for (const RedisValue& m : e[5].elements) {
    if (m.elements.size() != 3) return Malformed("make_offers");
    out.skipped.push_back({{m.elements[0].str == "u", m.elements[1].str}, m.elements[2].str});
  }
  return out;
}

}  // namespace

namespace {

// Runs `script` once for each of `n` items, in one round trip: `make(i)` builds item i's
// call (an item whose call cannot be built gets that error and is not sent) and `parse`
// reads its reply.
template <typename T, typename Make, typename Parse>
absl::StatusOr<std::vector<absl::StatusOr<T>>> EvalEach(RedisClient* redis, const LuaScript& script,
                                                        size_t n, Make make, Parse parse,
                                                        absl::Time deadline) {
  std::vector<absl::StatusOr<T>> out(n, absl::InternalError("not sent"));
  std::vector<RedisClient::ScriptCall> calls;
  std::vector<size_t> sent;
  for (size_t i = 0; i < n; ++i) {
    absl::StatusOr<RedisClient::ScriptCall> c = make(i);
    if (!c.ok()) {
      out[i] = c.status();
      continue;
    }
    calls.push_back(*std::move(c));
    sent.push_back(i);
  }
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> replies =
      redis->EvalMany(script, calls, deadline);
  if (!replies.ok()) return replies.status();
  for (size_t k = 0; k < sent.size(); ++k) out[sent[k]] = parse((*replies)[k]);
  return out;
}

}  // namespace

absl::StatusOr<RedisClient::ScriptCall> DispatchStore::MakeOffersCall(const OfferBatch& b,
                                                                      int64_t fence) const {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", b.request_id);
  if (!district.ok()) return district.status();
  RedisClient::ScriptCall c;
  c.keys = {keys::Request(*district, b.request_id)};
  c.args = Args(*district, fence);
  c.args.insert(c.args.end(),
                {b.request_id, std::to_string(b.expected_round), b.next_round ? "next" : "same",
                 std::to_string(absl::ToInt64Milliseconds(b.ttl)), b.mobilization_id,
                 std::to_string(b.offers.size())});
  for (const OfferToMake& o : b.offers) {
    c.args.push_back(KindOf(o.to));
    c.args.push_back(o.to.id);
    c.args.push_back(o.doc);
  }
  return c;
}

absl::StatusOr<MadeOffers> DispatchStore::MakeOffers(
    absl::string_view request_id, int expected_round, bool next_round, absl::Duration ttl,
    absl::string_view mobilization_id, int64_t fence, const std::vector<OfferToMake>& offers,
    absl::Time deadline) {
  OfferBatch b{std::string(request_id),      expected_round, next_round, ttl,
               std::string(mobilization_id), offers};
  absl::StatusOr<RedisClient::ScriptCall> c = MakeOffersCall(b, fence);
  if (!c.ok()) return c.status();
  return MadeOffersOf(redis_->Eval(make_offers_, c->keys, c->args, deadline));
}

absl::StatusOr<std::vector<absl::StatusOr<MadeOffers>>> DispatchStore::MakeOffersMany(
    const std::vector<OfferBatch>& batches, int64_t fence, absl::Time deadline) {
  return EvalEach<MadeOffers>(
      redis_, make_offers_, batches.size(),
      [&](size_t i) { return MakeOffersCall(batches[i], fence); }, MadeOffersOf, deadline);
}

namespace {

// advance_request.lua's reply as a snapshot.
absl::StatusOr<DispatchSnapshot> SnapshotOfAdvance(const absl::StatusOr<RedisValue>& reply) {
  if (!reply.ok()) return reply.status();
  const auto& e = reply->elements;
  if (e.size() != 8) return Malformed("advance_request");
  DispatchSnapshot s;
  if (e[0].str == "gone") {
    s.gone = true;
    return s;
  }
  if (absl::Status st = FillSnapshot(HashFields(e[1]), &s); !st.ok()) return st;
  s.tried = SetOf(e[2]);
  s.declined_by = SetOf(e[3]);
  s.no_show = SetOf(e[4]);
  s.excluded = SetOf(e[5]);
  s.pending = static_cast<int>(Int(e[6]));
  s.expired_now = static_cast<int>(Int(e[7]));
  return s;
}

}  // namespace

absl::StatusOr<RedisClient::ScriptCall> DispatchStore::AdvanceCall(absl::string_view request_id,
                                                                   int64_t fence) const {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", request_id);
  if (!district.ok()) return district.status();
  RedisClient::ScriptCall c;
  c.keys = {keys::Request(*district, request_id)};
  c.args = Args(*district, fence);
  c.args.push_back(std::string(request_id));
  return c;
}

absl::StatusOr<DispatchSnapshot> DispatchStore::Advance(absl::string_view request_id, int64_t fence,
                                                        absl::Time deadline) {
  absl::StatusOr<RedisClient::ScriptCall> c = AdvanceCall(request_id, fence);
  if (!c.ok()) return c.status();
  return SnapshotOfAdvance(redis_->Eval(advance_, c->keys, c->args, deadline));
}

absl::StatusOr<std::vector<absl::StatusOr<DispatchSnapshot>>> DispatchStore::AdvanceMany(
    const std::vector<std::string>& request_ids, int64_t fence, absl::Time deadline) {
  return EvalEach<DispatchSnapshot>(
      redis_, advance_, request_ids.size(),
      [&](size_t i) { return AdvanceCall(request_ids[i], fence); }, SnapshotOfAdvance, deadline);
}

absl::StatusOr<DispatchSnapshot> DispatchStore::Load(absl::string_view request_id,
                                                     absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", request_id);
  if (!district.ok()) return district.status();
  const std::string& d = *district;
  absl::StatusOr<std::vector<RedisValue>> replies =
      redis_->Pipeline({{"HGETALL", keys::Request(d, request_id)},
                        {"SMEMBERS", keys::RequestTried(d, request_id)},
                        {"SMEMBERS", keys::RequestDeclined(d, request_id)},
                        {"SMEMBERS", keys::RequestNoShow(d, request_id)},
                        {"SMEMBERS", keys::RequestExcluded(d, request_id)},
                        {"SCARD", keys::RequestPending(d, request_id)}},
                       deadline);
  if (!replies.ok()) return replies.status();
  const auto& e = *replies;
  HashFields f(e[0]);
  if (f.empty()) return absl::NotFoundError(absl::StrCat("no request with id ", request_id));
  DispatchSnapshot s;
  if (absl::Status st = FillSnapshot(f, &s); !st.ok()) return st;
  s.tried = SetOf(e[1]);
  s.declined_by = SetOf(e[2]);
  s.no_show = SetOf(e[3]);
  s.excluded = SetOf(e[4]);
  s.pending = static_cast<int>(Int(e[5]));
  return s;
}

absl::StatusOr<HelpRequest> DispatchStore::Escalate(
    absl::string_view request_id, std::optional<int> expected_round, EscalationReason reason,
    absl::string_view detail, absl::string_view actor, int64_t fence, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", request_id);
  if (!district.ok()) return district.status();
  std::vector<std::string> args = Args(*district, fence);
  args.insert(args.end(), {std::string(request_id),
                           expected_round.has_value() ? std::to_string(*expected_round) : "",
                           std::string(Name(reason)), std::string(detail), std::string(actor)});
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(escalate_, {keys::Request(*district, request_id)}, args, deadline);
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 2) return Malformed("escalate_request");
  return RequestFromFields(HashFields(reply->elements[1]));
}

absl::StatusOr<OfferReply> DispatchStore::Respond(const OfferAnswer& a, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfOfferId("offer_id", a.offer_id);
  if (!district.ok()) return district.status();
  std::vector<std::string> args = Args(*district, 0);
  args.insert(args.end(),
              {a.offer_id, a.accept ? "accept" : "decline", std::to_string(a.decline_reason),
               a.decline_note, a.volunteer_id, a.privileged ? "1" : "0"});
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(respond_, {keys::Offer(*district, a.offer_id)}, args, deadline);
  if (absl::IsNotFound(reply.status())) {
    return absl::NotFoundError(absl::StrCat("no offer with id ", a.offer_id));
  }
  if (!reply.ok()) return reply.status();
  const auto& e = reply->elements;
  if (e.size() != 3) return Malformed("respond_offer");
  OfferReply out;
  out.replayed = e[0].str == "replayed";
  absl::StatusOr<OfferRecord> o = OfferFromFields(HashFields(e[1]));
  if (!o.ok()) return o.status();
  out.offer = *std::move(o);
  if (!e[2].elements.empty()) {
    absl::StatusOr<AssignmentRecord> asg = AssignmentFromFields(HashFields(e[2]));
    if (!asg.ok()) return asg.status();
    out.assignment = *std::move(asg);
  }
  return out;
}

absl::StatusOr<ProgressReply> DispatchStore::Progress(const ProgressReport& r,
                                                      absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", r.request_id);
  if (!district.ok()) return district.status();
  std::vector<std::string> args = Args(*district, 0);
  args.insert(args.end(), {r.request_id, r.assignee.has_value() ? KindOf(*r.assignee) : "",
                           r.assignee.has_value() ? r.assignee->id : "", std::string(Name(r.kind)),
                           std::to_string(r.minutes_served), std::to_string(r.rating), r.notes,
                           r.actor, r.volunteer_id});
  for (Urgency u : {Urgency::kRoutine, Urgency::kUrgent, Urgency::kCrisis}) {
    args.push_back(std::to_string(options_.points_rule.Amount(r.minutes_served, u)));
    args.push_back(options_.points_rule.Explain(r.minutes_served, u));
  }
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(progress_, {keys::Request(*district, r.request_id)}, args, deadline);
  if (!reply.ok()) return reply.status();
  const auto& e = reply->elements;
  if (e.size() != 3) return Malformed("report_progress");
  ProgressReply out;
  out.changed = e[0].str == "changed";
  absl::StatusOr<AssignmentRecord> asg = AssignmentFromFields(HashFields(e[1]));
  if (!asg.ok()) return asg.status();
  out.assignment = *std::move(asg);
  out.request_state = ParseRequestState(e[2].str).value_or(RequestState::kUnknown);
  return out;
}

absl::StatusOr<OverrideReply> DispatchStore::Apply(const Override& o, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", o.request_id);
  if (!district.ok()) return district.status();
  std::vector<std::string> args = Args(*district, 0);
  args.insert(args.end(),
              {o.request_id, o.to.has_value() ? KindOf(*o.to) : "",
               o.to.has_value() ? o.to->id : "", o.reason, o.actor, o.force ? "1" : "0",
               o.from.has_value() ? KindOf(*o.from) : "", o.from.has_value() ? o.from->id : ""});
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(assign_, {keys::Request(*district, o.request_id)}, args, deadline);
  if (!reply.ok()) return reply.status();
  const auto& e = reply->elements;
  if (e.size() != 2) return Malformed("assign_request");
  OverrideReply out;
  for (int i = 0; i < 2; ++i) {
    if (e[i].elements.empty()) continue;
    absl::StatusOr<AssignmentRecord> asg = AssignmentFromFields(HashFields(e[i]));
    if (!asg.ok()) return asg.status();
    (i == 0 ? out.released : out.assigned) = *std::move(asg);
  }
  return out;
}

absl::StatusOr<Mobilization> DispatchStore::Mobilize(absl::string_view district,
                                                     absl::string_view key,
                                                     const RequestContent& content,
                                                     absl::string_view fingerprint,
                                                     absl::string_view actor, absl::Time deadline) {
  std::vector<std::string> args = Args(district, 0);
  args.insert(args.end(), {std::string(district), std::string(key), EncodeRequestContent(content),
                           std::string(Name(content.category)), content.resident.community_id,
                           std::to_string(std::max(1, content.headcount)),
                           std::to_string(absl::ToInt64Seconds(options_.idempotency_ttl)),
                           std::string(actor), std::string(fingerprint)});
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(mobilize_, {keys::MobilizeIdempotency(district, key)}, args, deadline);
  if (!reply.ok()) return reply.status();
  const auto& e = reply->elements;
  if (e.size() != 3) return Malformed("mobilize");
  Mobilization m;
  m.replayed = e[0].str == "replayed";
  m.mobilization_id = e[1].str;
  absl::StatusOr<HelpRequest> r = RequestFromFields(HashFields(e[2]));
  if (!r.ok()) return r.status();
  m.request = *std::move(r);
  return m;
}

absl::StatusOr<OfferRecord> DispatchStore::GetOffer(absl::string_view offer_id,
                                                    absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfOfferId("offer_id", offer_id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"HGETALL", keys::Offer(*district, offer_id)}, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<OfferRecord> o = OfferFromFields(HashFields(*reply));
  if (absl::IsNotFound(o.status())) {
    return absl::NotFoundError(absl::StrCat("no offer with id ", offer_id));
  }
  return o;
}

absl::StatusOr<std::vector<OfferRecord>> DispatchStore::PendingOffers(absl::string_view district,
                                                                      const AssigneeRef& who,
                                                                      absl::Time deadline) {
  absl::StatusOr<RedisValue> ids =
      redis_->Command({"SMEMBERS", keys::AssigneePending(district, who.Key())}, deadline);
  if (!ids.ok()) return ids.status();
  std::vector<std::string> offer_keys;
  for (const RedisValue& id : ids->elements) offer_keys.push_back(keys::Offer(district, id.str));
  absl::StatusOr<std::vector<OfferRecord>> offers =
      FetchRecords<OfferRecord>(redis_, offer_keys, OfferFromFields, deadline);
  if (!offers.ok()) return offers.status();
  std::sort(offers->begin(), offers->end(), [](const OfferRecord& a, const OfferRecord& b) {
    return std::tie(a.create_time_ms, a.id) < std::tie(b.create_time_ms, b.id);
  });
  return offers;
}

absl::StatusOr<std::vector<OfferRecord>> DispatchStore::OffersOf(absl::string_view request_id,
                                                                 int count, absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", request_id);
  if (!district.ok()) return district.status();
  std::vector<std::string> offer_keys;
  for (int i = 1; i <= count; ++i) {
    offer_keys.push_back(keys::Offer(*district, absl::StrCat(request_id, "-o", i)));
  }
  return FetchRecords<OfferRecord>(redis_, offer_keys, OfferFromFields, deadline);
}

absl::StatusOr<std::vector<AssignmentRecord>> DispatchStore::AssignmentsOf(
    const DispatchSnapshot& s, absl::Time deadline) {
  std::vector<std::string> asg_keys;
  for (const AssigneeRef& a : s.assignees) {
    asg_keys.push_back(keys::Assignment(s.request.district, s.request.id, a.Key()));
  }
  return FetchRecords<AssignmentRecord>(redis_, asg_keys, AssignmentFromFields, deadline);
}

absl::StatusOr<AssignmentRecord> DispatchStore::GetAssignment(absl::string_view request_id,
                                                              const AssigneeRef& who,
                                                              absl::Time deadline) {
  absl::StatusOr<std::string> district = DistrictOfRequestId("request_id", request_id);
  if (!district.ok()) return district.status();
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"HGETALL", keys::Assignment(*district, request_id, who.Key())}, deadline);
  if (!reply.ok()) return reply.status();
  return AssignmentFromFields(HashFields(*reply));
}

absl::StatusOr<CandidateHistory> DispatchStore::History(
    absl::string_view district, const std::vector<std::string>& volunteer_ids,
    absl::string_view phone_hash, absl::Time deadline) {
  absl::StatusOr<std::vector<CandidateHistory>> h =
      Histories(district, {HistoryAsk{std::string(phone_hash), volunteer_ids}}, deadline);
  if (!h.ok()) return h.status();
  return std::move(h->front());
}

absl::StatusOr<std::vector<CandidateHistory>> DispatchStore::Histories(
    absl::string_view district, const std::vector<HistoryAsk>& asks, absl::Time deadline) {
  std::vector<CandidateHistory> out(asks.size());
  // A batch cycle's requests share many candidates and some residents: each volunteer's
  // counters and each resident's served set are read once; pairings are per pair.
  std::vector<std::vector<std::string>> commands;
  absl::flat_hash_map<std::string, size_t> stats_at, served_at;  // Reply index.
  std::vector<std::vector<size_t>> paired_at(asks.size());
  for (size_t a = 0; a < asks.size(); ++a) {
    const HistoryAsk& ask = asks[a];
    if (!ask.phone_hash.empty() && served_at.try_emplace(ask.phone_hash, commands.size()).second) {
      commands.push_back({"SMEMBERS", keys::Served(district, ask.phone_hash)});
    }
    for (const std::string& id : ask.volunteer_ids) {
      if (stats_at.try_emplace(id, commands.size()).second) {
        commands.push_back({"HMGET", keys::Volunteer(district, id), "n_offers", "n_accepted",
                            "n_answered", "n_ended", "n_completed", "n_no_show", "recent_load",
                            "active_n", "last_offer_ms"});
      }
      if (!ask.phone_hash.empty()) {
        paired_at[a].push_back(commands.size());
        commands.push_back({"EXISTS", keys::PairingKey(district, id, ask.phone_hash)});
      }
    }
  }
  if (commands.empty()) return out;
  absl::StatusOr<std::vector<RedisValue>> replies = redis_->Pipeline(commands, deadline);
  if (!replies.ok()) return replies.status();
  for (size_t a = 0; a < asks.size(); ++a) {
    CandidateHistory& h = out[a];
    const HistoryAsk& ask = asks[a];
    absl::flat_hash_set<std::string> served;
    if (!ask.phone_hash.empty()) served = SetOf((*replies)[served_at[ask.phone_hash]]);
    for (size_t k = 0; k < ask.volunteer_ids.size(); ++k) {
      const std::string& id = ask.volunteer_ids[k];
      const auto& f = (*replies)[stats_at[id]].elements;
      if (f.size() == 9) {
        VolunteerStats s;
        s.offers = static_cast<int>(Int(f[0]));
        s.offers_accepted = static_cast<int>(Int(f[1]));
        s.offers_answered = static_cast<int>(Int(f[2]));
        s.assignments_ended = static_cast<int>(Int(f[3]));
        s.completed = static_cast<int>(Int(f[4]));
        s.no_shows = static_cast<int>(Int(f[5]));
        s.recent_load = static_cast<int>(Int(f[6]));
        s.active_assignments = static_cast<int>(Int(f[7]));
        s.last_offer_time_ms = Int(f[8]);
        h.stats.emplace(id, s);
      }
      if (!ask.phone_hash.empty()) {
        if (Int((*replies)[paired_at[a][k]]) == 1) h.paired.insert(id);
        if (served.contains(id)) h.served_before.insert(id);
      }
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DispatchStore::DueRequests(absl::string_view district,
                                                                    int64_t now_ms, int limit,
                                                                    absl::Time deadline) {
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"ZRANGE", keys::Due(district), "-inf", std::to_string(now_ms), "BYSCORE",
                       "LIMIT", "0", std::to_string(limit)},
                      deadline);
  if (!reply.ok()) return reply.status();
  std::vector<std::string> out;
  for (const RedisValue& v : reply->elements) out.push_back(v.str);
  return out;
}

absl::Status DispatchStore::Postpone(absl::string_view district,
                                     const std::vector<std::string>& request_ids, int64_t at_ms,
                                     absl::Time deadline) {
  if (request_ids.empty()) return absl::OkStatus();
  std::vector<std::string> cmd = {"ZADD", keys::Due(district), "XX"};
  for (const std::string& id : request_ids) {
    cmd.push_back(std::to_string(at_ms));
    cmd.push_back(id);
  }
  return redis_->Command(cmd, deadline).status();
}

absl::StatusOr<std::vector<DispatchSnapshot>> DispatchStore::Escalations(absl::string_view district,
                                                                         int64_t offset, int limit,
                                                                         absl::Time deadline) {
  absl::StatusOr<RedisValue> ids =
      redis_->Command({"ZRANGE", keys::Escalations(district), std::to_string(offset),
                       std::to_string(offset + limit - 1)},
                      deadline);
  if (!ids.ok()) return ids.status();
  std::vector<std::vector<std::string>> commands;
  for (const RedisValue& id : ids->elements) {
    commands.push_back({"HGETALL", keys::Request(district, id.str)});
  }
  std::vector<DispatchSnapshot> out;
  if (commands.empty()) return out;
  absl::StatusOr<std::vector<RedisValue>> replies = redis_->Pipeline(commands, deadline);
  if (!replies.ok()) return replies.status();
  for (const RedisValue& r : *replies) {
    HashFields f(r);
    if (f.empty()) continue;
    DispatchSnapshot s;
    if (absl::Status st = FillSnapshot(f, &s); !st.ok()) return st;
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<Lease> DispatchStore::HoldLease(absl::string_view district, absl::string_view owner,
                                               absl::Duration ttl, bool hold, absl::Time deadline) {
  std::vector<std::string> args = Args(district, 0);
  args.insert(args.end(), {std::string(owner), std::to_string(absl::ToInt64Milliseconds(ttl)),
                           hold ? "hold" : "release"});
  absl::StatusOr<RedisValue> reply = redis_->Eval(lease_, {keys::Lease(district)}, args, deadline);
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 2) return Malformed("lease");
  return Lease{Int(reply->elements[0]), reply->elements[1].str};
}

absl::StatusOr<StreamPage> DispatchStore::ReadStream(absl::string_view key,
                                                     absl::string_view after_id, int count,
                                                     absl::Time deadline) {
  std::string start = after_id.empty() ? "-" : absl::StrCat("(", after_id);
  absl::StatusOr<std::vector<RedisValue>> replies =
      redis_->Pipeline({{"XRANGE", std::string(key), start, "+", "COUNT", std::to_string(count)},
                        {"XRANGE", std::string(key), "-", "+", "COUNT", "1"},
                        {"XREVRANGE", std::string(key), "+", "-", "COUNT", "1"}},
                       deadline);
  if (!replies.ok()) return replies.status();
  StreamPage page;
  for (const RedisValue& entry : (*replies)[0].elements) {
    if (entry.elements.size() != 2) return Malformed("XRANGE");
    page.entries.emplace_back(entry.elements[0].str, HashFields(entry.elements[1]));
  }
  if (!(*replies)[1].elements.empty()) page.oldest_id = (*replies)[1].elements[0].elements[0].str;
  if (!(*replies)[2].elements.empty()) page.last_id = (*replies)[2].elements[0].elements[0].str;
  return page;
}

}  // namespace yiyuan
