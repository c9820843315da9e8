// sim_driver: replays a seeded synthetic district (bench/sim/district.h) against a running
// dispatchd over real gRPC, in accelerated time (issue 7, first cut of the driver).
//
//   sim_driver --server=HOST:PORT --token-file=ADMIN_TOKEN_FILE [--seed=1] [--quick]
//              [--speedup=600] [--out=result.json]
//
// 1. Registers the volunteers (a few threads), the stations and the vans; puts every
//    volunteer on duty at home for the whole day. Simplifications: availability is not
//    sent (the server would check it against the real clock, not the simulated one), and
//    a volunteer stays at home between assignments.
// 2. Submits each request at its accelerated time (IntakeService.SubmitRequest, the
//    generator's request_id as idempotency key); time windows are compressed around the
//    submit time by the same factor.
// 3. Plays every volunteer's app from one DispatchService.WatchEvents stream: on an
//    offer, after a seeded think time it accepts with the volunteer's accept probability
//    (else declines), then reports EN_ROUTE, ARRIVED after distance / speed and COMPLETED
//    after a service time by category. A timer queue of a few threads makes the calls.
// 4. After the last request and a drain period (ends early once nothing is open), reads
//    every request back (ListRequests) and writes --out as JSON; prints the totals.
//    Per RPC it keeps every latency and counts failures by gRPC code: code 9
//    (FAILED_PRECONDITION) on RespondToOffer is an outcome, not a fault (a parallel offer
//    of an URGENT or CRISIS request was taken first). Exits 3 when a request was not
//    submitted or ended neither COMPLETED/RATED, CANCELLED nor ESCALATED.
//
// Decisions are seeded per offer (seed and offer id), so a run is repeatable as far as
// the server's own timing allows.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_phase.h"
#include "bench/sim/district.h"
#include "nlohmann/json.hpp"
#include "server/flag_names.h"
#include "yiyuan/v1/dispatch.grpc.pb.h"
#include "yiyuan/v1/intake.grpc.pb.h"
#include "yiyuan/v1/unit.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

ABSL_FLAG(std::string, server, "", "dispatchd address, HOST:PORT");
ABSL_FLAG(std::string, token_file, "", "file holding an ADMIN bearer token");
ABSL_FLAG(uint64_t, seed, 1, "seed of the district and of every simulated decision");
ABSL_FLAG(bool, quick, false, "small district (QuickOptions) and a faster default speedup");
ABSL_FLAG(double, speedup, 0, "simulated seconds per real second; 0 means 600 (1800 with --quick)");
ABSL_FLAG(int, drain_seconds, 120,
          "real seconds to wait after the last submit for open requests to end");
ABSL_FLAG(int, register_threads, 4, "threads registering volunteers");
ABSL_FLAG(int, workers, 4, "threads answering offers and reporting progress");
ABSL_FLAG(std::string, out, "", "write the per-request result as JSON to this file");

namespace yiyuan::sim {
namespace {

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds = 10) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

// FNV-1a over `s`, mixed with `seed`: a stable per-key seed (absl::Hash is salted per
// process, so it would not repeat across runs).
uint64_t StableSeed(uint64_t seed, const std::string& s) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9E3779B97F4A7C15ULL);
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// ---- engine → proto, for the fields the generator fills ----

v1::LatLng ToProto(const LatLng& p) {
  v1::LatLng out;
  out.set_lat(p.lat);
  out.set_lng(p.lng);
  return out;
}

v1::Volunteer ToProto(const VolunteerProfile& p) {
  v1::Volunteer out;
  out.set_external_id(p.external_id);
  out.set_name(p.name);
  out.set_phone(p.phone);
  out.set_home_community_id(p.home_community_id);
  for (const std::string& s : p.skills) out.add_skills(s);
  for (Certificate c : p.certificates) out.add_certificates(static_cast<v1::Certificate>(c));
  for (const std::string& l : p.languages) out.add_languages(l);
  out.set_capacity(p.capacity);
  return out;
}

v1::HelpRequest ToProto(const RequestContent& c) {
  v1::HelpRequest out;
  out.set_channel(static_cast<v1::Channel>(c.channel));
  if (!c.station_id.empty()) out.mutable_intake()->set_station_id(c.station_id);
  if (!c.operator_id.empty()) out.mutable_intake()->set_operator_id(c.operator_id);
  v1::Resident* r = out.mutable_resident();
  r->set_name(c.resident.name);
  r->set_phone(c.resident.phone);
  r->set_address(c.resident.address);
  if (c.resident.location.has_value()) *r->mutable_location() = ToProto(*c.resident.location);
  r->set_community_id(c.resident.community_id);
  r->set_compound_id(c.resident.compound_id);
  r->set_lives_alone(c.resident.lives_alone);
  r->set_high_age(c.resident.high_age);
  r->set_disabled(c.resident.disabled);
  out.set_category(static_cast<v1::Category>(c.category));
  out.set_description(c.description);
  out.set_urgency(static_cast<v1::Urgency>(c.urgency));
  for (const std::string& s : c.required_skills) out.add_required_skills(s);
  for (const std::string& s : c.preferred_skills) out.add_preferred_skills(s);
  out.set_headcount(c.headcount);
  out.mutable_window()->set_start_ms(c.window_start_ms);
  out.mutable_window()->set_end_ms(c.window_end_ms);
  out.set_recurrence(static_cast<v1::Recurrence>(c.recurrence));
  return out;
}

// ---- latency samples per RPC ----

class Latencies {
 public:
  // `code` is the call's grpc::StatusCode (0 = OK); failures are counted by code.
  void Add(const std::string& rpc, absl::Duration d, int code) {
    absl::MutexLock l(&mu_);
    Rpc& r = rpcs_[rpc];
    r.us.push_back(absl::ToInt64Microseconds(d));
    if (code != 0) {
      ++r.errors;
      ++r.by_code[absl::StrCat(code)];
    }
  }
  nlohmann::json ToJson() const;

 private:
  struct Rpc {
    std::vector<int64_t> us;
    int errors = 0;
    std::map<std::string, int> by_code;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Rpc> rpcs_ ABSL_GUARDED_BY(mu_);
};

// Nearest-rank percentile of sorted `v` (0 for an empty one).
int64_t Pct(const std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, i == 0 ? 0 : i - 1)];
}

nlohmann::json Latencies::ToJson() const {
  absl::MutexLock l(&mu_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, r] : rpcs_) {
    std::vector<int64_t> v = r.us;
    std::sort(v.begin(), v.end());
    out[name] = {{"count", v.size()},
                 {"errors", r.errors},
                 {"errors_by_code", r.by_code},
                 {"p50_us", Pct(v, 0.5)},
                 {"p90_us", Pct(v, 0.9)},
                 {"p99_us", Pct(v, 0.99)},
                 {"max_us", v.empty() ? 0 : v.back()}};
  }
  return out;
}

// ---- a timer queue run by a few threads ----

class TimerQueue {
 public:
  explicit TimerQueue(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~TimerQueue() { Stop(); }

  // Runs `fn` on a worker at or after `when`.
  void At(absl::Time when, std::function<void()> fn) {
    absl::MutexLock l(&mu_);
    heap_.push(Item{when, seq_++, std::move(fn)});
    cv_.SignalAll();
  }
  // Queued plus running tasks.
  int Outstanding() const {
    absl::MutexLock l(&mu_);
    return static_cast<int>(heap_.size()) + running_;
  }
  // Drops what is queued, waits for running tasks, joins.
  void Stop() {
    {
      absl::MutexLock l(&mu_);
      stop_ = true;
      cv_.SignalAll();
    }
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  struct Item {
    absl::Time when;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };

  void Loop() {
    absl::MutexLock l(&mu_);
    while (!stop_) {
      if (!heap_.empty() && heap_.top().when <= absl::Now()) {
        std::function<void()> fn = std::move(const_cast<Item&>(heap_.top()).fn);
        heap_.pop();
        ++running_;
        mu_.Unlock();
        fn();
        mu_.Lock();
        --running_;
        continue;
      }
      cv_.WaitWithDeadline(&mu_, heap_.empty() ? absl::InfiniteFuture() : heap_.top().when);
    }
  }

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap_ ABSL_GUARDED_BY(mu_);
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// What the event stream and the simulated apps learn about one request (server id).
struct Track {
  int64_t first_offer_ms = 0;  // Server clock, ms since epoch; 0: never.
  int64_t assigned_ms = 0;
  int64_t completed_ms = 0;
  int offers = 0;
  int accepted = 0;
  int declined = 0;
  std::string assignee;
  double distance_m = -1;
  std::string escalation_reason;  // attributes["reason"] of the escalation event.
  bool cancelled = false;
};

// Who answers an offer and how: a volunteer of the district or a unit.
struct Actor {
  double accept_probability = 0.9;
  double speed_kmh = 15;
};

// Service minutes by category (before a seeded ±40 %), a modelling choice.
double ServiceMinutes(v1::Category c) {
  switch (c) {
    case v1::ELDER_VISIT:
      return 45;
    case v1::ESCORT:
      return 90;
    case v1::SHOPPING:
      return 40;
    case v1::HOUSEWORK:
      return 60;
    case v1::REPAIR:
      return 50;
    case v1::HEALTH_CHECK:
      return 30;
    case v1::PSYCH_SUPPORT:
      return 50;
    case v1::EPIDEMIC_SUPPLY:
      return 20;
    default:
      return 30;
  }
}

class Driver {
 public:
  Driver(const District& d, std::vector<std::shared_ptr<grpc::Channel>> channels, std::string token,
         uint64_t seed, double speedup)
      : d_(d),
        channels_(std::move(channels)),
        token_(std::move(token)),
        seed_(seed),
        speedup_(speedup) {}

  int Run(int register_threads, int workers, int drain_seconds, const std::string& out_path);

 private:
  std::shared_ptr<grpc::Channel> Chan(size_t i) const { return channels_[i % channels_.size()]; }
  absl::Duration Sim(double sim_seconds) const { return absl::Seconds(sim_seconds / speedup_); }
  bool RegisterAll(int threads);
  void WatchEvents();
  void OnEvent(const v1::Event& e);
  void Answer(const v1::Event& e);
  void Progress(const std::string& request_id, const v1::Assignee& who, v1::ProgressKind kind,
                int minutes);
  void SubmitAll();
  std::vector<v1::HelpRequest> ListAll(const std::vector<v1::RequestState>& states, bool* ok);
  int WriteResult(const std::vector<v1::HelpRequest>& all, const std::string& out_path);

  const District& d_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  const std::string token_;
  const uint64_t seed_;
  const double speedup_;
  Latencies lat_;
  std::unique_ptr<TimerQueue> timers_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Actor> actors_ ABSL_GUARDED_BY(mu_);  // By server id.
  absl::flat_hash_map<std::string, Track> tracks_ ABSL_GUARDED_BY(mu_);  // By request id.
  // Per generated request (index into d_.requests): server id and submit times.
  struct Submitted {
    std::string id;
    int64_t create_ms = 0;  // Server's create_time_ms.
    int64_t lag_ms = 0;     // How late the submit left against its schedule.
    std::string error;
  };
  std::vector<Submitted> submitted_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stopping_{false};
  std::atomic<int> respond_errors_{0};
  absl::Mutex stream_mu_;
  grpc::ClientContext* stream_ctx_ ABSL_GUARDED_BY(stream_mu_) = nullptr;
};

bool Driver::RegisterAll(int threads) {
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto stub = v1::VolunteerService::NewStub(Chan(static_cast<size_t>(t)));
      for (size_t i = next++; i < d_.volunteers.size(); i = next++) {
        const SimVolunteer& sv = d_.volunteers[i];
        v1::RegisterVolunteerRequest req;
        req.set_district(d_.options.district);
        *req.mutable_volunteer() = ToProto(sv.profile);
        v1::RegisterVolunteerResponse resp;
        absl::Time t0 = absl::Now();
        grpc::Status s = stub->RegisterVolunteer(Ctx(token_).get(), req, &resp);
        lat_.Add("VolunteerService.RegisterVolunteer", absl::Now() - t0, s.error_code());
        if (!s.ok()) {
          if (failures++ < 5) {
            std::fprintf(stderr, "sim_driver: register %s: %s\n", sv.profile.external_id.c_str(),
                         bench::DescribeError(s).c_str());
          }
          continue;
        }
        v1::SetDutyStatusRequest duty;
        duty.set_volunteer_id(resp.volunteer().id());
        duty.set_status(v1::DUTY_ON);
        *duty.mutable_location() = ToProto(sv.home);
        v1::Volunteer v;
        t0 = absl::Now();
        s = stub->SetDutyStatus(Ctx(token_).get(), duty, &v);
        lat_.Add("VolunteerService.SetDutyStatus", absl::Now() - t0, s.error_code());
        if (!s.ok() && failures++ < 5) {
          std::fprintf(stderr, "sim_driver: duty %s: %s\n", resp.volunteer().id().c_str(),
                       bench::DescribeError(s).c_str());
        }
        absl::MutexLock l(&mu_);
        actors_[resp.volunteer().id()] = Actor{sv.accept_probability, sv.speed_kmh};
      }
    });
  }
  for (std::thread& t : pool) t.join();

  // Stations and vans, with the generator's ids as client-chosen unit ids.
  auto units = v1::UnitService::NewStub(Chan(0));
  absl::flat_hash_map<std::string, std::string> community_of_station;
  auto create = [&](v1::CreateUnitRequest& req, double speed_kmh) {
    req.set_district(d_.options.district);
    v1::Unit out;
    absl::Time t0 = absl::Now();
    grpc::Status s = units->CreateUnit(Ctx(token_).get(), req, &out);
    lat_.Add("UnitService.CreateUnit", absl::Now() - t0, s.error_code());
    if (!s.ok()) {
      ++failures;
      std::fprintf(stderr, "sim_driver: unit %s: %s\n", req.unit_id().c_str(),
                   bench::DescribeError(s).c_str());
      return;
    }
    absl::MutexLock l(&mu_);
    actors_[out.id()] = Actor{0.9, speed_kmh};
  };
  for (const Station& st : d_.stations) {
    community_of_station[st.id] = st.community_id;
    v1::CreateUnitRequest req;
    req.set_unit_id(st.id);
    v1::Unit* u = req.mutable_unit();
    u->set_kind(v1::UNIT_STATION);
    u->set_name(st.name);
    u->set_community_id(st.community_id);
    *u->mutable_location() = ToProto(st.location);
    create(req, 12);  // Station staff go by e-bike.
  }
  for (const Van& van : d_.vans) {
    v1::CreateUnitRequest req;
    req.set_unit_id(van.id);
    v1::Unit* u = req.mutable_unit();
    u->set_kind(v1::UNIT_VAN);
    u->set_name(van.id);
    u->set_community_id(community_of_station[van.home_station_id]);
    *u->mutable_location() = ToProto(van.location);
    u->set_capacity(van.capacity);
    for (const std::string& e : van.equipment) u->add_equipment(e);
    create(req, 30);
  }
  absl::MutexLock l(&mu_);
  std::fprintf(stderr, "sim_driver: %zu volunteers and units registered, %d failures\n",
               actors_.size(), failures.load());
  return failures.load() == 0;
}

void Driver::WatchEvents() {
  auto stub = v1::DispatchService::NewStub(Chan(1));
  std::string after = "0";  // From the oldest retained event: nothing is missed at start.
  while (!stopping_) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token_);
    {
      absl::MutexLock l(&stream_mu_);
      if (stopping_) break;
      stream_ctx_ = &ctx;
    }
    v1::WatchEventsRequest req;
    req.set_district(d_.options.district);
    req.set_after_event_id(after);
    for (v1::EventType t :
         {v1::EVENT_OFFER_MADE, v1::EVENT_OFFER_ACCEPTED, v1::EVENT_ASSIGNED_MANUALLY,
          v1::EVENT_PROGRESS, v1::EVENT_REQUEST_ESCALATED, v1::EVENT_REQUEST_CANCELLED,
          v1::EVENT_OFFER_DECLINED}) {
      req.add_types(t);
    }
    auto reader = stub->WatchEvents(&ctx, req);
    v1::Event e;
    while (reader->Read(&e)) {
      after = e.event_id();
      OnEvent(e);
    }
    grpc::Status s = reader->Finish();
    {
      absl::MutexLock l(&stream_mu_);
      stream_ctx_ = nullptr;
    }
    if (!stopping_) {
      std::fprintf(stderr, "sim_driver: event stream ended (%s); resuming after %s\n",
                   bench::DescribeError(s).c_str(), after.c_str());
      absl::SleepFor(absl::Milliseconds(200));
    }
  }
}

void Driver::OnEvent(const v1::Event& e) {
  {
    absl::MutexLock l(&mu_);
    Track& t = tracks_[e.request_id()];
    switch (e.type()) {
      case v1::EVENT_OFFER_MADE:
        ++t.offers;
        if (t.first_offer_ms == 0) t.first_offer_ms = e.time_ms();
        break;
      case v1::EVENT_OFFER_ACCEPTED:
      case v1::EVENT_ASSIGNED_MANUALLY:
        if (t.assigned_ms == 0) t.assigned_ms = e.time_ms();
        break;
      case v1::EVENT_OFFER_DECLINED:
        ++t.declined;
        break;
      case v1::EVENT_PROGRESS: {
        auto kind = e.attributes().find("kind");
        if (kind != e.attributes().end() && kind->second == "PROGRESS_COMPLETED") {
          t.completed_ms = std::max(t.completed_ms, e.time_ms());
        }
        break;
      }
      case v1::EVENT_REQUEST_ESCALATED: {
        auto reason = e.attributes().find("reason");
        t.escalation_reason = reason == e.attributes().end() ? "?" : reason->second;
        break;
      }
      case v1::EVENT_REQUEST_CANCELLED:
        t.cancelled = true;
        break;
      default:
        break;
    }
  }
  if (e.type() != v1::EVENT_OFFER_MADE) return;
  // The simulated app thinks, then answers (30 s..3 min simulated; CRISIS 10..60 s).
  std::mt19937_64 rng(StableSeed(seed_, e.offer_id()));
  std::uniform_real_distribution<double> think(30, 180);
  double sim_s = think(rng);
  timers_->At(absl::Now() + Sim(sim_s), [this, e] { Answer(e); });
}

void Driver::Answer(const v1::Event& e) {
  Actor actor;
  v1::Assignee who;
  if (!e.unit_id().empty()) {
    who.set_unit_id(e.unit_id());
  } else {
    who.set_volunteer_id(e.volunteer_id());
  }
  {
    absl::MutexLock l(&mu_);
    auto it = actors_.find(e.unit_id().empty() ? e.volunteer_id() : e.unit_id());
    if (it != actors_.end()) actor = it->second;
  }
  std::mt19937_64 rng(StableSeed(seed_ + 1, e.offer_id()));
  std::uniform_real_distribution<double> u(0, 1);
  bool accept = u(rng) < actor.accept_probability;
  double service_factor = 0.6 + 0.8 * u(rng);

  v1::RespondToOfferRequest req;
  req.set_offer_id(e.offer_id());
  req.set_response(accept ? v1::RESPONSE_ACCEPT : v1::RESPONSE_DECLINE);
  if (!accept) req.set_decline_reason(v1::DECLINE_BUSY);
  v1::RespondToOfferResponse resp;
  auto stub = v1::VolunteerService::NewStub(Chan(StableSeed(0, e.offer_id())));
  absl::Time t0 = absl::Now();
  grpc::Status s = stub->RespondToOffer(Ctx(token_).get(), req, &resp);
  // An offer may have expired or been withdrawn meanwhile: that is an outcome, not a
  // failure of the driver, but it is counted.
  lat_.Add(accept ? "VolunteerService.RespondToOffer(accept)"
                  : "VolunteerService.RespondToOffer(decline)",
           absl::Now() - t0, s.error_code());
  if (!s.ok() && respond_errors_++ < 5) {
    std::fprintf(stderr, "sim_driver: respond %s: %s\n", e.offer_id().c_str(),
                 bench::DescribeError(s).c_str());
  }
  if (!s.ok() || !accept || !resp.has_assignment()) return;

  const v1::Offer& offer = resp.offer();
  {
    absl::MutexLock l(&mu_);
    Track& t = tracks_[e.request_id()];
    ++t.accepted;
    if (t.assignee.empty()) {
      t.assignee = e.unit_id().empty() ? e.volunteer_id() : e.unit_id();
      t.distance_m = offer.distance_m();
    }
  }
  std::string request_id = e.request_id();
  Progress(request_id, who, v1::PROGRESS_EN_ROUTE, 0);
  // Streets are not straight: 1.3 × the straight line, at the actor's speed.
  double travel_s = 1.3 * offer.distance_m() / (actor.speed_kmh / 3.6);
  double service_min = ServiceMinutes(offer.category()) * service_factor;
  absl::Time arrive = absl::Now() + Sim(travel_s);
  timers_->At(arrive, [this, request_id, who, service_min] {
    Progress(request_id, who, v1::PROGRESS_ARRIVED, 0);
    timers_->At(absl::Now() + Sim(service_min * 60), [this, request_id, who, service_min] {
      Progress(request_id, who, v1::PROGRESS_COMPLETED,
               std::max(1, static_cast<int>(std::lround(service_min))));
    });
  });
}

void Driver::Progress(const std::string& request_id, const v1::Assignee& who, v1::ProgressKind kind,
                      int minutes) {
  v1::ReportProgressRequest req;
  req.set_request_id(request_id);
  *req.mutable_assignee() = who;
  req.set_kind(kind);
  req.set_minutes_served(minutes);
  v1::Assignment out;
  auto stub = v1::VolunteerService::NewStub(Chan(StableSeed(1, request_id)));
  absl::Time t0 = absl::Now();
  grpc::Status s = stub->ReportProgress(Ctx(token_).get(), req, &out);
  lat_.Add(absl::StrCat("VolunteerService.ReportProgress(", v1::ProgressKind_Name(kind), ")"),
           absl::Now() - t0, s.error_code());
  if (!s.ok()) {
    std::fprintf(stderr, "sim_driver: progress %s %s: %s\n", request_id.c_str(),
                 v1::ProgressKind_Name(kind).c_str(), bench::DescribeError(s).c_str());
  }
}

void Driver::SubmitAll() {
  auto stub = v1::IntakeService::NewStub(Chan(0));
  const int64_t origin_ms = d_.requests.empty() ? 0 : d_.requests.front().time_ms;
  const absl::Time start = absl::Now();
  for (size_t i = 0; i < d_.requests.size(); ++i) {
    const SimRequest& q = d_.requests[i];
    absl::Time due = start + Sim(static_cast<double>(q.time_ms - origin_ms) / 1000);
    absl::SleepFor(due - absl::Now());
    // Windows are compressed around the submit time like everything else.
    const int64_t now_ms = NowMs();
    RequestContent c = q.content;
    auto squeeze = [&](int64_t local_ms) {
      if (local_ms == 0) return int64_t{0};
      return now_ms + static_cast<int64_t>(static_cast<double>(local_ms - q.time_ms) / speedup_);
    };
    c.window_start_ms = std::max<int64_t>(0, squeeze(c.window_start_ms));
    c.window_end_ms = squeeze(c.window_end_ms);
    if (c.window_end_ms != 0 && c.window_end_ms < now_ms + 2000) c.window_end_ms = now_ms + 2000;
    if (c.window_end_ms != 0 && c.window_start_ms >= c.window_end_ms) c.window_start_ms = 0;
    if (c.window_start_ms != 0 && c.window_start_ms <= now_ms) c.window_start_ms = 0;

    v1::SubmitRequestRequest req;
    req.set_request_id(q.request_id);
    req.set_district(d_.options.district);
    *req.mutable_request() = ToProto(c);
    v1::SubmitRequestResponse resp;
    absl::Time t0 = absl::Now();
    grpc::Status s = stub->SubmitRequest(Ctx(token_).get(), req, &resp);
    lat_.Add("IntakeService.SubmitRequest", absl::Now() - t0, s.error_code());
    absl::MutexLock l(&mu_);
    Submitted& sub = submitted_[i];
    sub.lag_ms = absl::ToInt64Milliseconds(t0 - due);
    if (s.ok()) {
      sub.id = resp.request().id();
      sub.create_ms = resp.request().create_time_ms();
    } else {
      sub.error = bench::DescribeError(s);
      std::fprintf(stderr, "sim_driver: submit %s: %s\n", q.request_id.c_str(), sub.error.c_str());
    }
  }
}

std::vector<v1::HelpRequest> Driver::ListAll(const std::vector<v1::RequestState>& states,
                                             bool* ok) {
  auto stub = v1::IntakeService::NewStub(Chan(2));
  std::vector<v1::HelpRequest> out;
  v1::ListRequestsRequest req;
  req.set_district(d_.options.district);
  for (v1::RequestState st : states) req.add_states(st);
  req.set_page_size(500);
  *ok = true;
  while (true) {
    v1::ListRequestsResponse resp;
    absl::Time t0 = absl::Now();
    grpc::Status s = stub->ListRequests(Ctx(token_, 30).get(), req, &resp);
    lat_.Add("IntakeService.ListRequests", absl::Now() - t0, s.error_code());
    if (!s.ok()) {
      std::fprintf(stderr, "sim_driver: list: %s\n", bench::DescribeError(s).c_str());
      *ok = false;
      return out;
    }
    for (const v1::HelpRequest& r : resp.requests()) out.push_back(r);
    if (resp.next_page_token().empty()) return out;
    req.set_page_token(resp.next_page_token());
  }
}

bool Served(v1::RequestState s) { return s == v1::COMPLETED || s == v1::RATED; }

int Driver::WriteResult(const std::vector<v1::HelpRequest>& all, const std::string& out_path) {
  absl::flat_hash_map<std::string, const v1::HelpRequest*> by_id;
  for (const v1::HelpRequest& r : all) by_id[r.id()] = &r;
  nlohmann::json requests = nlohmann::json::array();
  int served = 0, escalated = 0, cancelled = 0, stuck = 0, failed = 0;
  std::map<std::string, int> stuck_states, escalation_reasons;
  // Per urgency: real ms from submit to first offer and to assignment.
  std::map<std::string, std::vector<int64_t>> to_offer, to_assign;
  double distance_sum = 0;
  int distance_n = 0;
  absl::MutexLock l(&mu_);
  for (size_t i = 0; i < d_.requests.size(); ++i) {
    const SimRequest& q = d_.requests[i];
    const Submitted& sub = submitted_[i];
    std::string urgency(Name(q.content.urgency));
    nlohmann::json j = {{"request_id", q.request_id},
                        {"id", sub.id},
                        {"urgency", urgency},
                        {"channel", std::string(Name(q.content.channel))},
                        {"category", std::string(Name(q.content.category))},
                        {"headcount", q.content.headcount},
                        {"surge", q.surge},
                        {"submit_sim_ms", q.time_ms},
                        {"submit_lag_ms", sub.lag_ms}};
    if (sub.id.empty()) {
      ++failed;
      j["final_state"] = "NOT_SUBMITTED";
      j["error"] = sub.error;
      requests.push_back(std::move(j));
      continue;
    }
    j["submit_ms"] = sub.create_ms;
    auto tr = tracks_.find(sub.id);
    Track t = tr == tracks_.end() ? Track() : tr->second;
    auto since = [&](int64_t ms) -> nlohmann::json {
      if (ms == 0) return nullptr;
      return ms - sub.create_ms;
    };
    j["first_offer_after_ms"] = since(t.first_offer_ms);
    j["assigned_after_ms"] = since(t.assigned_ms);
    j["completed_after_ms"] = since(t.completed_ms);
    j["offers"] = t.offers;
    if (!t.escalation_reason.empty()) j["escalation_reason"] = t.escalation_reason;
    j["declined"] = t.declined;
    j["assignee"] = t.assignee;
    j["distance_m"] = t.distance_m < 0 ? nlohmann::json(nullptr) : nlohmann::json(t.distance_m);
    if (t.first_offer_ms != 0) to_offer[urgency].push_back(t.first_offer_ms - sub.create_ms);
    if (t.assigned_ms != 0) to_assign[urgency].push_back(t.assigned_ms - sub.create_ms);
    if (t.distance_m >= 0) {
      distance_sum += t.distance_m;
      ++distance_n;
    }
    auto it = by_id.find(sub.id);
    v1::RequestState state =
        it == by_id.end() ? v1::REQUEST_STATE_UNSPECIFIED : it->second->state();
    j["final_state"] = v1::RequestState_Name(state);
    if (Served(state)) {
      ++served;
    } else if (state == v1::ESCALATED) {
      ++escalated;
      ++escalation_reasons[t.escalation_reason];
    } else if (state == v1::CANCELLED) {
      ++cancelled;
    } else {
      ++stuck;
      ++stuck_states[v1::RequestState_Name(state)];
    }
    requests.push_back(std::move(j));
  }
  const int total = static_cast<int>(d_.requests.size());
  nlohmann::json by_urgency = nlohmann::json::object();
  std::string lines;
  for (const char* u : {"CRISIS", "URGENT", "ROUTINE"}) {
    std::vector<int64_t>& o = to_offer[u];
    std::vector<int64_t>& a = to_assign[u];
    std::sort(o.begin(), o.end());
    std::sort(a.begin(), a.end());
    by_urgency[u] = {{"offered", o.size()},
                     {"first_offer_p50_ms", Pct(o, 0.5)},
                     {"first_offer_p99_ms", Pct(o, 0.99)},
                     {"assigned", a.size()},
                     {"assignment_p50_ms", Pct(a, 0.5)},
                     {"assignment_p99_ms", Pct(a, 0.99)}};
    lines += absl::StrFormat(
        "  %-8s first offer p50 %6d ms p99 %6d ms (%zu); assignment p50 %6d ms p99 %6d ms "
        "(%zu)\n",
        u, Pct(o, 0.5), Pct(o, 0.99), o.size(), Pct(a, 0.5), Pct(a, 0.99), a.size());
  }
  nlohmann::json totals = {{"requests", total},
                           {"not_submitted", failed},
                           {"served", served},
                           {"served_pct", total > 0 ? 100.0 * served / total : 0.0},
                           {"escalated", escalated},
                           {"escalation_reasons", escalation_reasons},
                           {"cancelled", cancelled},
                           {"stuck", stuck},
                           {"stuck_states", stuck_states},
                           {"mean_distance_m", distance_n > 0 ? distance_sum / distance_n : 0.0}};
  nlohmann::json result = {
      {"seed", seed_},       {"speedup", speedup_},      {"volunteers", d_.volunteers.size()},
      {"totals", totals},    {"by_urgency", by_urgency}, {"rpc", lat_.ToJson()},
      {"requests", requests}};
  if (!out_path.empty()) {
    std::ofstream f(out_path);
    f << result.dump(1) << "\n";
    if (!f) {
      std::fprintf(stderr, "sim_driver: cannot write %s\n", out_path.c_str());
      return 1;
    }
  }
  std::printf(
      "requests %d: served %d (%.1f%%), escalated %d, cancelled %d, stuck %d, "
      "not submitted %d; mean offer distance %.0f m\n",
      total, served, total > 0 ? 100.0 * served / total : 0.0, escalated, cancelled, stuck, failed,
      distance_n > 0 ? distance_sum / distance_n : 0.0);
  for (const auto& [reason, n] : escalation_reasons) {
    std::printf("  escalated (%s): %d\n", reason.c_str(), n);
  }
  for (const auto& [state, n] : stuck_states) std::printf("  stuck in %s: %d\n", state.c_str(), n);
  std::printf("real time from submit (server clock), by urgency:\n%s", lines.c_str());
  std::printf("per RPC (us):\n");
  for (const auto& [name, r] : result["rpc"].items()) {
    std::printf("  %-48s n %6d err %4d p50 %7d p99 %7d\n", name.c_str(), r["count"].get<int>(),
                r["errors"].get<int>(), r["p50_us"].get<int>(), r["p99_us"].get<int>());
  }
  return stuck == 0 && failed == 0 ? 0 : 3;
}

int Driver::Run(int register_threads, int workers, int drain_seconds, const std::string& out_path) {
  {
    absl::MutexLock l(&mu_);
    submitted_.resize(d_.requests.size());
  }
  absl::Time t0 = absl::Now();
  if (!RegisterAll(register_threads)) return 1;
  std::fprintf(stderr, "sim_driver: registration took %.1f s\n",
               absl::ToDoubleSeconds(absl::Now() - t0));
  timers_ = std::make_unique<TimerQueue>(workers);
  std::thread watcher([this] { WatchEvents(); });

  t0 = absl::Now();
  SubmitAll();
  std::fprintf(stderr, "sim_driver: %zu requests submitted in %.1f s; draining\n",
               d_.requests.size(), absl::ToDoubleSeconds(absl::Now() - t0));

  // Drain: until nothing is open and no simulated app has work left, or the deadline.
  absl::Time deadline = absl::Now() + absl::Seconds(drain_seconds);
  const std::vector<v1::RequestState> open = {v1::SUBMITTED, v1::OFFERED, v1::ASSIGNED,
                                              v1::EN_ROUTE, v1::IN_SERVICE};
  while (absl::Now() < deadline) {
    bool ok = false;
    size_t still_open = ListAll(open, &ok).size();
    int pending = timers_->Outstanding();
    if (ok && still_open == 0 && pending == 0) break;
    absl::SleepFor(absl::Seconds(1));
  }
  std::fprintf(stderr, "sim_driver: drained after %.1f s\n",
               absl::ToDoubleSeconds(absl::Now() - t0));
  timers_->Stop();
  stopping_ = true;
  {
    absl::MutexLock l(&stream_mu_);
    if (stream_ctx_ != nullptr) stream_ctx_->TryCancel();
  }
  watcher.join();

  bool ok = false;
  std::vector<v1::HelpRequest> all = ListAll({}, &ok);
  if (!ok) return 1;
  return WriteResult(all, out_path);
}

}  // namespace
}  // namespace yiyuan::sim

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Replays a seeded synthetic district against dispatchd in accelerated time.\n"
      "  sim_driver --server=HOST:PORT --token-file=FILE [--seed=1] [--quick] "
      "[--speedup=600] [--out=FILE]");
  // Accept --token-file as well as --token_file, like the other benches.
  std::vector<std::string> args = yiyuan::NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = yiyuan::ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());
  std::optional<std::string> token = yiyuan::bench::ReadToken(absl::GetFlag(FLAGS_token_file));
  if (absl::GetFlag(FLAGS_server).empty() || !token.has_value()) {
    std::fprintf(stderr, "sim_driver: --server and a readable --token-file are required\n");
    return 2;
  }
  const bool quick = absl::GetFlag(FLAGS_quick);
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  double speedup = absl::GetFlag(FLAGS_speedup);
  if (speedup <= 0) speedup = quick ? 1800 : 600;
  yiyuan::sim::DistrictOptions options =
      quick ? yiyuan::sim::QuickOptions(seed) : yiyuan::sim::DistrictOptions();
  options.seed = seed;
  absl::StatusOr<yiyuan::sim::District> district = yiyuan::sim::GenerateDistrict(options);
  if (!district.ok()) {
    std::fprintf(stderr, "sim_driver: %s\n", district.status().ToString().c_str());
    return 2;
  }
  std::fprintf(stderr,
               "sim_driver: %zu volunteers, %zu stations, %zu vans, %zu requests; "
               "speedup %.0f\n",
               district->volunteers.size(), district->stations.size(), district->vans.size(),
               district->requests.size(), speedup);
  yiyuan::sim::Driver driver(*district, yiyuan::bench::MakeChannels(absl::GetFlag(FLAGS_server), 4),
                             *token, seed, speedup);
  return driver.Run(absl::GetFlag(FLAGS_register_threads), absl::GetFlag(FLAGS_workers),
                    absl::GetFlag(FLAGS_drain_seconds), absl::GetFlag(FLAGS_out));
}
