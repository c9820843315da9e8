// dispatchctl: the operator's command line for Yiyuan Dispatch.
//
//   dispatchctl [--server=ADDR] [--token=SECRET] [--json] COMMAND [ARGS] [flags]
//
// `dispatchctl help` describes every command. Exit status: 0 success; 1 the call failed
// (the server answered with an error or could not be reached); 2 the command line is
// wrong (unknown command or flag, bad value, missing token).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "clients/api_format.h"
#include "clients/env.h"
#include "clients/points_format.h"
#include "clients/text_table.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/flag_names.h"
#include "yiyuan/v1/admin.grpc.pb.h"
#include "yiyuan/v1/dispatch.grpc.pb.h"
#include "yiyuan/v1/intake.grpc.pb.h"
#include "yiyuan/v1/points.grpc.pb.h"
#include "yiyuan/v1/unit.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

using yiyuan::EnvOr;

// Every command. Enum values are accepted in any case; `dispatchctl help` lists them.
ABSL_FLAG(std::string, server, EnvOr("YIYUAN_SERVER", "127.0.0.1:50051"),
          "dispatchd's gRPC address (default: $YIYUAN_SERVER, else 127.0.0.1:50051)");
ABSL_FLAG(std::string, token, "",
          "bearer token (default: $YIYUAN_TOKEN, else the contents of <data-dir>/admin.token)");
ABSL_FLAG(std::string, data_dir, "./var", "dispatchd's data directory, holding admin.token");
ABSL_FLAG(bool, json, false, "print the server's answer as JSON");
ABSL_FLAG(int, timeout_ms, 5000, "deadline of each call in milliseconds");

// Requests, volunteers, units, pairings and tokens. Commands that read a flag differently
// (--name is a resident's, a volunteer's or a unit's) say so in their own usage.
ABSL_FLAG(std::string, channel, "", "how the request arrived");
ABSL_FLAG(std::string, category, "", "what kind of help");
ABSL_FLAG(std::string, urgency, "", "how fast help must arrive");
ABSL_FLAG(std::string, community, "", "community id, e.g. wx-aiguo");
ABSL_FLAG(std::string, district, "", "district (default: the token's district)");
ABSL_FLAG(std::string, name, "", "name");
ABSL_FLAG(std::string, phone, "", "resident's phone: mobile or landline");
ABSL_FLAG(std::string, address, "", "resident's street address");
ABSL_FLAG(absl::optional<double>, lat, absl::nullopt, "latitude in degrees (WGS-84)");
ABSL_FLAG(absl::optional<double>, lng, absl::nullopt, "longitude in degrees (WGS-84)");
ABSL_FLAG(std::string, compound, "", "compound id inside the community");
ABSL_FLAG(std::string, description, "", "what the resident needs, in their words");
ABSL_FLAG(std::string, station, "", "station that took it in (required for station, sweep)");
ABSL_FLAG(std::string, operator, "", "call-taker or operator who entered it");
ABSL_FLAG(int, headcount, 0, "helpers needed, 1..50 (default 1)");
ABSL_FLAG(std::string, required_skills, "", "comma list of skills every helper must have");
ABSL_FLAG(std::string, preferred_skills, "", "comma list of skills that make a better fit");
ABSL_FLAG(bool, lives_alone, false, "the resident lives alone");
ABSL_FLAG(bool, high_age, false, "the resident is 80 or older");
ABSL_FLAG(bool, disabled, false, "the resident has a disability");
ABSL_FLAG(std::string, request_id, "",
          "idempotency key, 8..64 of [A-Za-z0-9_-] (default: a new random id)");
ABSL_FLAG(std::string, state, "", "comma list of states");
ABSL_FLAG(int, page_size, 0, "results per page, at most 500 (default 50)");
ABSL_FLAG(std::string, page_token, "", "continue from a previous page");
ABSL_FLAG(bool, all, false, "follow page tokens to the last page");
ABSL_FLAG(std::string, reason, "", "why, 1..500 characters (required; kept in the audit trail)");
ABSL_FLAG(std::string, role, "", "what the token may do (required)");
ABSL_FLAG(std::string, kiosk, "", "the kiosk a kiosk token is limited to");
ABSL_FLAG(std::string, volunteer, "", "the volunteer a volunteer_app token is bound to");
ABSL_FLAG(std::string, external_id, "",
          "the caller's own id for the volunteer (e.g. the national volunteer platform id), "
          "1..64 of [A-Za-z0-9_-]");
ABSL_FLAG(std::string, skill, "", "only volunteers with this skill (a certificate's token counts)");
ABSL_FLAG(std::string, certificate, "", "only volunteers holding this certificate");
ABSL_FLAG(std::string, duty, "", "only volunteers in this duty status");
ABSL_FLAG(std::string, team, "", "only members of this team (a team unit's id)");
ABSL_FLAG(std::string, skills, "", "comma list of lower-case skill tokens, e.g. cooking,haircut");
ABSL_FLAG(std::string, certificates, "", "comma list of verified certificates");
ABSL_FLAG(std::string, languages, "", "comma list of languages and dialects, e.g. zh,wuu-huzhou");
ABSL_FLAG(std::string, availability, "",
          "weekly hours, Asia/Shanghai time: comma list of DAYS HH:MM-HH:MM, e.g. \"mon-fri "
          "08:00-12:00,sat 09:00-17:00\"; end may be 24:00");
ABSL_FLAG(int, capacity, 0, "assignments held at once");
ABSL_FLAG(int, limit, 0, "at most this many candidates, up to 200 (default 20)");
ABSL_FLAG(double, radius_m, 0, "search radius in metres, up to 50000 (default 5000)");
ABSL_FLAG(bool, available_now, false,
          "only candidates with capacity left and (volunteers) inside a weekly availability slot");
ABSL_FLAG(bool, units, false, "also find active stations, vans and teams");
ABSL_FLAG(std::string, unit_kinds, "", "comma list of unit kinds to find (implies --units)");
ABSL_FLAG(std::string, exclude, "", "comma list of volunteer or unit ids to leave out");
ABSL_FLAG(std::string, kind, "", "unit kind");
ABSL_FLAG(bool, active_only, false, "only units that can be dispatched now");
ABSL_FLAG(std::string, unit_id, "",
          "client-chosen id, 3..64 of [A-Za-z0-9_-] (default: server-assigned); makes create "
          "idempotent");
ABSL_FLAG(std::string, members, "",
          "comma list of volunteer ids: the station's staff, the van's crew or the team");
ABSL_FLAG(std::string, leader, "", "the leader's volunteer id; must be one of --members");
ABSL_FLAG(std::string, equipment, "", "comma list of equipment tokens, e.g. wheelchair,stretcher");
ABSL_FLAG(bool, active, false, "the unit can be dispatched");
ABSL_FLAG(bool, inactive, false, "the unit cannot be dispatched (never offered work)");
ABSL_FLAG(std::string, recurrence, "", "how often the volunteer visits");
ABSL_FLAG(std::string, notes, "", "free text, up to 1000 characters");

// Dispatch: explanations, overrides, escalations, mobilisation, events, offers, progress.
ABSL_FLAG(bool, excluded, false, "also list the candidates left out, and why");
ABSL_FLAG(std::string, unit, "", "a unit (station, van or team) id");
ABSL_FLAG(std::string, from, "", "the current assignee to release: v:VOLUNTEER_ID or u:UNIT_ID");
ABSL_FLAG(std::string, to, "",
          "the new assignee: v:VOLUNTEER_ID or u:UNIT_ID (default: back to matching, without "
          "--from)");
ABSL_FLAG(bool, force, false,
          "skip the assignee's hard-constraint checks (duty, capacity, skills)");
ABSL_FLAG(std::string, key, "",
          "idempotency key, 8..64 of [A-Za-z0-9_-] (default: a new random key)");
ABSL_FLAG(int, needed, 0, "how many volunteers are needed, 1..10000 (required)");
ABSL_FLAG(int, ttl_s, 0, "offer lifetime in seconds, 60..86400 (default 1800)");
ABSL_FLAG(std::string, after, "",
          "resume after this event id (\"0\": from the oldest kept; default: from now)");
ABSL_FLAG(std::string, types, "", "comma list of event types (default: all)");
ABSL_FLAG(std::string, request, "", "only events of this request");
ABSL_FLAG(int, max, 0, "stop after this many messages (default: no limit)");
ABSL_FLAG(int, idle_ms, 0,
          "stop once nothing has arrived for this many milliseconds (default: never)");
ABSL_FLAG(bool, follow, false, "keep streaming: every new offer and every change, until Ctrl-C");
ABSL_FLAG(int, minutes, 0, "minutes of service, 1..1440 (required for completed)");
ABSL_FLAG(int, rating, 0, "the resident's rating, 1..5 (required for rated)");

// Points: balances, the ledger, catalogs, redemptions.
ABSL_FLAG(std::string, account, "",
          "only entries debiting or crediting this account: fund, volunteer:ID or kiosk:ID");
ABSL_FLAG(std::string, kinds, "", "comma list of ledger entry kinds (default: all)");
ABSL_FLAG(bool, include_inactive, false, "also list inactive items");
ABSL_FLAG(int64_t, price, 0, "price per item in points, 1..1000000");
ABSL_FLAG(int64_t, stock, 0, "items in stock, set outright (overwrites concurrent redemptions)");
ABSL_FLAG(int64_t, stock_delta, 0,
          "items added to the stock (negative: removed), atomically; prefer it to --stock");
ABSL_FLAG(int, quantity, 1, "how many items, 1..99");
ABSL_FLAG(int64_t, expected_price, 0,
          "the price per item the volunteer was shown; a different current price is refused");
ABSL_FLAG(bool, restock, false, "the goods came back: put the redeemed quantity back into stock");

namespace yiyuan {
namespace {

using google::protobuf::EnumDescriptor;

constexpr int kExitOk = 0;
constexpr int kExitCallFailed = 1;
constexpr int kExitUsage = 2;

// ---------------------------------------------------------------------------------------
// Helpers

int UsageError(absl::string_view message) {
  std::fprintf(stderr, "dispatchctl: %s\nRun 'dispatchctl help' for usage.\n",
               std::string(message).c_str());
  return kExitUsage;
}

void Print(absl::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string Dashed(absl::string_view flag) { return absl::StrReplaceAll(flag, {{"_", "-"}}); }

// "a, b,,c" is {"a", "b", "c"}.
std::vector<std::string> SplitList(absl::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(item));
  }
  return out;
}

int PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    std::fprintf(stderr, "dispatchctl: cannot print the answer as JSON\n");
    return kExitCallFailed;
  }
  Print(json);
  if (!absl::EndsWith(json, "\n")) Print("\n");
  return kExitOk;
}

// A random UUID-like (version 4) id, e.g. "3f2c9a1e-5b7d-4c2e-9a6f-0e1d2c3b4a59".
absl::StatusOr<std::string> RandomRequestId() {
  char bytes[16];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(bytes, sizeof(bytes))) {
    return absl::UnavailableError("cannot read /dev/urandom; pass --request-id");
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<char>((bytes[8] & 0x3F) | 0x80);
  std::string hex = absl::BytesToHexString(absl::string_view(bytes, sizeof(bytes)));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

// ---------------------------------------------------------------------------------------
// The connection

// A channel to dispatchd and the credentials every call carries.
class Session {
 public:
  Session(std::string address, std::string token, std::string token_source, absl::Duration timeout)
      : address_(std::move(address)),
        token_(std::move(token)),
        token_source_(std::move(token_source)),
        timeout_(timeout),
        channel_(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials())),
        intake_(v1::IntakeService::NewStub(channel_)),
        volunteer_(v1::VolunteerService::NewStub(channel_)),
        unit_(v1::UnitService::NewStub(channel_)),
        admin_(v1::AdminService::NewStub(channel_)),
        dispatch_(v1::DispatchService::NewStub(channel_)),
        points_(v1::PointsService::NewStub(channel_)) {}

  v1::IntakeService::Stub& intake() { return *intake_; }
  v1::VolunteerService::Stub& volunteer() { return *volunteer_; }
  v1::UnitService::Stub& unit() { return *unit_; }
  v1::AdminService::Stub& admin() { return *admin_; }
  v1::DispatchService::Stub& dispatch() { return *dispatch_; }
  v1::PointsService::Stub& points() { return *points_; }

  // A context for one call, with the bearer token and the deadline set.
  std::unique_ptr<grpc::ClientContext> NewCall() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    return context;
  }

  // A context for a server stream: the bearer token and no deadline (it runs until the
  // caller cancels it).
  std::unique_ptr<grpc::ClientContext> NewStreamCall() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    return context;
  }

  // Waits up to --timeout-ms for the channel to connect. OK, or UNAVAILABLE.
  grpc::Status WaitForConnected() const {
    if (channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout_))) {
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("cannot connect to ", address_));
  }

  // Reports a failed call on stderr: "dispatchctl: CODE: message", one line per field
  // violation the server attached, and a hint where one helps. Returns the exit status.
  int Fail(const grpc::Status& status) const {
    std::string code = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
    std::fprintf(stderr, "dispatchctl: %s: %s\n", code.c_str(), status.error_message().c_str());
    for (const google::rpc::BadRequest::FieldViolation& v : FieldViolations(status)) {
      std::fprintf(stderr, "  %s: %s\n", v.field().c_str(), v.description().c_str());
    }
    std::string hint = Hint(status.error_code());
    if (!hint.empty()) std::fprintf(stderr, "dispatchctl: hint: %s\n", hint.c_str());
    return kExitCallFailed;
  }

 private:
  static std::vector<google::rpc::BadRequest::FieldViolation> FieldViolations(
      const grpc::Status& status) {
    std::vector<google::rpc::BadRequest::FieldViolation> out;
    google::rpc::Status details;
    if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
      return out;
    }
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::BadRequest bad_request;
      if (!any.UnpackTo(&bad_request)) continue;
      out.insert(out.end(), bad_request.field_violations().begin(),
                 bad_request.field_violations().end());
    }
    return out;
  }

  std::string Hint(grpc::StatusCode code) const {
    switch (code) {
      case grpc::StatusCode::UNAVAILABLE:
        return absl::StrCat("is dispatchd running at ", address_,
                            "? (set --server or YIYUAN_SERVER)");
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return absl::StrCat("no answer from ", address_, " within ", absl::FormatDuration(timeout_),
                            " (--timeout-ms)");
      case grpc::StatusCode::UNAUTHENTICATED:
        return absl::StrCat("the token came from ", token_source_,
                            "; pass a valid one with --token or YIYUAN_TOKEN");
      default:
        return "";
    }
  }

  const std::string address_;
  const std::string token_;
  const std::string token_source_;
  const absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::VolunteerService::Stub> volunteer_;
  std::unique_ptr<v1::UnitService::Stub> unit_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<v1::DispatchService::Stub> dispatch_;
  std::unique_ptr<v1::PointsService::Stub> points_;
};

// Connects as the global flags say. Fails (a usage error) when no token can be found.
absl::StatusOr<std::unique_ptr<Session>> OpenSession() {
  int timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout_ms <= 0) return absl::InvalidArgumentError("--timeout-ms must be positive");
  std::string token = absl::GetFlag(FLAGS_token);
  std::string source = "--token";
  if (token.empty()) {
    token = EnvOr("YIYUAN_TOKEN", "");
    source = "$YIYUAN_TOKEN";
  }
  if (token.empty()) {
    source = absl::StrCat(absl::GetFlag(FLAGS_data_dir), "/admin.token");
    std::ifstream in(source);
    std::stringstream contents;
    contents << in.rdbuf();
    token = std::string(absl::StripAsciiWhitespace(contents.str()));
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "no token: pass --token, set YIYUAN_TOKEN, or point --data-dir at dispatchd's data "
          "directory (",
          source, " is missing or empty)"));
    }
  }
  return std::make_unique<Session>(absl::GetFlag(FLAGS_server), token, source,
                                   absl::Milliseconds(timeout_ms));
}

// ---------------------------------------------------------------------------------------
// Commands. Each returns the exit status.

// What follows a command's name: its operands (already counted) and the dashed names of
// the flags given on the command line (update commands build their field mask from them).
struct Args {
  std::vector<std::string> operands;
  std::vector<std::string> flags;

  bool Given(absl::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
};

// Calls `list` with `request` and, when `follow`, again with each next_page_token,
// gathering the pages into `result` (whose next_page_token is the last page's).
template <typename Request, typename Response, typename List>
grpc::Status ListPages(List list, Request request, bool follow, Response* result) {
  do {
    Response page;
    grpc::Status status = list(request, &page);
    if (!status.ok()) return status;
    const std::string next = page.next_page_token();
    result->MergeFrom(page);  // appends the page's items
    result->set_next_page_token(next);
    request.set_page_token(next);
  } while (follow && !result->next_page_token().empty());
  return grpc::Status::OK;
}

// After a listing: how to get the rest, if there is more.
void PrintMore(const std::string& next_page_token) {
  if (next_page_token.empty()) return;
  Print(absl::StrCat("More: --page-token=", next_page_token, " (or --all)\n"));
}

// --lat and --lng: unset when neither is given; a usage error when only one is.
absl::StatusOr<absl::optional<v1::LatLng>> LocationFromFlags() {
  absl::optional<double> lat = absl::GetFlag(FLAGS_lat);
  absl::optional<double> lng = absl::GetFlag(FLAGS_lng);
  if (lat.has_value() != lng.has_value()) {
    return absl::InvalidArgumentError("--lat and --lng go together");
  }
  if (!lat.has_value()) return absl::nullopt;
  v1::LatLng at;
  at.set_lat(*lat);
  at.set_lng(*lng);
  return at;
}

// A flag of an update command and the field path it changes.
struct MaskedFlag {
  const char* flag;
  const char* path;
};

// The paths of the flags in `table` that were given, in table order, each once.
google::protobuf::FieldMask MaskFromFlags(const Args& args, const std::vector<MaskedFlag>& table) {
  google::protobuf::FieldMask mask;
  for (const MaskedFlag& entry : table) {
    if (!args.Given(entry.flag)) continue;
    const auto& paths = mask.paths();
    if (std::find(paths.begin(), paths.end(), entry.path) == paths.end()) {
      mask.add_paths(entry.path);
    }
  }
  return mask;
}

// "--a, --b, --c": the flags of `table`, for "needs at least one of".
std::string FlagsOf(const std::vector<MaskedFlag>& table) {
  std::vector<std::string> names;
  for (const MaskedFlag& entry : table) names.push_back(absl::StrCat("--", entry.flag));
  return absl::StrJoin(names, ", ");
}

// --channel, --category and --urgency; 0 where a flag is empty.
struct RequestKind {
  v1::Channel channel = v1::CHANNEL_UNSPECIFIED;
  v1::Category category = v1::CATEGORY_UNSPECIFIED;
  v1::Urgency urgency = v1::URGENCY_UNSPECIFIED;
};

absl::StatusOr<RequestKind> KindFromFlags() {
  absl::StatusOr<int> channel =
      ParseEnum("channel", absl::GetFlag(FLAGS_channel), *v1::Channel_descriptor());
  absl::StatusOr<int> category =
      ParseEnum("category", absl::GetFlag(FLAGS_category), *v1::Category_descriptor());
  absl::StatusOr<int> urgency =
      ParseEnum("urgency", absl::GetFlag(FLAGS_urgency), *v1::Urgency_descriptor());
  for (const absl::StatusOr<int>* parsed : {&channel, &category, &urgency}) {
    if (!parsed->ok()) return parsed->status();
  }
  RequestKind kind;
  kind.channel = static_cast<v1::Channel>(*channel);
  kind.category = static_cast<v1::Category>(*category);
  kind.urgency = static_cast<v1::Urgency>(*urgency);
  return kind;
}

absl::StatusOr<v1::SubmitRequestRequest> SubmitRequestFromFlags() {
  absl::StatusOr<RequestKind> kind = KindFromFlags();
  if (!kind.ok()) return kind.status();
  std::string request_id = absl::GetFlag(FLAGS_request_id);
  if (request_id.empty()) {
    absl::StatusOr<std::string> random = RandomRequestId();
    if (!random.ok()) return random.status();
    request_id = *random;
  }
  v1::SubmitRequestRequest out;
  out.set_request_id(request_id);
  out.set_district(absl::GetFlag(FLAGS_district));
  v1::HelpRequest& r = *out.mutable_request();
  r.set_channel(kind->channel);
  r.set_category(kind->category);
  r.set_urgency(kind->urgency);
  r.set_description(absl::GetFlag(FLAGS_description));
  r.set_headcount(absl::GetFlag(FLAGS_headcount));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_required_skills))) {
    r.add_required_skills(std::move(s));
  }
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_preferred_skills))) {
    r.add_preferred_skills(std::move(s));
  }
  r.mutable_intake()->set_station_id(absl::GetFlag(FLAGS_station));
  r.mutable_intake()->set_operator_id(absl::GetFlag(FLAGS_operator));
  v1::Resident& resident = *r.mutable_resident();
  resident.set_name(absl::GetFlag(FLAGS_name));
  resident.set_phone(absl::GetFlag(FLAGS_phone));
  resident.set_address(absl::GetFlag(FLAGS_address));
  absl::optional<double> lat = absl::GetFlag(FLAGS_lat);
  absl::optional<double> lng = absl::GetFlag(FLAGS_lng);
  if (lat.has_value() || lng.has_value()) {
    resident.mutable_location()->set_lat(lat.value_or(0));
    resident.mutable_location()->set_lng(lng.value_or(0));
  }
  resident.set_community_id(absl::GetFlag(FLAGS_community));
  resident.set_compound_id(absl::GetFlag(FLAGS_compound));
  resident.set_lives_alone(absl::GetFlag(FLAGS_lives_alone));
  resident.set_high_age(absl::GetFlag(FLAGS_high_age));
  resident.set_disabled(absl::GetFlag(FLAGS_disabled));
  return out;
}

// One line saying what the server did with a submission.
std::string SubmitOutcome(const v1::SubmitRequestRequest& request,
                          const v1::SubmitRequestResponse& response) {
  const v1::HelpRequest& stored = response.request();
  std::string out;
  if (response.replayed()) {
    absl::StrAppend(&out, "replayed: request id ", request.request_id(),
                    " was submitted before; this is what it returned then\n");
  }
  if (!response.duplicate_of().empty()) {
    absl::StrAppend(&out, "duplicate of ", response.duplicate_of(),
                    ": the resident already has an open ",
                    EnumName(*v1::Category_descriptor(), stored.category()),
                    " request; nothing new was stored\n");
  }
  if (out.empty()) absl::StrAppend(&out, "submitted ", stored.id(), "\n");
  return out;
}

int RunSubmit(Session& session, const Args&) {
  absl::StatusOr<v1::SubmitRequestRequest> request = SubmitRequestFromFlags();
  if (!request.ok()) return UsageError(request.status().message());
  v1::SubmitRequestResponse response;
  grpc::Status status =
      session.intake().SubmitRequest(session.NewCall().get(), *request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(absl::StrCat(SubmitOutcome(*request, response), "\n",
                     FormatFields(RequestFields(response.request()))));
  return kExitOk;
}

int PrintRequest(const v1::HelpRequest& request) {
  if (absl::GetFlag(FLAGS_json)) return PrintJson(request);
  Print(FormatFields(RequestFields(request)));
  return kExitOk;
}

int RunGet(Session& session, const Args& args) {
  v1::GetRequestRequest request;
  request.set_id(args.operands[0]);
  v1::HelpRequest response;
  grpc::Status status = session.intake().GetRequest(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintRequest(response);
}

int RunCancel(Session& session, const Args& args) {
  v1::CancelRequestRequest request;
  request.set_id(args.operands[0]);
  request.set_reason(absl::GetFlag(FLAGS_reason));
  if (request.reason().empty()) return UsageError("cancel needs --reason=TEXT");
  v1::HelpRequest response;
  grpc::Status status = session.intake().CancelRequest(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintRequest(response);
}

absl::StatusOr<v1::ListRequestsRequest> ListRequestFromFlags() {
  absl::StatusOr<RequestKind> kind = KindFromFlags();
  if (!kind.ok()) return kind.status();
  absl::StatusOr<std::vector<int>> states =
      ParseEnumList("state", absl::GetFlag(FLAGS_state), *v1::RequestState_descriptor());
  if (!states.ok()) return states.status();
  v1::ListRequestsRequest out;
  for (int state : *states) out.add_states(static_cast<v1::RequestState>(state));
  out.set_district(absl::GetFlag(FLAGS_district));
  out.set_channel(kind->channel);
  out.set_category(kind->category);
  out.set_urgency(kind->urgency);
  out.set_community_id(absl::GetFlag(FLAGS_community));
  out.set_page_size(absl::GetFlag(FLAGS_page_size));
  out.set_page_token(absl::GetFlag(FLAGS_page_token));
  return out;
}

int RunList(Session& session, const Args&) {
  absl::StatusOr<v1::ListRequestsRequest> request = ListRequestFromFlags();
  if (!request.ok()) return UsageError(request.status().message());
  v1::ListRequestsResponse result;
  grpc::Status status = ListPages(
      [&](const v1::ListRequestsRequest& page_request, v1::ListRequestsResponse* page) {
        return session.intake().ListRequests(session.NewCall().get(), page_request, page);
      },
      *request, absl::GetFlag(FLAGS_all), &result);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(result);
  Print(result.requests_size() == 0 ? "No requests.\n" : RequestTable(result.requests()));
  PrintMore(result.next_page_token());
  return kExitOk;
}

int RunTokenCreate(Session& session, const Args&) {
  absl::StatusOr<int> role = ParseEnum("role", absl::GetFlag(FLAGS_role), *v1::Role_descriptor());
  if (!role.ok()) return UsageError(role.status().message());
  if (*role == 0) {
    return UsageError(
        absl::StrCat("token create needs --role; valid: ", EnumChoices(*v1::Role_descriptor())));
  }
  v1::CreateTokenRequest request;
  request.set_role(static_cast<v1::Role>(*role));
  request.set_name(absl::GetFlag(FLAGS_name));
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_kiosk_id(absl::GetFlag(FLAGS_kiosk));
  request.set_volunteer_id(absl::GetFlag(FLAGS_volunteer));
  v1::CreateTokenResponse response;
  grpc::Status status = session.admin().CreateToken(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(absl::StrCat("token: ", response.token(),
                     "\n(shown only this once; the server keeps only its hash)\n\n",
                     FormatFields(TokenFields(response.info()))));
  return kExitOk;
}

int RunTokenList(Session& session, const Args&) {
  v1::ListTokensResponse response;
  grpc::Status status =
      session.admin().ListTokens(session.NewCall().get(), v1::ListTokensRequest(), &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(TokenTable(response.tokens()));
  return kExitOk;
}

int RunTokenRevoke(Session& session, const Args& args) {
  v1::RevokeTokenRequest request;
  request.set_token_id(args.operands[0]);
  v1::TokenInfo response;
  grpc::Status status = session.admin().RevokeToken(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(FormatFields(TokenFields(response)));
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Volunteers

// The volunteer fields the command line sets, and the update_mask path of each.
const std::vector<MaskedFlag>& VolunteerMaskedFlags() {
  static const auto* table = new std::vector<MaskedFlag>{
      {"name", "name"},
      {"phone", "phone"},
      {"community", "home_community_id"},
      {"skills", "skills"},
      {"certificates", "certificates"},
      {"languages", "languages"},
      {"availability", "availability"},
      {"capacity", "capacity"},
  };
  return *table;
}

// A volunteer from --external-id and the flags of VolunteerMaskedFlags(); fields whose
// flag is not given stay unset.
absl::StatusOr<v1::Volunteer> VolunteerFromFlags() {
  absl::StatusOr<std::vector<int>> certificates = ParseEnumList(
      "certificates", absl::GetFlag(FLAGS_certificates), *v1::Certificate_descriptor());
  if (!certificates.ok()) return certificates.status();
  absl::StatusOr<std::vector<v1::AvailabilitySlot>> availability =
      ParseAvailability("availability", absl::GetFlag(FLAGS_availability));
  if (!availability.ok()) return availability.status();
  v1::Volunteer v;
  v.set_external_id(absl::GetFlag(FLAGS_external_id));
  v.set_name(absl::GetFlag(FLAGS_name));
  v.set_phone(absl::GetFlag(FLAGS_phone));
  v.set_home_community_id(absl::GetFlag(FLAGS_community));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_skills))) v.add_skills(std::move(s));
  for (int c : *certificates) v.add_certificates(static_cast<v1::Certificate>(c));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_languages))) v.add_languages(std::move(s));
  for (v1::AvailabilitySlot& slot : *availability) *v.add_availability() = std::move(slot);
  v.set_capacity(absl::GetFlag(FLAGS_capacity));
  return v;
}

int PrintVolunteer(const v1::Volunteer& volunteer) {
  if (absl::GetFlag(FLAGS_json)) return PrintJson(volunteer);
  Print(FormatFields(VolunteerFields(volunteer)));
  return kExitOk;
}

absl::StatusOr<v1::ListVolunteersRequest> ListVolunteersFromFlags() {
  absl::StatusOr<int> certificate =
      ParseEnum("certificate", absl::GetFlag(FLAGS_certificate), *v1::Certificate_descriptor());
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<int> duty =
      ParseEnum("duty", absl::GetFlag(FLAGS_duty), *v1::DutyStatus_descriptor());
  if (!duty.ok()) return duty.status();
  v1::ListVolunteersRequest out;
  out.set_district(absl::GetFlag(FLAGS_district));
  out.set_community_id(absl::GetFlag(FLAGS_community));
  out.set_skill(absl::GetFlag(FLAGS_skill));
  out.set_certificate(static_cast<v1::Certificate>(*certificate));
  out.set_duty_status(static_cast<v1::DutyStatus>(*duty));
  out.set_team_id(absl::GetFlag(FLAGS_team));
  out.set_phone(absl::GetFlag(FLAGS_phone));
  out.set_external_id(absl::GetFlag(FLAGS_external_id));
  out.set_page_size(absl::GetFlag(FLAGS_page_size));
  out.set_page_token(absl::GetFlag(FLAGS_page_token));
  return out;
}

int RunVolunteers(Session& session, const Args&) {
  absl::StatusOr<v1::ListVolunteersRequest> request = ListVolunteersFromFlags();
  if (!request.ok()) return UsageError(request.status().message());
  v1::ListVolunteersResponse result;
  grpc::Status status = ListPages(
      [&](const v1::ListVolunteersRequest& page_request, v1::ListVolunteersResponse* page) {
        return session.volunteer().ListVolunteers(session.NewCall().get(), page_request, page);
      },
      *request, absl::GetFlag(FLAGS_all), &result);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(result);
  Print(result.volunteers_size() == 0 ? "No volunteers.\n" : VolunteerTable(result.volunteers()));
  PrintMore(result.next_page_token());
  return kExitOk;
}

int RunVolunteerGet(Session& session, const Args& args) {
  v1::GetVolunteerRequest request;
  request.set_id(args.operands[0]);
  v1::Volunteer response;
  grpc::Status status =
      session.volunteer().GetVolunteer(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintVolunteer(response);
}

int RunVolunteerRegister(Session& session, const Args&) {
  absl::StatusOr<v1::Volunteer> volunteer = VolunteerFromFlags();
  if (!volunteer.ok()) return UsageError(volunteer.status().message());
  v1::RegisterVolunteerRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  *request.mutable_volunteer() = *std::move(volunteer);
  v1::RegisterVolunteerResponse response;
  grpc::Status status =
      session.volunteer().RegisterVolunteer(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::string outcome =
      response.replayed()
          ? absl::StrCat("replayed: external id ", request.volunteer().external_id(),
                         " was registered before with this same body; this is the stored "
                         "volunteer\n")
          : absl::StrCat("registered ", response.volunteer().id(), "\n");
  Print(absl::StrCat(outcome, "\n", FormatFields(VolunteerFields(response.volunteer()))));
  return kExitOk;
}

int RunVolunteerUpdate(Session& session, const Args& args) {
  v1::UpdateVolunteerRequest request;
  *request.mutable_update_mask() = MaskFromFlags(args, VolunteerMaskedFlags());
  if (request.update_mask().paths().empty()) {
    return UsageError(
        absl::StrCat("volunteer update needs at least one of ", FlagsOf(VolunteerMaskedFlags())));
  }
  absl::StatusOr<v1::Volunteer> volunteer = VolunteerFromFlags();
  if (!volunteer.ok()) return UsageError(volunteer.status().message());
  *request.mutable_volunteer() = *std::move(volunteer);
  request.mutable_volunteer()->set_id(args.operands[0]);
  v1::Volunteer response;
  grpc::Status status =
      session.volunteer().UpdateVolunteer(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintVolunteer(response);
}

int RunVolunteerDuty(Session& session, const Args& args) {
  absl::StatusOr<int> duty =
      ParseEnumValue("duty status", args.operands[1], *v1::DutyStatus_descriptor());
  if (!duty.ok()) return UsageError(duty.status().message());
  if (*duty == v1::DUTY_STATUS_UNSPECIFIED) {
    return UsageError(
        absl::StrCat("volunteer duty needs a status: ", EnumChoices(*v1::DutyStatus_descriptor())));
  }
  absl::StatusOr<absl::optional<v1::LatLng>> location = LocationFromFlags();
  if (!location.ok()) return UsageError(location.status().message());
  if (*duty == v1::DUTY_ON && !location->has_value()) {
    return UsageError("going on duty needs --lat and --lng (where the volunteer is now)");
  }
  v1::SetDutyStatusRequest request;
  request.set_volunteer_id(args.operands[0]);
  request.set_status(static_cast<v1::DutyStatus>(*duty));
  if (location->has_value()) *request.mutable_location() = **location;
  v1::Volunteer response;
  grpc::Status status =
      session.volunteer().SetDutyStatus(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintVolunteer(response);
}

// ReportLocation for `request` (naming the volunteer or van) at --lat/--lng, for
// `command`.
int ReportLocation(Session& session, absl::string_view command, v1::ReportLocationRequest request) {
  absl::StatusOr<absl::optional<v1::LatLng>> location = LocationFromFlags();
  if (!location.ok()) return UsageError(location.status().message());
  if (!location->has_value()) return UsageError(absl::StrCat(command, " needs --lat and --lng"));
  *request.mutable_location() = **location;
  v1::ReportLocationResponse response;
  grpc::Status status =
      session.volunteer().ReportLocation(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(absl::StrCat(response.stored()
                         ? "stored"
                         : "not stored (off duty or inactive, or a newer fix is already stored)",
                     "; next report due in ", response.next_report_s(), " s\n"));
  return kExitOk;
}

int RunVolunteerLocate(Session& session, const Args& args) {
  v1::ReportLocationRequest request;
  request.set_volunteer_id(args.operands[0]);
  return ReportLocation(session, "volunteer locate", std::move(request));
}

absl::StatusOr<v1::FindNearbyVolunteersRequest> NearbyFromFlags() {
  absl::StatusOr<absl::optional<v1::LatLng>> center = LocationFromFlags();
  if (!center.ok()) return center.status();
  if (!center->has_value()) {
    return absl::InvalidArgumentError("nearby needs --lat and --lng (the centre of the search)");
  }
  absl::StatusOr<std::vector<int>> certificates = ParseEnumList(
      "certificates", absl::GetFlag(FLAGS_certificates), *v1::Certificate_descriptor());
  if (!certificates.ok()) return certificates.status();
  absl::StatusOr<std::vector<int>> duty =
      ParseEnumList("duty", absl::GetFlag(FLAGS_duty), *v1::DutyStatus_descriptor());
  if (!duty.ok()) return duty.status();
  absl::StatusOr<std::vector<int>> kinds =
      ParseEnumList("unit-kinds", absl::GetFlag(FLAGS_unit_kinds), *v1::UnitKind_descriptor());
  if (!kinds.ok()) return kinds.status();
  v1::FindNearbyVolunteersRequest out;
  out.set_district(absl::GetFlag(FLAGS_district));
  *out.mutable_center() = **center;
  out.set_limit(absl::GetFlag(FLAGS_limit));
  out.set_max_radius_m(absl::GetFlag(FLAGS_radius_m));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_skills))) {
    out.add_required_skills(std::move(s));
  }
  for (int c : *certificates) out.add_required_certificates(static_cast<v1::Certificate>(c));
  for (int d : *duty) out.add_duty_statuses(static_cast<v1::DutyStatus>(d));
  out.set_available_now(absl::GetFlag(FLAGS_available_now));
  out.set_include_units(absl::GetFlag(FLAGS_units) || !kinds->empty());
  for (int k : *kinds) out.add_unit_kinds(static_cast<v1::UnitKind>(k));
  for (std::string& id : SplitList(absl::GetFlag(FLAGS_exclude))) {
    out.add_exclude_ids(std::move(id));
  }
  return out;
}

int RunNearby(Session& session, const Args&) {
  absl::StatusOr<v1::FindNearbyVolunteersRequest> request = NearbyFromFlags();
  if (!request.ok()) return UsageError(request.status().message());
  v1::FindNearbyVolunteersResponse response;
  grpc::Status status =
      session.volunteer().FindNearbyVolunteers(session.NewCall().get(), *request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(response.candidates_size() == 0 ? "No candidates.\n" : NearbyTable(response.candidates()));
  Print(absl::StrCat("searched radius: ", FormatDistance(response.searched_radius_m()), "\n"));
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Units and pairings

// The unit fields the command line sets, and the update_mask path of each.
const std::vector<MaskedFlag>& UnitMaskedFlags() {
  static const auto* table = new std::vector<MaskedFlag>{
      {"name", "name"},
      {"lat", "location"},
      {"lng", "location"},
      {"community", "community_id"},
      {"compound", "compound_id"},
      {"address", "address"},
      {"phone", "phone"},
      {"members", "member_volunteer_ids"},
      {"leader", "leader_volunteer_id"},
      {"capacity", "capacity"},
      {"skills", "skills"},
      {"equipment", "equipment"},
      {"active", "active"},
      {"inactive", "active"},
  };
  return *table;
}

// A unit from --kind and the flags of UnitMaskedFlags(); fields whose flag is not given
// stay unset, except `active`, which is true unless --inactive (or --noactive) is given.
absl::StatusOr<v1::Unit> UnitFromFlags(const Args& args) {
  absl::StatusOr<int> kind =
      ParseEnum("kind", absl::GetFlag(FLAGS_kind), *v1::UnitKind_descriptor());
  if (!kind.ok()) return kind.status();
  absl::StatusOr<absl::optional<v1::LatLng>> location = LocationFromFlags();
  if (!location.ok()) return location.status();
  if (args.Given("active") && args.Given("inactive")) {
    return absl::InvalidArgumentError("give one of --active and --inactive");
  }
  v1::Unit u;
  u.set_kind(static_cast<v1::UnitKind>(*kind));
  u.set_name(absl::GetFlag(FLAGS_name));
  if (location->has_value()) *u.mutable_location() = **location;
  u.set_community_id(absl::GetFlag(FLAGS_community));
  u.set_compound_id(absl::GetFlag(FLAGS_compound));
  u.set_address(absl::GetFlag(FLAGS_address));
  u.set_phone(absl::GetFlag(FLAGS_phone));
  for (std::string& id : SplitList(absl::GetFlag(FLAGS_members))) {
    u.add_member_volunteer_ids(std::move(id));
  }
  u.set_leader_volunteer_id(absl::GetFlag(FLAGS_leader));
  u.set_capacity(absl::GetFlag(FLAGS_capacity));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_skills))) u.add_skills(std::move(s));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_equipment))) u.add_equipment(std::move(s));
  u.set_active(args.Given("active") ? absl::GetFlag(FLAGS_active) : !absl::GetFlag(FLAGS_inactive));
  return u;
}

int PrintUnit(const v1::Unit& unit) {
  if (absl::GetFlag(FLAGS_json)) return PrintJson(unit);
  Print(FormatFields(UnitFields(unit)));
  return kExitOk;
}

int RunUnits(Session& session, const Args&) {
  absl::StatusOr<int> kind =
      ParseEnum("kind", absl::GetFlag(FLAGS_kind), *v1::UnitKind_descriptor());
  if (!kind.ok()) return UsageError(kind.status().message());
  v1::ListUnitsRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_kind(static_cast<v1::UnitKind>(*kind));
  request.set_community_id(absl::GetFlag(FLAGS_community));
  request.set_active_only(absl::GetFlag(FLAGS_active_only));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::ListUnitsResponse result;
  grpc::Status status = ListPages(
      [&](const v1::ListUnitsRequest& page_request, v1::ListUnitsResponse* page) {
        return session.unit().ListUnits(session.NewCall().get(), page_request, page);
      },
      request, absl::GetFlag(FLAGS_all), &result);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(result);
  Print(result.units_size() == 0 ? "No units.\n" : UnitTable(result.units()));
  PrintMore(result.next_page_token());
  return kExitOk;
}

int RunUnitGet(Session& session, const Args& args) {
  v1::GetUnitRequest request;
  request.set_id(args.operands[0]);
  v1::Unit response;
  grpc::Status status = session.unit().GetUnit(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintUnit(response);
}

int RunUnitCreate(Session& session, const Args& args) {
  absl::StatusOr<v1::Unit> unit = UnitFromFlags(args);
  if (!unit.ok()) return UsageError(unit.status().message());
  if (unit->kind() == v1::UNIT_KIND_UNSPECIFIED) {
    return UsageError(
        absl::StrCat("unit create needs --kind; valid: ", EnumChoices(*v1::UnitKind_descriptor())));
  }
  v1::CreateUnitRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_unit_id(absl::GetFlag(FLAGS_unit_id));
  *request.mutable_unit() = *std::move(unit);
  v1::Unit response;
  grpc::Status status = session.unit().CreateUnit(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintUnit(response);
}

int RunUnitUpdate(Session& session, const Args& args) {
  v1::UpdateUnitRequest request;
  *request.mutable_update_mask() = MaskFromFlags(args, UnitMaskedFlags());
  if (request.update_mask().paths().empty()) {
    return UsageError(
        absl::StrCat("unit update needs at least one of ", FlagsOf(UnitMaskedFlags())));
  }
  absl::StatusOr<v1::Unit> unit = UnitFromFlags(args);
  if (!unit.ok()) return UsageError(unit.status().message());
  *request.mutable_unit() = *std::move(unit);
  request.mutable_unit()->set_id(args.operands[0]);
  v1::Unit response;
  grpc::Status status = session.unit().UpdateUnit(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintUnit(response);
}

int RunUnitLocate(Session& session, const Args& args) {
  v1::ReportLocationRequest request;
  request.set_unit_id(args.operands[0]);
  return ReportLocation(session, "unit locate", std::move(request));
}

int RunPair(Session& session, const Args&) {
  absl::StatusOr<int> recurrence =
      ParseEnum("recurrence", absl::GetFlag(FLAGS_recurrence), *v1::Recurrence_descriptor());
  if (!recurrence.ok()) return UsageError(recurrence.status().message());
  absl::StatusOr<absl::optional<v1::LatLng>> location = LocationFromFlags();
  if (!location.ok()) return UsageError(location.status().message());
  v1::CreatePairingRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_volunteer_id(absl::GetFlag(FLAGS_volunteer));
  request.set_recurrence(static_cast<v1::Recurrence>(*recurrence));
  request.set_notes(absl::GetFlag(FLAGS_notes));
  v1::Resident& resident = *request.mutable_resident();
  resident.set_name(absl::GetFlag(FLAGS_name));
  resident.set_phone(absl::GetFlag(FLAGS_phone));
  resident.set_address(absl::GetFlag(FLAGS_address));
  if (location->has_value()) *resident.mutable_location() = **location;
  resident.set_community_id(absl::GetFlag(FLAGS_community));
  resident.set_compound_id(absl::GetFlag(FLAGS_compound));
  resident.set_lives_alone(absl::GetFlag(FLAGS_lives_alone));
  resident.set_high_age(absl::GetFlag(FLAGS_high_age));
  resident.set_disabled(absl::GetFlag(FLAGS_disabled));
  v1::Pairing response;
  grpc::Status status = session.unit().CreatePairing(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(FormatFields(PairingFields(response)));
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Dispatch: explanations, operator overrides, escalations, mobilisation

// --volunteer or --unit: the assignee they name; unset when neither is given, a usage
// error when both are.
absl::StatusOr<absl::optional<v1::Assignee>> AssigneeFromFlags() {
  const std::string volunteer = absl::GetFlag(FLAGS_volunteer);
  const std::string unit = absl::GetFlag(FLAGS_unit);
  if (!volunteer.empty() && !unit.empty()) {
    return absl::InvalidArgumentError("give one of --volunteer and --unit");
  }
  if (volunteer.empty() && unit.empty()) return absl::nullopt;
  v1::Assignee out;
  if (!volunteer.empty()) out.set_volunteer_id(volunteer);
  if (!unit.empty()) out.set_unit_id(unit);
  return out;
}

int PrintAssignment(absl::string_view outcome, const v1::Assignment& assignment) {
  if (absl::GetFlag(FLAGS_json)) return PrintJson(assignment);
  Print(absl::StrCat(outcome, "\n\n", FormatFields(AssignmentFields(assignment))));
  return kExitOk;
}

int RunExplain(Session& session, const Args& args) {
  v1::ExplainMatchRequest request;
  request.set_request_id(args.operands[0]);
  request.set_limit(absl::GetFlag(FLAGS_limit));
  request.set_include_excluded(absl::GetFlag(FLAGS_excluded));
  v1::ExplainMatchResponse response;
  grpc::Status status =
      session.dispatch().ExplainMatch(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(ExplainText(response));
  return kExitOk;
}

int RunAssign(Session& session, const Args& args) {
  absl::StatusOr<absl::optional<v1::Assignee>> assignee = AssigneeFromFlags();
  if (!assignee.ok()) return UsageError(assignee.status().message());
  if (!assignee->has_value()) return UsageError("assign needs --volunteer=ID or --unit=ID");
  v1::AssignManuallyRequest request;
  request.set_request_id(args.operands[0]);
  *request.mutable_assignee() = **assignee;
  request.set_reason(absl::GetFlag(FLAGS_reason));
  if (request.reason().empty()) return UsageError("assign needs --reason=TEXT (it is audited)");
  request.set_force(absl::GetFlag(FLAGS_force));
  v1::Assignment response;
  grpc::Status status =
      session.dispatch().AssignManually(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintAssignment(
      absl::StrCat("assigned ", AssigneeText(response.assignee()), " to ", response.request_id()),
      response);
}

int RunReassign(Session& session, const Args& args) {
  if (absl::GetFlag(FLAGS_from).empty()) {
    return UsageError("reassign needs --from=v:VOLUNTEER_ID or --from=u:UNIT_ID");
  }
  absl::StatusOr<v1::Assignee> from = ParseAssignee("--from", absl::GetFlag(FLAGS_from));
  if (!from.ok()) return UsageError(from.status().message());
  v1::ReassignRequest request;
  request.set_request_id(args.operands[0]);
  *request.mutable_from_assignee() = *from;
  if (!absl::GetFlag(FLAGS_to).empty()) {
    absl::StatusOr<v1::Assignee> to = ParseAssignee("--to", absl::GetFlag(FLAGS_to));
    if (!to.ok()) return UsageError(to.status().message());
    *request.mutable_to_assignee() = *to;
  }
  request.set_reason(absl::GetFlag(FLAGS_reason));
  if (request.reason().empty()) return UsageError("reassign needs --reason=TEXT (it is audited)");
  request.set_force(absl::GetFlag(FLAGS_force));
  v1::ReassignResponse response;
  grpc::Status status = session.dispatch().Reassign(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::string out = absl::StrCat("released ", AssigneeText(request.from_assignee()), " from ",
                                 request.request_id(), "\n");
  if (response.has_assignment()) {
    absl::StrAppend(&out, "assigned ", AssigneeText(response.assignment().assignee()), "\n\n",
                    FormatFields(AssignmentFields(response.assignment())));
  } else {
    absl::StrAppend(&out, "back to matching (", AssigneeText(request.from_assignee()),
                    " is left out)\n");
  }
  Print(out);
  return kExitOk;
}

int RunEscalations(Session& session, const Args&) {
  v1::ListEscalationsRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::ListEscalationsResponse result;
  grpc::Status status = ListPages(
      [&](const v1::ListEscalationsRequest& page_request, v1::ListEscalationsResponse* page) {
        return session.dispatch().ListEscalations(session.NewCall().get(), page_request, page);
      },
      request, absl::GetFlag(FLAGS_all), &result);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(result);
  Print(result.escalations_size() == 0
            ? "No escalations.\n"
            : EscalationTable(result.escalations(), absl::ToUnixMillis(absl::Now())));
  PrintMore(result.next_page_token());
  return kExitOk;
}

absl::StatusOr<v1::MobilizeRequest> MobilizeFromFlags() {
  absl::StatusOr<int> category =
      ParseEnum("category", absl::GetFlag(FLAGS_category), *v1::Category_descriptor());
  if (!category.ok()) return category.status();
  absl::StatusOr<std::vector<int>> certificates = ParseEnumList(
      "certificates", absl::GetFlag(FLAGS_certificates), *v1::Certificate_descriptor());
  if (!certificates.ok()) return certificates.status();
  absl::StatusOr<absl::optional<v1::LatLng>> center = LocationFromFlags();
  if (!center.ok()) return center.status();
  std::string key = absl::GetFlag(FLAGS_key);
  if (key.empty()) {
    absl::StatusOr<std::string> random = RandomRequestId();
    if (!random.ok()) return random.status();
    key = *random;
  }
  v1::MobilizeRequest out;
  out.set_idempotency_key(key);
  out.set_district(absl::GetFlag(FLAGS_district));
  if (center->has_value()) *out.mutable_center() = **center;
  out.set_radius_m(absl::GetFlag(FLAGS_radius_m));
  out.set_category(static_cast<v1::Category>(*category));
  out.set_description(absl::GetFlag(FLAGS_description));
  out.set_needed(absl::GetFlag(FLAGS_needed));
  for (std::string& s : SplitList(absl::GetFlag(FLAGS_skills))) {
    out.add_required_skills(std::move(s));
  }
  for (int c : *certificates) out.add_required_certificates(static_cast<v1::Certificate>(c));
  out.set_ttl_s(absl::GetFlag(FLAGS_ttl_s));
  return out;
}

int RunMobilize(Session& session, const Args&) {
  absl::StatusOr<v1::MobilizeRequest> request = MobilizeFromFlags();
  if (!request.ok()) return UsageError(request.status().message());
  v1::MobilizeResponse response;
  grpc::Status status = session.dispatch().Mobilize(session.NewCall().get(), *request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::string outcome =
      response.replayed()
          ? absl::StrCat("replayed: key ", request->idempotency_key(),
                         " was used before with this same body; this is what it returned then")
          : absl::StrCat("mobilised ", response.mobilization_id());
  Print(absl::StrCat(
      outcome, "\n\n",
      FormatFields({{"mobilization", response.mobilization_id()},
                    {"request", response.request_id()},
                    {"volunteers reached", absl::StrCat(response.volunteers_reached())},
                    {"needed", absl::StrCat(request->needed())},
                    {"offers expire", LocalTime(response.expire_time_ms(), true)},
                    {"key", request->idempotency_key()}})));
  return kExitOk;
}

// ---------------------------------------------------------------------------------------
// Following server streams (watch, offers)

// Set by SIGINT and SIGTERM while a stream is followed.
volatile std::sig_atomic_t g_interrupted = 0;
extern "C" void OnInterrupt(int) { g_interrupted = 1; }

// Ends a followed stream on Ctrl-C (SIGINT) or SIGTERM, or once nothing has arrived for
// `idle`: cancels the call attached at the time, and every call attached afterwards.
// Installs its signal handlers for its lifetime. Thread-safe.
class StreamWatchdog {
 public:
  explicit StreamWatchdog(absl::Duration idle) : idle_(idle), last_(absl::Now()) {
    struct sigaction action = {};
    action.sa_handler = OnInterrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
    thread_ = std::thread([this] { Run(); });
  }
  ~StreamWatchdog() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    thread_.join();
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StreamWatchdog(const StreamWatchdog&) = delete;
  StreamWatchdog& operator=(const StreamWatchdog&) = delete;

  // `call` is being read now (until Detach()); it must outlive that.
  void Attach(grpc::ClientContext* call) {
    absl::MutexLock lock(&mu_);
    call_ = call;
    if (!stop_reason_.empty()) call->TryCancel();
  }
  void Detach() {
    absl::MutexLock lock(&mu_);
    call_ = nullptr;
  }
  // A message arrived.
  void Touch() {
    absl::MutexLock lock(&mu_);
    last_ = absl::Now();
  }
  // Why the stream was ended: "interrupted", "idle", or empty while it goes on.
  std::string stop_reason() const {
    absl::MutexLock lock(&mu_);
    return stop_reason_;
  }
  // Waits `d`, or less if the stream is ended meanwhile. True when it waited it all.
  bool Sleep(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](StreamWatchdog* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
                               return !w->stop_reason_.empty();
                             },
                             this),
                         d);
    return stop_reason_.empty();
  }

 private:
  void Run() {
    absl::MutexLock lock(&mu_);
    while (!done_) {
      if (stop_reason_.empty()) {
        if (g_interrupted) {
          stop_reason_ = "interrupted";
        } else if (absl::Now() - last_ >= idle_) {
          stop_reason_ = "idle";
        }
        if (!stop_reason_.empty() && call_ != nullptr) call_->TryCancel();
      }
      // Signals cannot wake a mutex wait, so poll: 100 ms is quick enough for Ctrl-C.
      mu_.AwaitWithTimeout(absl::Condition(&done_), absl::Milliseconds(100));
    }
  }

  const absl::Duration idle_;
  struct sigaction old_int_ = {};
  struct sigaction old_term_ = {};
  mutable absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* call_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::string stop_reason_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// When a followed stream stops by itself.
struct FollowLimits {
  int max = 0;                                     // After this many messages; 0: never.
  absl::Duration idle = absl::InfiniteDuration();  // After this long without one.
};

// --max and --idle-ms; `default_idle` when --idle-ms is not given.
absl::StatusOr<FollowLimits> LimitsFromFlags(const Args& args, absl::Duration default_idle) {
  FollowLimits out;
  out.max = absl::GetFlag(FLAGS_max);
  if (out.max < 0) return absl::InvalidArgumentError("--max must be 0 or more");
  const int idle_ms = absl::GetFlag(FLAGS_idle_ms);
  if (idle_ms < 0) return absl::InvalidArgumentError("--idle-ms must be 0 or more");
  out.idle = !args.Given("idle-ms") ? default_idle
             : idle_ms == 0         ? absl::InfiniteDuration()
                                    : absl::Milliseconds(idle_ms);
  return out;
}

// Follows a server stream. `open` starts the call on the context it is given, resuming
// after what `on_message` has seen; `on_message` handles each message and returns false
// to stop. When the stream ends with UNAVAILABLE or CANCELLED by the server (dispatchd
// restarting, Redis away) it reconnects by itself, waiting 0.25 s, then twice as long
// each time up to 5 s. Stops
// after `limits`, on Ctrl-C, or when `on_message` says so; `resume_hint` (e.g. "--after=ID")
// is then printed on stderr after a Ctrl-C. Returns the exit status.
template <typename Msg>
int Follow(
    Session& session, const FollowLimits& limits,
    const std::function<std::unique_ptr<grpc::ClientReader<Msg>>(grpc::ClientContext*)>& open,
    const std::function<bool(const Msg&)>& on_message,
    const std::function<std::string()>& resume_hint) {
  if (grpc::Status s = session.WaitForConnected(); !s.ok()) return session.Fail(s);
  StreamWatchdog watchdog(limits.idle);
  int received = 0;
  bool stop = false;
  const absl::Duration kFirstBackoff = absl::Milliseconds(250);
  absl::Duration backoff = kFirstBackoff;
  while (true) {
    std::unique_ptr<grpc::ClientContext> call = session.NewStreamCall();
    watchdog.Attach(call.get());
    std::unique_ptr<grpc::ClientReader<Msg>> reader = open(call.get());
    Msg message;
    while (!stop && reader->Read(&message)) {
      watchdog.Touch();
      backoff = kFirstBackoff;
      ++received;
      stop = !on_message(message) || (limits.max > 0 && received >= limits.max);
    }
    if (stop) call->TryCancel();
    grpc::Status status = reader->Finish();
    watchdog.Detach();
    if (stop) return kExitOk;
    const std::string why = watchdog.stop_reason();
    if (!why.empty()) {
      std::string hint = resume_hint();
      if (why == "interrupted" && !hint.empty()) {
        std::fprintf(stderr, "dispatchctl: stopped; resume with %s\n", hint.c_str());
      }
      return kExitOk;
    }
    if (status.ok()) return kExitOk;
    // A server shutting down ends its streams with UNAVAILABLE, or cancels them once its
    // drain time is over (we cancelled nothing ourselves here).
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::CANCELLED) {
      return session.Fail(status);
    }
    if (backoff == kFirstBackoff) {
      std::fprintf(
          stderr, "dispatchctl: stream ended: %s: %s; reconnecting\n",
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())).c_str(),
          status.error_message().c_str());
    } else {
      std::fprintf(stderr, "dispatchctl: still cannot reconnect; next try in %s\n",
                   absl::FormatDuration(backoff).c_str());
    }
    if (!watchdog.Sleep(backoff)) return kExitOk;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

// `message` as JSON on one line (JSON Lines, for streams).
void PrintJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    json = "{}";
  }
  Print(absl::StrCat(json, "\n"));
}

void PrintLineNow(absl::string_view line) {
  Print(absl::StrCat(line, "\n"));
  std::fflush(stdout);
}

int RunWatch(Session& session, const Args& args) {
  absl::StatusOr<std::vector<int>> types =
      ParseEnumList("types", absl::GetFlag(FLAGS_types), *v1::EventType_descriptor());
  if (!types.ok()) return UsageError(types.status().message());
  absl::StatusOr<FollowLimits> limits = LimitsFromFlags(args, absl::InfiniteDuration());
  if (!limits.ok()) return UsageError(limits.status().message());
  v1::WatchEventsRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  for (int t : *types) request.add_types(static_cast<v1::EventType>(t));
  request.set_request_id(absl::GetFlag(FLAGS_request));
  std::string last = absl::GetFlag(FLAGS_after);
  const bool json = absl::GetFlag(FLAGS_json);
  return Follow<v1::Event>(
      session, *limits,
      [&](grpc::ClientContext* call) {
        request.set_after_event_id(last);
        return session.dispatch().WatchEvents(call, request);
      },
      [&](const v1::Event& event) {
        if (!event.event_id().empty()) last = event.event_id();
        if (json) {
          PrintJsonLine(event);
          std::fflush(stdout);
        } else {
          PrintLineNow(EventLine(event));
        }
        return true;
      },
      [&] { return last.empty() ? std::string() : absl::StrCat("--after=", last); });
}

// ---------------------------------------------------------------------------------------
// The volunteer's side: offers, answers, progress

int RunOffers(Session& session, const Args& args) {
  const std::string& who = args.operands[0];
  v1::Assignee assignee;
  if (absl::StrContains(who, ':')) {
    absl::StatusOr<v1::Assignee> parsed = ParseAssignee("offers", who);
    if (!parsed.ok()) return UsageError(parsed.status().message());
    assignee = *parsed;
  } else {
    assignee.set_volunteer_id(who);
  }
  const bool follow = absl::GetFlag(FLAGS_follow);
  std::string last = absl::GetFlag(FLAGS_after);
  if (!last.empty() && !follow) return UsageError("--after goes with --follow");
  if (!follow && args.Given("max")) return UsageError("--max goes with --follow");
  // Without --follow: the snapshot of pending offers, which the server sends at once;
  // it is over at the first message that is not part of it, or after a quiet moment.
  absl::StatusOr<FollowLimits> limits =
      LimitsFromFlags(args, follow ? absl::InfiniteDuration() : absl::Milliseconds(500));
  if (!limits.ok()) return UsageError(limits.status().message());
  v1::WatchOffersRequest request;
  request.set_volunteer_id(assignee.volunteer_id());
  request.set_unit_id(assignee.unit_id());
  const bool json = absl::GetFlag(FLAGS_json);
  std::vector<v1::Offer> pending;
  int status = Follow<v1::Offer>(
      session, *limits,
      [&](grpc::ClientContext* call) {
        request.set_resume_after_cursor(last);
        return session.volunteer().WatchOffers(call, request);
      },
      [&](const v1::Offer& offer) {
        if (!offer.cursor().empty()) last = offer.cursor();
        if (!follow) {
          if (!offer.snapshot()) return false;
          pending.push_back(offer);
          return true;
        }
        if (json) {
          PrintJsonLine(offer);
          std::fflush(stdout);
        } else {
          PrintLineNow(OfferLine(offer));
        }
        return true;
      },
      [&] { return last.empty() ? std::string() : absl::StrCat("--after=", last); });
  if (status != kExitOk || follow) return status;
  if (json) {
    for (const v1::Offer& offer : pending) PrintJsonLine(offer);
  } else if (pending.empty()) {
    Print(absl::StrCat("No pending offers for ", AssigneeText(assignee), ".\n"));
  } else {
    Print(OfferTable(pending, absl::ToUnixMillis(absl::Now())));
  }
  return kExitOk;
}

int RunRespond(Session& session, const Args& args) {
  absl::StatusOr<int> answer =
      ParseEnumValue("answer", args.operands[1], *v1::OfferResponse_descriptor());
  if (!answer.ok()) return UsageError(answer.status().message());
  absl::StatusOr<int> reason =
      ParseEnum("reason", absl::GetFlag(FLAGS_reason), *v1::DeclineReason_descriptor());
  if (!reason.ok()) return UsageError(reason.status().message());
  const bool accept = *answer == v1::RESPONSE_ACCEPT;
  if (accept && (*reason != 0 || !absl::GetFlag(FLAGS_notes).empty())) {
    return UsageError("--reason and --notes go with decline");
  }
  absl::StatusOr<absl::optional<v1::LatLng>> location = LocationFromFlags();
  if (!location.ok()) return UsageError(location.status().message());
  if (!accept && location->has_value()) return UsageError("--lat and --lng go with accept");
  v1::RespondToOfferRequest request;
  request.set_offer_id(args.operands[0]);
  request.set_response(static_cast<v1::OfferResponse>(*answer));
  request.set_decline_reason(static_cast<v1::DeclineReason>(*reason));
  request.set_decline_note(absl::GetFlag(FLAGS_notes));
  request.set_volunteer_id(absl::GetFlag(FLAGS_volunteer));
  if (location->has_value()) *request.mutable_location() = **location;
  v1::RespondToOfferResponse response;
  grpc::Status status =
      session.volunteer().RespondToOffer(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  if (response.has_assignment()) {
    Print(absl::StrCat("accepted ", response.offer().offer_id(), ": ",
                       AssigneeText(response.assignment().assignee()), " is assigned to ",
                       response.assignment().request_id(), "\n\n",
                       FormatFields(AssignmentFields(response.assignment()))));
  } else {
    std::string outcome = absl::StrCat(
        absl::AsciiStrToLower(EnumName(*v1::OfferState_descriptor(), response.offer().state())),
        " ", response.offer().offer_id());
    if (response.offer().state() == v1::OFFER_DECLINED) {
      absl::StrAppend(&outcome, "; ", response.offer().request_id(),
                      " moves on to the next candidate");
    }
    Print(absl::StrCat(outcome, "\n\n", FormatFields(OfferFields(response.offer()))));
  }
  return kExitOk;
}

int RunProgress(Session& session, const Args& args) {
  absl::StatusOr<int> kind =
      ParseEnumValue("progress", args.operands[1], *v1::ProgressKind_descriptor());
  if (!kind.ok()) return UsageError(kind.status().message());
  absl::StatusOr<absl::optional<v1::Assignee>> assignee = AssigneeFromFlags();
  if (!assignee.ok()) return UsageError(assignee.status().message());
  absl::StatusOr<absl::optional<v1::LatLng>> location = LocationFromFlags();
  if (!location.ok()) return UsageError(location.status().message());
  v1::ReportProgressRequest request;
  request.set_request_id(args.operands[0]);
  if (assignee->has_value()) *request.mutable_assignee() = **assignee;
  request.set_kind(static_cast<v1::ProgressKind>(*kind));
  request.set_minutes_served(absl::GetFlag(FLAGS_minutes));
  request.set_rating(absl::GetFlag(FLAGS_rating));
  request.set_notes(absl::GetFlag(FLAGS_notes));
  if (location->has_value()) *request.mutable_location() = **location;
  v1::Assignment response;
  grpc::Status status =
      session.volunteer().ReportProgress(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintAssignment(
      absl::StrCat("reported ", EnumName(*v1::ProgressKind_descriptor(), request.kind()), " for ",
                   response.request_id(), " (", AssigneeText(response.assignee()), ")"),
      response);
}

// ---------------------------------------------------------------------------------------
// Points: balances, the ledger, catalogs, redemptions

// --request-id, or a new random one: the idempotency key of a points write.
absl::StatusOr<std::string> RequestIdFromFlags() {
  std::string request_id = absl::GetFlag(FLAGS_request_id);
  if (!request_id.empty()) return request_id;
  return RandomRequestId();
}

// The line saying that a write was a replay, or `outcome`.
std::string WriteOutcome(bool replayed, const std::string& request_id, absl::string_view outcome) {
  if (!replayed) return absl::StrCat(outcome, "\n");
  return absl::StrCat("replayed: request id ", request_id,
                      " was used before with this same body; this is what it returned then\n");
}

int RunPointsBalance(Session& session, const Args& args) {
  absl::StatusOr<std::string> account = ParseAccount("account", args.operands[0]);
  if (!account.ok()) return UsageError(account.status().message());
  v1::GetBalanceRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_account(*account);
  v1::Balance response;
  grpc::Status status = session.points().GetBalance(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(FormatFields(BalanceFields(response)));
  return kExitOk;
}

int RunPointsLedger(Session& session, const Args&) {
  v1::ListLedgerRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  if (!absl::GetFlag(FLAGS_account).empty()) {
    absl::StatusOr<std::string> account = ParseAccount("--account", absl::GetFlag(FLAGS_account));
    if (!account.ok()) return UsageError(account.status().message());
    request.set_account(*account);
  }
  absl::StatusOr<std::vector<int>> kinds =
      ParseEnumList("kinds", absl::GetFlag(FLAGS_kinds), *v1::LedgerKind_descriptor());
  if (!kinds.ok()) return UsageError(kinds.status().message());
  for (int k : *kinds) request.add_kinds(static_cast<v1::LedgerKind>(k));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::ListLedgerResponse result;
  grpc::Status status = ListPages(
      [&](const v1::ListLedgerRequest& page_request, v1::ListLedgerResponse* page) {
        return session.points().ListLedger(session.NewCall().get(), page_request, page);
      },
      request, absl::GetFlag(FLAGS_all), &result);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(result);
  Print(result.entries_size() == 0 ? "No ledger entries.\n" : LedgerTable(result.entries()));
  PrintMore(result.next_page_token());
  return kExitOk;
}

// AdjustPoints with `request` (volunteer or fund top-up) and --reason, --request-id.
int AdjustPoints(Session& session, absl::string_view command, v1::AdjustPointsRequest request) {
  request.set_reason(absl::GetFlag(FLAGS_reason));
  if (request.reason().empty()) {
    return UsageError(absl::StrCat(command, " needs --reason=TEXT (it is audited)"));
  }
  absl::StatusOr<std::string> request_id = RequestIdFromFlags();
  if (!request_id.ok()) return UsageError(request_id.status().message());
  request.set_request_id(*request_id);
  request.set_district(absl::GetFlag(FLAGS_district));
  v1::AdjustPointsResponse response;
  grpc::Status status = session.points().AdjustPoints(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  std::string outcome = request.fund_top_up()
                            ? absl::StrCat("topped up the fund by ", request.delta())
                            : absl::StrCat(request.delta() > 0 ? "added " : "took ",
                                           request.delta() > 0 ? request.delta() : -request.delta(),
                                           request.delta() > 0 ? " points to " : " points from ",
                                           request.volunteer_id());
  Print(absl::StrCat(WriteOutcome(response.replayed(), request.request_id(), outcome), "\n",
                     FormatFields(LedgerEntryFields(response.entry())), "\nbalance afterwards:\n",
                     FormatFields(BalanceFields(response.balance()))));
  return kExitOk;
}

int RunPointsAdjust(Session& session, const Args& args) {
  int64_t delta = 0;
  if (!absl::SimpleAtoi(args.operands[1], &delta) || delta == 0) {
    return UsageError(absl::StrCat("points adjust: DELTA \"", args.operands[1],
                                   "\" is not a non-zero whole number of points"));
  }
  v1::AdjustPointsRequest request;
  request.set_volunteer_id(args.operands[0]);
  request.set_delta(delta);
  return AdjustPoints(session, "points adjust", std::move(request));
}

int RunPointsFund(Session& session, const Args& args) {
  int64_t amount = 0;
  if (!absl::SimpleAtoi(args.operands[0], &amount) || amount <= 0) {
    return UsageError(absl::StrCat("points fund: AMOUNT \"", args.operands[0],
                                   "\" is not a positive whole number of points"));
  }
  v1::AdjustPointsRequest request;
  request.set_delta(amount);
  request.set_fund_top_up(true);
  return AdjustPoints(session, "points fund", std::move(request));
}

// Lists every item of `kiosk` (all pages) into `result`.
grpc::Status ListCatalog(Session& session, v1::ListCatalogRequest request, bool follow,
                         v1::ListCatalogResponse* result) {
  return ListPages(
      [&](const v1::ListCatalogRequest& page_request, v1::ListCatalogResponse* page) {
        return session.points().ListCatalog(session.NewCall().get(), page_request, page);
      },
      std::move(request), follow, result);
}

int RunCatalogList(Session& session, const Args& args) {
  v1::ListCatalogRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_kiosk_id(args.operands[0]);
  request.set_include_inactive(absl::GetFlag(FLAGS_include_inactive));
  request.set_page_size(absl::GetFlag(FLAGS_page_size));
  request.set_page_token(absl::GetFlag(FLAGS_page_token));
  v1::ListCatalogResponse result;
  grpc::Status status = ListCatalog(session, request, absl::GetFlag(FLAGS_all), &result);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(result);
  Print(result.items_size() == 0 ? absl::StrCat("Kiosk ", args.operands[0], " has no items.\n")
                                 : CatalogTable(result.items()));
  PrintMore(result.next_page_token());
  return kExitOk;
}

// The catalog item fields the command line sets, and the update_mask path of each.
const std::vector<MaskedFlag>& CatalogMaskedFlags() {
  static const auto* table = new std::vector<MaskedFlag>{
      {"name", "name"},   {"description", "description"}, {"price", "price_points"},
      {"stock", "stock"}, {"active", "active"},           {"inactive", "active"},
  };
  return *table;
}

int RunCatalogUpsert(Session& session, const Args& args) {
  const std::string& kiosk = args.operands[0];
  const std::string& item_id = args.operands[1];
  if (args.Given("stock") && args.Given("stock-delta")) {
    return UsageError("give one of --stock and --stock-delta");
  }
  if (args.Given("active") && args.Given("inactive")) {
    return UsageError("give one of --active and --inactive");
  }
  // The API creates an item only with an empty update_mask (every field), so whether the
  // item exists decides between "create with all fields" and "change the given ones".
  v1::ListCatalogRequest list;
  list.set_district(absl::GetFlag(FLAGS_district));
  list.set_kiosk_id(kiosk);
  list.set_include_inactive(true);
  list.set_page_size(500);
  v1::ListCatalogResponse catalog;
  grpc::Status status = ListCatalog(session, list, /*follow=*/true, &catalog);
  if (!status.ok() && status.error_code() != grpc::StatusCode::NOT_FOUND) {
    return session.Fail(status);
  }
  auto current =
      std::find_if(catalog.items().begin(), catalog.items().end(),
                   [&](const v1::CatalogItem& item) { return item.item_id() == item_id; });
  const bool exists = current != catalog.items().end();
  v1::UpsertCatalogItemRequest request;
  request.set_district(absl::GetFlag(FLAGS_district));
  v1::CatalogItem& item = *request.mutable_item();
  item.set_kiosk_id(kiosk);
  item.set_item_id(item_id);
  item.set_name(absl::GetFlag(FLAGS_name));
  item.set_description(absl::GetFlag(FLAGS_description));
  item.set_price_points(absl::GetFlag(FLAGS_price));
  item.set_stock(absl::GetFlag(FLAGS_stock));
  item.set_active(args.Given("active") ? absl::GetFlag(FLAGS_active)
                                       : !absl::GetFlag(FLAGS_inactive));
  if (exists) {
    *request.mutable_update_mask() = MaskFromFlags(args, CatalogMaskedFlags());
    request.set_stock_delta(absl::GetFlag(FLAGS_stock_delta));
    if (request.update_mask().paths().empty()) {
      if (request.stock_delta() == 0) {
        return UsageError(absl::StrCat("catalog upsert of an existing item needs at least one of ",
                                       FlagsOf(CatalogMaskedFlags()), ", --stock-delta"));
      }
      // An empty mask with a stock delta is a delivery: only the stock changes.
    }
  } else {
    if (!args.Given("name") || !args.Given("price")) {
      return UsageError(absl::StrCat("kiosk ", kiosk, " has no item ", item_id,
                                     " yet: creating it needs --name and --price"));
    }
    // A new item's stock is its first delivery, whichever flag says it.
    if (args.Given("stock-delta")) item.set_stock(absl::GetFlag(FLAGS_stock_delta));
  }
  v1::CatalogItem response;
  status = session.points().UpsertCatalogItem(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  if (absl::GetFlag(FLAGS_json)) return PrintJson(response);
  Print(absl::StrCat(exists ? "updated " : "created ", kiosk, "/", item_id, "\n\n",
                     FormatFields(CatalogItemFields(response))));
  return kExitOk;
}

// A redemption or reversal: the outcome line and the receipt as a block.
int PrintRedemption(const std::string& request_id, absl::string_view outcome,
                    const v1::Redemption& redemption) {
  if (absl::GetFlag(FLAGS_json)) return PrintJson(redemption);
  Print(absl::StrCat(WriteOutcome(redemption.replayed(), request_id, outcome), "\n",
                     FormatFields(RedemptionFields(redemption))));
  return kExitOk;
}

int RunRedeem(Session& session, const Args& args) {
  absl::StatusOr<std::string> request_id = RequestIdFromFlags();
  if (!request_id.ok()) return UsageError(request_id.status().message());
  v1::RedeemRequest request;
  request.set_request_id(*request_id);
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_volunteer_id(args.operands[0]);
  request.set_kiosk_id(args.operands[1]);
  request.set_item_id(args.operands[2]);
  request.set_quantity(absl::GetFlag(FLAGS_quantity));
  request.set_expected_price_points(absl::GetFlag(FLAGS_expected_price));
  v1::Redemption response;
  grpc::Status status = session.points().Redeem(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintRedemption(
      request.request_id(),
      absl::StrCat("redeemed ", request.quantity(), " x ", request.item_id(), " for ",
                   request.volunteer_id(), " at kiosk ", request.kiosk_id(), ": ",
                   response.entry().amount(), " points"),
      response);
}

int RunReverse(Session& session, const Args& args) {
  absl::StatusOr<std::string> request_id = RequestIdFromFlags();
  if (!request_id.ok()) return UsageError(request_id.status().message());
  v1::ReverseRedemptionRequest request;
  request.set_request_id(*request_id);
  request.set_district(absl::GetFlag(FLAGS_district));
  request.set_entry_id(args.operands[0]);
  request.set_reason(absl::GetFlag(FLAGS_reason));
  if (request.reason().empty()) return UsageError("reverse needs --reason=TEXT (it is audited)");
  request.set_restock(absl::GetFlag(FLAGS_restock));
  v1::Redemption response;
  grpc::Status status =
      session.points().ReverseRedemption(session.NewCall().get(), request, &response);
  if (!status.ok()) return session.Fail(status);
  return PrintRedemption(
      request.request_id(),
      absl::StrCat("reversed ", request.entry_id(), ": ", response.entry().amount(),
                   " points back to the volunteer", request.restock() ? ", restocked" : ""),
      response);
}

// ---------------------------------------------------------------------------------------
// The command table, which drives dispatching, flag checking and `help`.

// A flag as a command's usage shows it.
struct FlagDoc {
  FlagDoc(std::string name, std::string arg, const EnumDescriptor* values = nullptr,
          std::string help = "")
      : name(std::move(name)), arg(std::move(arg)), values(values), help(std::move(help)) {}

  std::string name;              // dashed, e.g. "required-skills"
  std::string arg;               // value placeholder; empty for a bool flag
  const EnumDescriptor* values;  // for enum flags: the accepted names
  std::string help;              // empty: the flag's own help text
};

struct Command {
  std::string name;               // one or two words, e.g. "token create"
  std::vector<std::string> args;  // operands, e.g. {"ID"}
  std::string summary;
  std::vector<FlagDoc> flags;
  int (*run)(Session&, const Args&);
};

const std::vector<FlagDoc>& GlobalFlags() {
  static const auto* flags = new std::vector<FlagDoc>{
      {"server", "ADDR"}, {"token", "SECRET"},  {"data-dir", "DIR"},
      {"json", ""},       {"timeout-ms", "MS"},
  };
  return *flags;
}

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"submit",
       {},
       "Record a resident's request for help (idempotent per --request-id).",
       {{"channel", "NAME", v1::Channel_descriptor()},
        {"category", "NAME", v1::Category_descriptor()},
        {"urgency", "NAME", v1::Urgency_descriptor()},
        {"name", "TEXT", nullptr, "resident's name"},
        {"phone", "PHONE"},
        {"address", "TEXT"},
        {"lat", "DEG"},
        {"lng", "DEG"},
        {"community", "ID"},
        {"compound", "ID"},
        {"description", "TEXT"},
        {"station", "ID"},
        {"operator", "ID"},
        {"headcount", "N"},
        {"required-skills", "A,B"},
        {"preferred-skills", "A,B"},
        {"lives-alone", ""},
        {"high-age", ""},
        {"disabled", ""},
        {"district", "NAME"},
        {"request-id", "KEY"}},
       RunSubmit},
      {"get", {"ID"}, "Show one request.", {}, RunGet},
      {"list",
       {},
       "List requests, newest first.",
       {{"state", "A,B", v1::RequestState_descriptor()},
        {"channel", "NAME", v1::Channel_descriptor()},
        {"category", "NAME", v1::Category_descriptor()},
        {"urgency", "NAME", v1::Urgency_descriptor()},
        {"community", "ID"},
        {"district", "NAME"},
        {"page-size", "N"},
        {"page-token", "TOKEN"},
        {"all", ""}},
       RunList},
      {"cancel", {"ID"}, "Cancel an open request.", {{"reason", "TEXT"}}, RunCancel},
      {"volunteers",
       {},
       "List volunteers by id, filtered.",
       {{"community", "ID", nullptr, "only volunteers whose home community is this"},
        {"skill", "TOKEN"},
        {"certificate", "NAME", v1::Certificate_descriptor()},
        {"duty", "STATUS", v1::DutyStatus_descriptor()},
        {"team", "UNIT_ID"},
        {"phone", "PHONE", nullptr, "only the volunteer with this phone"},
        {"external-id", "ID", nullptr, "only the volunteer with this external id"},
        {"district", "NAME"},
        {"page-size", "N"},
        {"page-token", "TOKEN"},
        {"all", ""}},
       RunVolunteers},
      {"volunteer get", {"ID"}, "Show one volunteer.", {}, RunVolunteerGet},
      {"volunteer register",
       {},
       "Register a volunteer (idempotent per --external-id).",
       {{"external-id", "ID"},
        {"name", "TEXT", nullptr, "volunteer's name, 1..64 characters"},
        {"phone", "PHONE", nullptr, "mobile, 11 digits (spaces, dashes and +86 are dropped)"},
        {"community", "ID", nullptr, "home community id, e.g. wx-aiguo"},
        {"skills", "A,B"},
        {"certificates", "A,B", v1::Certificate_descriptor()},
        {"languages", "A,B"},
        {"availability", "SLOTS"},
        {"capacity", "N", nullptr, "assignments held at once, 1..10 (default 1)"},
        {"district", "NAME"}},
       RunVolunteerRegister},
      {"volunteer update",
       {"ID"},
       "Change the fields whose flags are given, and only those (an empty value clears).",
       {{"name", "TEXT", nullptr, "volunteer's name, 1..64 characters"},
        {"phone", "PHONE", nullptr, "mobile, 11 digits"},
        {"community", "ID", nullptr, "home community id"},
        {"skills", "A,B"},
        {"certificates", "A,B", v1::Certificate_descriptor()},
        {"languages", "A,B"},
        {"availability", "SLOTS"},
        {"capacity", "N", nullptr, "assignments held at once, 1..10"}},
       RunVolunteerUpdate},
      {"volunteer duty",
       {"ID", "on|off|busy"},
       "Go on duty (at --lat/--lng), off duty, or busy (keeps work, takes no new offers).",
       {{"lat", "DEG", nullptr, "where the volunteer is now (required for on)"},
        {"lng", "DEG", nullptr, "where the volunteer is now (required for on)"}},
       RunVolunteerDuty},
      {"volunteer locate",
       {"ID"},
       "Report an on-duty volunteer's live location.",
       {{"lat", "DEG", nullptr, "where the volunteer is now (required)"},
        {"lng", "DEG", nullptr, "where the volunteer is now (required)"}},
       RunVolunteerLocate},
      {"nearby",
       {},
       "Find the nearest eligible on-duty volunteers (and units) around a point.",
       {{"lat", "DEG", nullptr, "centre of the search (required)"},
        {"lng", "DEG", nullptr, "centre of the search (required)"},
        {"limit", "K"},
        {"radius-m", "M"},
        {"skills", "A,B", nullptr, "every candidate has all these skills (certificates count)"},
        {"certificates", "A,B", v1::Certificate_descriptor(),
         "every candidate holds all these certificates"},
        {"duty", "A,B", v1::DutyStatus_descriptor(),
         "volunteers in any of these duty statuses (default on)"},
        {"available-now", ""},
        {"units", ""},
        {"unit-kinds", "A,B", v1::UnitKind_descriptor()},
        {"exclude", "ID,ID"},
        {"district", "NAME"}},
       RunNearby},
      {"units",
       {},
       "List stations, vans and teams by id.",
       {{"kind", "NAME", v1::UnitKind_descriptor(), "only this kind"},
        {"community", "ID", nullptr, "only units based in this community"},
        {"active-only", ""},
        {"district", "NAME"},
        {"page-size", "N"},
        {"page-token", "TOKEN"},
        {"all", ""}},
       RunUnits},
      {"unit get", {"ID"}, "Show one station, van or team.", {}, RunUnitGet},
      {"unit create",
       {},
       "Create a station, van or team, active unless --inactive (idempotent per --unit-id).",
       {{"kind", "NAME", v1::UnitKind_descriptor(), "what it is (required)"},
        {"name", "TEXT", nullptr, "display name, e.g. \"Van 3\""},
        {"community", "ID", nullptr, "community the unit is based in"},
        {"compound", "ID"},
        {"unit-id", "ID"},
        {"lat", "DEG", nullptr, "where it is (required for stations and teams)"},
        {"lng", "DEG", nullptr, "where it is (required for stations and teams)"},
        {"address", "TEXT", nullptr, "public address of a station"},
        {"phone", "PHONE", nullptr, "public contact phone of the station or van desk"},
        {"members", "ID,ID"},
        {"leader", "ID"},
        {"capacity", "N", nullptr, "assignments held at once, 1..100 (default 1)"},
        {"skills", "A,B", nullptr, "skills the unit brings as a whole, e.g. medical,driver"},
        {"equipment", "A,B"},
        {"inactive", ""},
        {"district", "NAME"}},
       RunUnitCreate},
      {"unit update",
       {"ID"},
       "Change the fields whose flags are given, and only those (an empty value clears).",
       {{"name", "TEXT", nullptr, "display name"},
        {"lat", "DEG", nullptr, "where it is (with --lng)"},
        {"lng", "DEG", nullptr, "where it is (with --lat)"},
        {"community", "ID", nullptr, "community the unit is based in"},
        {"compound", "ID"},
        {"address", "TEXT", nullptr, "public address of a station"},
        {"phone", "PHONE", nullptr, "public contact phone of the station or van desk"},
        {"members", "ID,ID"},
        {"leader", "ID"},
        {"capacity", "N", nullptr, "assignments held at once, 1..100"},
        {"skills", "A,B", nullptr, "skills the unit brings as a whole"},
        {"equipment", "A,B"},
        {"active", ""},
        {"inactive", ""}},
       RunUnitUpdate},
      {"unit locate",
       {"ID"},
       "Report a van's live location.",
       {{"lat", "DEG", nullptr, "where the van is now (required)"},
        {"lng", "DEG", nullptr, "where the van is now (required)"}},
       RunUnitLocate},
      {"pair",
       {},
       "Pair a volunteer with a resident for standing visits (then preferred for them).",
       {{"volunteer", "ID", nullptr, "the paired volunteer (required)"},
        {"name", "TEXT", nullptr, "resident's name"},
        {"phone", "PHONE"},
        {"community", "ID", nullptr, "resident's community id"},
        {"compound", "ID"},
        {"address", "TEXT"},
        {"lat", "DEG"},
        {"lng", "DEG"},
        {"recurrence", "NAME", v1::Recurrence_descriptor()},
        {"notes", "TEXT"},
        {"lives-alone", ""},
        {"high-age", ""},
        {"disabled", ""},
        {"district", "NAME"}},
       RunPair},
      {"explain",
       {"REQUEST_ID"},
       "Rank the candidates for a request as the matcher sees them now, with each cost "
       "component; --excluded also shows who was left out and why. Makes no offer.",
       {{"limit", "N", nullptr, "at most this many candidates, up to 100 (default 10)"},
        {"excluded", ""}},
       RunExplain},
      {"assign",
       {"REQUEST_ID"},
       "Assign a volunteer or unit by hand, bypassing offers (audited).",
       {{"volunteer", "ID", nullptr, "the volunteer to assign"},
        {"unit", "ID", nullptr, "or the unit to assign"},
        {"reason", "TEXT"},
        {"force", ""}},
       RunAssign},
      {"reassign",
       {"REQUEST_ID"},
       "Move an assignment to another volunteer or unit, or (without --to) back to matching "
       "without the one released (audited).",
       {{"from", "v:ID|u:ID"},
        {"to", "v:ID|u:ID", nullptr,
         "the new assignee (default: back to matching, leaving --from out)"},
        {"reason", "TEXT"},
        {"force", "", nullptr, "skip the new assignee's hard-constraint checks"}},
       RunReassign},
      {"escalations",
       {},
       "List the requests waiting for an operator: CRISIS first, then longest waiting.",
       {{"district", "NAME"}, {"page-size", "N"}, {"page-token", "TOKEN"}, {"all", ""}},
       RunEscalations},
      {"mobilize",
       {},
       "Broadcast a call for help to every eligible on-duty volunteer in an area; the first "
       "--needed acceptances fill it (idempotent per --key).",
       {{"key", "KEY"},
        {"lat", "DEG", nullptr, "centre of the area (required)"},
        {"lng", "DEG", nullptr, "centre of the area (required)"},
        {"radius-m", "M", nullptr, "radius of the area, 100..50000 metres (required)"},
        {"category", "NAME", v1::Category_descriptor()},
        {"needed", "N"},
        {"description", "TEXT", nullptr, "what is needed and where to report; shown to volunteers"},
        {"skills", "A,B", nullptr, "every volunteer has all these skills (certificates count)"},
        {"certificates", "A,B", v1::Certificate_descriptor(),
         "every volunteer holds all these certificates"},
        {"ttl-s", "S"},
        {"district", "NAME"}},
       RunMobilize},
      {"watch",
       {},
       "Print the district's events as they happen, one line each, until Ctrl-C; reconnects "
       "by itself, resuming after the last event.",
       {{"after", "EVENT_ID"},
        {"types", "A,B", v1::EventType_descriptor()},
        {"request", "ID"},
        {"max", "N"},
        {"idle-ms", "MS"},
        {"district", "NAME"}},
       RunWatch},
      {"offers",
       {"VOLUNTEER_ID"},
       "Show a volunteer's pending offers (u:UNIT_ID: a unit's); with --follow, keep printing "
       "new offers and changes as they happen.",
       {{"follow", ""},
        {"after", "CURSOR", nullptr, "with --follow: resume after this offer cursor"},
        {"max", "N", nullptr, "with --follow: stop after this many messages"},
        {"idle-ms", "MS", nullptr,
         "stop once nothing has arrived for this many milliseconds (default: 500 without "
         "--follow, never with it)"}},
       RunOffers},
      {"respond",
       {"OFFER_ID", "accept|decline"},
       "Accept or decline an offer for the volunteer (the first acceptance wins).",
       {{"reason", "NAME", v1::DeclineReason_descriptor(), "why it is declined"},
        {"notes", "TEXT", nullptr, "why it is declined, in words; up to 500 characters"},
        {"volunteer", "ID", nullptr,
         "the volunteer answering (for a unit's offer: its leader or a member)"},
        {"lat", "DEG", nullptr, "with accept: where the volunteer is now"},
        {"lng", "DEG", nullptr, "with accept: where the volunteer is now"}},
       RunRespond},
      {"progress",
       {"REQUEST_ID", "en-route|arrived|completed|rated|no-show"},
       "Report progress on an assignment (completed earns points; no-show releases it and "
       "sends the request back to matching).",
       {{"volunteer", "ID", nullptr, "whose assignment (needed when the request has several)"},
        {"unit", "ID", nullptr, "or the unit's assignment"},
        {"minutes", "N"},
        {"rating", "N"},
        {"notes", "TEXT", nullptr, "notes or feedback; up to 2000 characters"},
        {"lat", "DEG", nullptr, "where the assignee is now (en-route, arrived)"},
        {"lng", "DEG", nullptr, "where the assignee is now (en-route, arrived)"}},
       RunProgress},
      {"points balance",
       {"ACCOUNT"},
       "Show an account's balance: fund, volunteer:ID (or just the volunteer's id) or "
       "kiosk:ID; a volunteer's pending points wait for the fund to be topped up.",
       {{"district", "NAME"}},
       RunPointsBalance},
      {"points ledger",
       {},
       "List ledger entries, newest first.",
       {{"account", "ACCOUNT"},
        {"kinds", "A,B", v1::LedgerKind_descriptor()},
        {"district", "NAME"},
        {"page-size", "N"},
        {"page-token", "TOKEN"},
        {"all", ""}},
       RunPointsLedger},
      {"points adjust",
       {"VOLUNTEER_ID", "DELTA"},
       "Give a volunteer points from the fund (DELTA > 0) or take points back into it "
       "(DELTA < 0), ADMIN only and audited (idempotent per --request-id).",
       {{"reason", "TEXT"}, {"request-id", "KEY"}, {"district", "NAME"}},
       RunPointsAdjust},
      {"points fund",
       {"AMOUNT"},
       "Top up the district's reward fund, ADMIN only; earnings waiting for an empty fund are "
       "then paid, oldest first (idempotent per --request-id).",
       {{"reason", "TEXT", nullptr, "where the points come from, e.g. \"charity federation Q3\""},
        {"request-id", "KEY"},
        {"district", "NAME"}},
       RunPointsFund},
      {"catalog list",
       {"KIOSK_ID"},
       "List a kiosk's catalog by item id.",
       {{"include-inactive", ""},
        {"district", "NAME"},
        {"page-size", "N", nullptr, "results per page, at most 500 (default 100)"},
        {"page-token", "TOKEN"},
        {"all", ""}},
       RunCatalogList},
      {"catalog upsert",
       {"KIOSK_ID", "ITEM_ID"},
       "Create a catalog item (needs --name and --price; active unless --inactive) or change "
       "the fields of an existing one whose flags are given, ADMIN only. A kiosk exists once "
       "it has an item.",
       {{"name", "TEXT", nullptr, "display name, 1..64 characters, e.g. \"大米 5 kg\""},
        {"description", "TEXT", nullptr, "longer description, up to 500 characters"},
        {"price", "POINTS"},
        {"stock", "N"},
        {"stock-delta", "N"},
        {"active", "", nullptr, "the item can be redeemed (--active=false: it cannot)"},
        {"inactive", "", nullptr, "the item cannot be redeemed (hidden from kiosks)"},
        {"district", "NAME"}},
       RunCatalogUpsert},
      {"redeem",
       {"VOLUNTEER_ID", "KIOSK_ID", "ITEM_ID"},
       "Redeem a volunteer's points for catalog items at a kiosk (idempotent per "
       "--request-id: resending the same key never charges twice).",
       {{"quantity", "N"},
        {"expected-price", "POINTS"},
        {"request-id", "KEY"},
        {"district", "NAME"}},
       RunRedeem},
      {"reverse",
       {"ENTRY_ID"},
       "Reverse a redemption in full: the points go back to the volunteer (idempotent per "
       "--request-id).",
       {{"reason", "TEXT"}, {"restock", ""}, {"request-id", "KEY"}, {"district", "NAME"}},
       RunReverse},
      {"token create",
       {},
       "Create a bearer token (ADMIN); its secret is shown once.",
       {{"role", "NAME", v1::Role_descriptor()},
        {"name", "TEXT", nullptr, "label, e.g. \"station-07 tablet\""},
        {"district", "NAME", nullptr, "district it is limited to; \"*\" only for admin"},
        {"kiosk", "ID"},
        {"volunteer", "ID"}},
       RunTokenCreate},
      {"token list", {}, "List tokens, oldest first (never their secrets).", {}, RunTokenList},
      {"token revoke", {"TOKEN_ID"}, "Revoke a token.", {}, RunTokenRevoke},
  };
  return *commands;
}

std::string FlagHelp(const FlagDoc& flag) {
  std::string help = flag.help;
  if (help.empty()) {
    absl::CommandLineFlag* known =
        absl::FindCommandLineFlag(absl::StrReplaceAll(flag.name, {{"-", "_"}}));
    if (known != nullptr) help = known->Help();
  }
  if (flag.values != nullptr) absl::StrAppend(&help, ": ", EnumChoices(*flag.values));
  return help;
}

// Breaks `text` at spaces into lines of at most `width` columns (longer words stay whole).
std::vector<std::string> WrapWords(absl::string_view text, int width) {
  std::vector<std::string> lines = {""};
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::string& line = lines.back();
    if (line.empty()) {
      line = std::string(word);
    } else if (DisplayWidth(line) + 1 + DisplayWidth(word) <= width) {
      absl::StrAppend(&line, " ", word);
    } else {
      lines.emplace_back(word);
    }
  }
  return lines;
}

// One line per flag, "--name=ARG  help", the help wrapped to fit 100 columns.
std::string FormatFlags(const std::vector<FlagDoc>& flags, absl::string_view indent) {
  constexpr int kNameWidth = 24;
  constexpr int kLineWidth = 100;
  const std::string help_indent(indent.size() + kNameWidth + 1, ' ');
  std::string out;
  for (const FlagDoc& flag : flags) {
    std::string spelled = absl::StrCat("--", flag.name, flag.arg.empty() ? "" : "=", flag.arg);
    std::vector<std::string> help =
        WrapWords(FlagHelp(flag), kLineWidth - static_cast<int>(help_indent.size()));
    absl::StrAppend(&out, indent, absl::StrFormat("%-*s ", kNameWidth, spelled),
                    absl::StrJoin(help, absl::StrCat("\n", help_indent)), "\n");
  }
  return out;
}

// "token revoke TOKEN_ID", "list [flags]".
std::string Synopsis(const Command& command) {
  std::vector<std::string> parts = {command.name};
  parts.insert(parts.end(), command.args.begin(), command.args.end());
  if (!command.flags.empty()) parts.push_back("[flags]");
  return absl::StrJoin(parts, " ");
}

// Usage of the commands whose name starts with `topic` (every command when empty).
std::string Usage(absl::string_view topic) {
  std::string out =
      "dispatchctl: the operator's command line for Yiyuan Dispatch.\n\n"
      "Usage: dispatchctl [global flags] COMMAND [ARGS] [flags]\n\nCommands:\n";
  for (const Command& command : Commands()) {
    if (!absl::StartsWith(command.name, topic)) continue;
    absl::StrAppend(&out, "\n  ", Synopsis(command), "\n      ",
                    absl::StrJoin(WrapWords(command.summary, 94), "\n      "), "\n",
                    FormatFlags(command.flags, "      "));
  }
  absl::StrAppend(
      &out, "\nGlobal flags (any command):\n", FormatFlags(GlobalFlags(), "  "),
      "\nFlags may come before or after the command; enum values are case-insensitive.\n"
      "Exit status: 0 ok, 1 the call failed, 2 usage error.\n");
  return out;
}

// ---------------------------------------------------------------------------------------
// Reading the command line

// The command line as read before Abseil sets the flags.
struct ScannedArgs {
  std::vector<std::string> words;  // positional arguments: the command and its operands
  std::vector<std::string> flags;  // dashed names of the flags given
  bool help = false;               // --help or -h
  // Indices in the arguments of operands that are negative numbers ("-20"), which
  // Abseil would read as flags.
  std::vector<size_t> negative_numbers;
};

bool IsOurFlag(const std::string& dashed) {
  auto named = [&](const FlagDoc& f) { return f.name == dashed; };
  if (std::any_of(GlobalFlags().begin(), GlobalFlags().end(), named)) return true;
  return std::any_of(Commands().begin(), Commands().end(), [&](const Command& c) {
    return std::any_of(c.flags.begin(), c.flags.end(), named);
  });
}

// Reads the flag at args[*i] into `out`, moving *i past its value when that is the next
// argument. Checks that the flag exists and that a value for one of our flags parses.
// (Parsing sets the flag early; harmless, as ParseCommandLine then sets the same value.)
absl::Status ScanFlag(const std::vector<std::string>& args, size_t* i, ScannedArgs* out) {
  absl::string_view arg = args[*i];
  if (!absl::ConsumePrefix(&arg, "--")) absl::ConsumePrefix(&arg, "-");
  std::pair<absl::string_view, absl::string_view> name_value =
      absl::StrSplit(arg, absl::MaxSplits('=', 1));
  const std::string name(name_value.first);
  const bool has_value = absl::StrContains(arg, '=');
  if (name == "help" || name == "h") {
    out->help = true;
    return absl::OkStatus();
  }
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr && absl::StartsWith(name, "no") && !has_value) {  // --nolives-alone
    absl::CommandLineFlag* negated = absl::FindCommandLineFlag(name.substr(2));
    if (negated != nullptr && negated->IsOfType<bool>()) {
      out->flags.push_back(Dashed(name.substr(2)));
      return absl::OkStatus();
    }
  }
  if (flag == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag --", Dashed(name)));
  }
  out->flags.push_back(Dashed(name));
  if (!has_value && flag->IsOfType<bool>()) return absl::OkStatus();
  std::string value(name_value.second);
  if (!has_value) {
    if (*i + 1 == args.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--", Dashed(name), " needs a value"));
    }
    value = args[++*i];
  }
  std::string error;
  if (IsOurFlag(Dashed(name)) && !flag->ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", Dashed(name), ": invalid value \"", value, "\""));
  }
  return absl::OkStatus();
}

// Splits `args` (through NormalizeFlagNames) into words and flags the way Abseil will, so
// that mistakes become usage errors in our words rather than Abseil's exit(1).
absl::StatusOr<ScannedArgs> ScanArgs(const std::vector<std::string>& args) {
  ScannedArgs out;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      out.words.insert(out.words.end(), args.begin() + i + 1, args.end());
      break;
    }
    // A negative number is an operand (points adjust ID -20), not a flag.
    int64_t number = 0;
    if (arg.size() >= 2 && arg[0] == '-' && absl::SimpleAtoi(arg, &number)) {
      out.negative_numbers.push_back(i);
      out.words.push_back(arg);
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      out.words.push_back(arg);
      continue;
    }
    if (absl::Status s = ScanFlag(args, &i, &out); !s.ok()) return s;
  }
  return out;
}

// A command as invoked: what to run and with what.
struct Invocation {
  const Command* command = nullptr;
  Args args;
};

// Finds the command `scanned` names (the longest match) and checks its operands and
// flags.
absl::StatusOr<Invocation> MatchCommand(const ScannedArgs& scanned) {
  Invocation out;
  size_t name_words = 0;
  for (const Command& command : Commands()) {
    std::vector<std::string> name = absl::StrSplit(command.name, ' ');
    if (name.size() <= scanned.words.size() &&
        std::equal(name.begin(), name.end(), scanned.words.begin())) {
      out.command = &command;
      name_words = name.size();
    }
  }
  if (out.command == nullptr) {
    std::vector<std::string> names;
    for (const Command& command : Commands()) names.push_back(command.name);
    return absl::InvalidArgumentError(absl::StrCat("unknown command \"",
                                                   absl::StrJoin(scanned.words, " "),
                                                   "\"; commands: ", absl::StrJoin(names, ", ")));
  }
  out.args.operands.assign(scanned.words.begin() + name_words, scanned.words.end());
  out.args.flags = scanned.flags;
  if (out.args.operands.size() != out.command->args.size()) {
    return absl::InvalidArgumentError(absl::StrCat("usage: dispatchctl ", Synopsis(*out.command)));
  }
  for (const std::string& flag : scanned.flags) {
    auto named = [&](const FlagDoc& f) { return f.name == flag; };
    const std::vector<FlagDoc>& own = out.command->flags;
    bool allowed = std::any_of(own.begin(), own.end(), named) ||
                   std::any_of(GlobalFlags().begin(), GlobalFlags().end(), named);
    if (!allowed && IsOurFlag(flag)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, " does not apply to \"", out.command->name, "\""));
    }
  }
  return out;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the operator's command line for Yiyuan Dispatch; see 'dispatchctl help'");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  absl::StatusOr<ScannedArgs> scanned = ScanArgs(args);
  if (!scanned.ok()) return UsageError(scanned.status().message());
  const std::vector<std::string>& words = scanned->words;
  if (scanned->help || (!words.empty() && words[0] == "help")) {
    Print(Usage(words.size() > 1 ? words[1] : ""));
    return kExitOk;
  }
  if (words.empty()) {
    std::fputs(Usage("").c_str(), stderr);
    return kExitUsage;
  }
  absl::StatusOr<Invocation> invocation = MatchCommand(*scanned);
  if (!invocation.ok()) return UsageError(invocation.status().message());

  // Abseil sets the flags; the operands are already in `invocation` (negative numbers
  // left out, as Abseil would take them for flags).
  std::vector<std::string> flag_args;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::vector<size_t>& skip = scanned->negative_numbers;
    if (std::find(skip.begin(), skip.end(), i) == skip.end()) flag_args.push_back(args[i]);
  }
  std::vector<char*> argv_view = ArgvOf(flag_args);
  absl::ParseCommandLine(static_cast<int>(flag_args.size()), argv_view.data());
  absl::StatusOr<std::unique_ptr<Session>> session = OpenSession();
  if (!session.ok()) return UsageError(session.status().message());
  return invocation->command->run(**session, invocation->args);
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Main(argc, argv); }
