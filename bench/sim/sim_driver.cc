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
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/load_phase.h"
#include "bench/sim/district.h"
#include "bench/sim/sim_points.h"
#include "bench/sim/sim_support.h"
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
ABSL_FLAG(std::string, metrics, "",
          "dispatchd's metrics address, HOST:PORT: Redis round trips per RPC are read there");
ABSL_FLAG(std::string, policy, "optimal", "dispatchd's --batch-policy, recorded in the result");
ABSL_FLAG(int, batch_interval_ms, 5000, "dispatchd's --batch-interval-ms, recorded in the result");
ABSL_FLAG(int, kiosks, 5, "kiosks (at the first stations) where volunteers redeem points");
ABSL_FLAG(std::string, load_rates, "",
          "instead of the day: submit the district's request mix at each of these rates "
          "(per second, comma-separated) in turn, then find the ceiling");
ABSL_FLAG(int, load_seconds, 20, "seconds per load rate");
ABSL_FLAG(int, ceiling_clients, 16, "closed-loop submitters of the ceiling phase (0: none)");
ABSL_FLAG(int, ceiling_seconds, 10, "seconds of the ceiling phase");
ABSL_FLAG(int, submit_threads, 8, "threads submitting in the paced load phases");
ABSL_FLAG(double, visit_probability, 0.35,
          "chance that a volunteer visits a kiosk within a few hours of completing work");

namespace yiyuan::sim {
namespace {

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

// What the event stream and the simulated apps learn about one request (server id).
struct Track {
  int64_t first_offer_ms = 0;  // Server clock, ms since epoch; 0: never.
  int64_t assigned_ms = 0;
  int64_t completed_ms = 0;
  int offers = 0;
  int accepted = 0;
  int declined = 0;
  std::string assignee;
  double distance_m = -1;         // The first assignee's offer distance.
  double distance_total_m = 0;    // Every accepted offer's distance (headcount > 1).
  std::string escalation_reason;  // attributes["reason"] of the escalation event.
  bool cancelled = false;
};

// Who answers an offer and how: a volunteer of the district or a unit.
struct Actor {
  double accept_probability = 0.9;
  double speed_kmh = 15;
  bool unit = false;
  LatLng home;          // Volunteers: where the kiosk visit starts from.
  int assignments = 0;  // Offers accepted (and so assignments held) during the run.
  int visits = 0;       // Kiosk visits made.
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
        speedup_(speedup),
        points_(d, channels_[0], token_, absl::GetFlag(FLAGS_kiosks), &lat_) {}

  int Run(int register_threads, int workers, int drain_seconds, const std::string& out_path);
  // The load mode: after registration, paced phases at `rates` and a closed-loop ceiling
  // phase, the apps answering throughout; writes the load JSON.
  int RunLoad(const std::vector<int>& rates, int register_threads, int workers, int drain_seconds,
              const std::string& out_path);

 private:
  std::shared_ptr<grpc::Channel> Chan(size_t i) const { return channels_[i % channels_.size()]; }
  absl::Duration Sim(double sim_seconds) const { return absl::Seconds(sim_seconds / speedup_); }
  bool RegisterAll(int threads);
  // Registers, sets the points up, starts the apps' timers and the event stream.
  bool Start(int register_threads, int workers);
  // Waits until nothing is open and no app has work left (or `seconds`), then stops the
  // apps and the stream.
  void DrainAndStop(int seconds);
  // One load phase's submits, and what they became.
  struct LoadSubmit {
    std::string id;
    Urgency urgency = Urgency::kRoutine;
    int64_t create_ms = 0;
  };
  struct LoadPhase {
    int offered_rate = 0;  // 0: the closed-loop ceiling phase.
    int clients = 0;
    double seconds = 0;
    std::vector<int64_t> submit_us;
    int errors = 0;
    std::vector<LoadSubmit> submits;
  };
  // Submits request `n` of the load (the district's mix, cycled, as a new resident with
  // no time window); records it in `phase`.
  void SubmitOne(v1::IntakeService::Stub& stub, int64_t n, LoadPhase& phase, absl::Mutex& mu);
  LoadPhase PacedPhase(int rate, int seconds, int threads, int64_t& next_n);
  LoadPhase CeilingPhase(int clients, int seconds, int64_t& next_n);
  // Withdraws what `phase` submitted and is still open (an operator clearing a flood), so
  // that the ceiling phase's backlog does not outlast the run.
  void CancelAll(const LoadPhase& phase);
  nlohmann::json PhaseJson(const LoadPhase& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchEvents();
  void OnEvent(const v1::Event& e);
  void Answer(const v1::Event& e);
  void Progress(const std::string& request_id, const v1::Assignee& who, v1::ProgressKind kind,
                int minutes);
  void SubmitAll(absl::Time start);
  // Schedules the day's operator actions: the second fund top-up and the mobilisation.
  void ScheduleOperator(absl::Time start);
  void Mobilize();
  absl::Time AtSim(absl::Time start, int64_t sim_ms) const;
  nlohmann::json Fairness() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<v1::HelpRequest> ListAll(const std::vector<v1::RequestState>& states, bool* ok);
  int WriteResult(const std::vector<v1::HelpRequest>& all, const std::string& out_path);

  const District& d_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  const std::string token_;
  const uint64_t seed_;
  const double speedup_;
  Latencies lat_;
  PointsPlayer points_;
  std::unique_ptr<TimerQueue> timers_;
  std::thread watcher_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Actor> actors_ ABSL_GUARDED_BY(mu_);  // By server id.
  absl::flat_hash_map<std::string, Track> tracks_ ABSL_GUARDED_BY(mu_);  // By request id.
  // Per generated request (index into d_.requests): server id and submit times.
  struct Submitted {
    std::string id;
    int64_t create_ms = 0;  // Server's create_time_ms.
    int64_t lag_ms = 0;     // How late the submit left against its schedule.
    int64_t submit_us = 0;  // How long SubmitRequest took, as the driver saw it.
    std::string error;
  };
  std::vector<Submitted> submitted_ ABSL_GUARDED_BY(mu_);
  // The mobilisation's answer (empty id: not made or failed).
  v1::MobilizeResponse mobilization_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> stopping_{false};
  std::atomic<int> respond_errors_{0};
  std::map<std::string, int> respond_failures_ ABSL_GUARDED_BY(mu_);  // By message.
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
        Actor& a = actors_[resp.volunteer().id()];
        a.accept_probability = sv.accept_probability;
        a.speed_kmh = sv.speed_kmh;
        a.home = sv.home;
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
    Actor& a = actors_[out.id()];
    a.speed_kmh = speed_kmh;
    a.unit = true;
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
  if (!s.ok()) {
    std::string why = bench::DescribeError(s);
    if (respond_errors_++ < 5) {
      std::fprintf(stderr, "sim_driver: respond %s: %s\n", e.offer_id().c_str(), why.c_str());
    }
    absl::MutexLock l(&mu_);
    ++respond_failures_[why];
    // An answer refused while the offer stays open would leave the request waiting for
    // the offer's TTL: worth seeing in full.
    if (ErrorReason(s) != "OFFER_TAKEN" && ErrorReason(s) != "NO_CAPACITY") {
      std::fprintf(stderr, "sim_driver: respond %s (%s): %s\n", e.offer_id().c_str(),
                   accept ? "accept" : "decline", why.c_str());
    }
  }
  if (accept && ErrorReason(s) == "NO_CAPACITY") {
    // Busy with another assignment meanwhile (parallel offers of URGENT and CRISIS
    // requests): the app tells the volunteer, who declines, so the offer does not stay
    // open until its TTL.
    req.set_response(v1::RESPONSE_DECLINE);
    req.set_decline_reason(v1::DECLINE_BUSY);
    t0 = absl::Now();
    grpc::Status d = stub->RespondToOffer(Ctx(token_).get(), req, &resp);
    lat_.Add("VolunteerService.RespondToOffer(decline, busy)", absl::Now() - t0, d.error_code());
    return;
  }
  if (!s.ok() || !accept || !resp.has_assignment()) return;

  const v1::Offer& offer = resp.offer();
  const std::string actor_id = e.unit_id().empty() ? e.volunteer_id() : e.unit_id();
  {
    absl::MutexLock l(&mu_);
    ++actors_[actor_id].assignments;
    Track& t = tracks_[e.request_id()];
    ++t.accepted;
    t.distance_total_m += offer.distance_m();
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
  // Some volunteers go to a kiosk 1..4 simulated hours after finishing.
  const bool visit = !actor.unit && u(rng) < absl::GetFlag(FLAGS_visit_probability);
  const double visit_after_s = 3600 * (1 + 3 * u(rng));
  timers_->At(arrive, [=, this] {
    Progress(request_id, who, v1::PROGRESS_ARRIVED, 0);
    timers_->At(absl::Now() + Sim(service_min * 60), [=, this] {
      Progress(request_id, who, v1::PROGRESS_COMPLETED,
               std::max(1, static_cast<int>(std::lround(service_min))));
      if (!visit) return;
      timers_->At(absl::Now() + Sim(visit_after_s), [this, actor_id] {
        LatLng home;
        int n = 0;
        {
          absl::MutexLock l(&mu_);
          Actor& a = actors_[actor_id];
          home = a.home;
          n = ++a.visits;
        }
        points_.Visit(actor_id, home, n);
      });
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

absl::Time Driver::AtSim(absl::Time start, int64_t sim_ms) const {
  const int64_t origin_ms = d_.requests.empty() ? 0 : d_.requests.front().time_ms;
  return start + Sim(static_cast<double>(sim_ms - origin_ms) / 1000);
}

void Driver::ScheduleOperator(absl::Time start) {
  // The afternoon grant: earnings that waited for an empty fund are paid then.
  const int64_t grant = 10 * static_cast<int64_t>(d_.requests.size());
  timers_->At(AtSim(start, 15 * 3600 * 1000LL),
              [this, grant] { points_.TopUp(grant, "sim-fund-afternoon"); });
  timers_->At(AtSim(start, d_.mobilisation.time_ms), [this] { Mobilize(); });
}

void Driver::Mobilize() {
  const SimMobilisation& m = d_.mobilisation;
  v1::MobilizeRequest req;
  req.set_idempotency_key(m.idempotency_key);
  req.set_district(d_.options.district);
  *req.mutable_center() = ToProto(m.center);
  req.set_radius_m(m.radius_m);
  req.set_category(static_cast<v1::Category>(m.category));
  req.set_description(m.description);
  req.set_needed(m.needed);
  req.set_ttl_s(120);  // Real seconds: the broadcast is answered within the run.
  v1::MobilizeResponse resp;
  auto stub = v1::DispatchService::NewStub(Chan(3));
  absl::Time t0 = absl::Now();
  grpc::Status s = stub->Mobilize(Ctx(token_).get(), req, &resp);
  lat_.Add("DispatchService.Mobilize", absl::Now() - t0, s.error_code());
  if (!s.ok()) {
    std::fprintf(stderr, "sim_driver: mobilize: %s\n", bench::DescribeError(s).c_str());
    return;
  }
  std::fprintf(stderr, "sim_driver: mobilisation %s reached %d volunteers\n",
               resp.mobilization_id().c_str(), resp.volunteers_reached());
  absl::MutexLock l(&mu_);
  mobilization_ = resp;
}

void Driver::SubmitAll(absl::Time start) {
  auto stub = v1::IntakeService::NewStub(Chan(0));
  for (size_t i = 0; i < d_.requests.size(); ++i) {
    const SimRequest& q = d_.requests[i];
    absl::Time due = AtSim(start, q.time_ms);
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
    sub.submit_us = absl::ToInt64Microseconds(absl::Now() - t0);
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

// Writes `j` to `path` (nothing when `path` is empty); false, said on stderr, on failure.
bool WriteJson(const std::string& path, const nlohmann::json& j) {
  if (path.empty()) return true;
  std::ofstream f(path);
  f << j.dump(1) << "\n";
  if (!f) std::fprintf(stderr, "sim_driver: cannot write %s\n", path.c_str());
  return static_cast<bool>(f);
}

nlohmann::json Driver::Fairness() const {
  // Over the volunteers on duty (all of them, the whole day): who got work, and how
  // unevenly it was spread (Gini of assignments per volunteer, 0 = even).
  std::vector<int64_t> counts;
  int unit_assignments = 0, with_work = 0;
  int64_t max_assignments = 0;
  for (const auto& [id, a] : actors_) {
    if (a.unit) {
      unit_assignments += a.assignments;
      continue;
    }
    counts.push_back(a.assignments);
    if (a.assignments > 0) ++with_work;
    max_assignments = std::max<int64_t>(max_assignments, a.assignments);
  }
  std::sort(counts.begin(), counts.end());
  double weighted = 0, total = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    weighted += static_cast<double>(i + 1) * static_cast<double>(counts[i]);
    total += static_cast<double>(counts[i]);
  }
  const double n = static_cast<double>(counts.size());
  const double gini = total > 0 ? (2 * weighted) / (n * total) - (n + 1) / n : 0;
  return {{"on_duty_volunteers", counts.size()},
          {"volunteers_with_work", with_work},
          {"share_with_work", counts.empty() ? 0.0 : with_work / n},
          {"gini", gini},
          {"max_assignments", max_assignments},
          {"unit_assignments", unit_assignments}};
}

// dispatchd's yiyuan_rpc_redis_round_trips_total and ..._attributed_calls_total per
// method, from its /metrics page; null when --metrics is not given or unreadable.
nlohmann::json RoundTripsPerRpc(const std::string& metrics_address) {
  if (metrics_address.empty()) return nullptr;
  httplib::Client http("http://" + metrics_address);
  http.set_read_timeout(10, 0);
  httplib::Result res = http.Get("/metrics");
  if (!res || res->status != 200) {
    std::fprintf(stderr, "sim_driver: cannot read http://%s/metrics\n", metrics_address.c_str());
    return nullptr;
  }
  std::map<std::string, std::pair<int64_t, int64_t>> by_method;  // round trips, calls
  for (absl::string_view line : absl::StrSplit(res->body, '\n')) {
    bool trips = absl::StartsWith(line, "yiyuan_rpc_redis_round_trips_total{");
    bool calls = absl::StartsWith(line, "yiyuan_rpc_redis_round_trips_attributed_calls_total{");
    if (!trips && !calls) continue;
    size_t a = line.find("method=\"");
    size_t b = a == absl::string_view::npos ? a : line.find('"', a + 8);
    size_t sp = line.rfind(' ');
    int64_t v = 0;
    if (b == absl::string_view::npos || sp == absl::string_view::npos ||
        !absl::SimpleAtoi(line.substr(sp + 1), &v)) {
      continue;
    }
    auto& entry = by_method[std::string(line.substr(a + 8, b - a - 8))];
    (trips ? entry.first : entry.second) = v;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [method, rc] : by_method) {
    out[method] = {{"calls", rc.second},
                   {"round_trips", rc.first},
                   {"per_call", rc.second > 0 ? static_cast<double>(rc.first) / rc.second : 0.0}};
  }
  return out;
}

int Driver::WriteResult(const std::vector<v1::HelpRequest>& all, const std::string& out_path) {
  std::vector<std::string> worked;
  {
    absl::MutexLock l(&mu_);
    for (const auto& [id, a] : actors_) {
      if (!a.unit && a.assignments > 0) worked.push_back(id);
    }
  }
  nlohmann::json points = points_.Audit(worked);
  nlohmann::json round_trips = RoundTripsPerRpc(absl::GetFlag(FLAGS_metrics));
  absl::flat_hash_map<std::string, const v1::HelpRequest*> by_id;
  for (const v1::HelpRequest& r : all) by_id[r.id()] = &r;
  nlohmann::json requests = nlohmann::json::array();
  int served = 0, escalated = 0, cancelled = 0, stuck = 0, failed = 0;
  std::map<std::string, int> stuck_states, escalation_reasons;
  // Per urgency: real ms from submit to first offer and to assignment.
  std::map<std::string, std::vector<int64_t>> to_offer, to_assign;
  double distance_sum = 0;
  int distance_n = 0;
  double travel_total_m = 0;  // Over every accepted offer.
  int accepted_offers = 0;
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
                        {"submit_lag_ms", sub.lag_ms},
                        {"submit_us", sub.submit_us}};
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
    travel_total_m += t.distance_total_m;
    accepted_offers += t.accepted;
    j["accepted"] = t.accepted;
    j["distance_total_m"] = t.distance_total_m;
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
                           {"mean_distance_m", distance_n > 0 ? distance_sum / distance_n : 0.0},
                           {"accepted_offers", accepted_offers},
                           {"total_distance_m", travel_total_m},
                           {"mean_distance_per_assignment_m",
                            accepted_offers > 0 ? travel_total_m / accepted_offers : 0.0}};
  nlohmann::json mobilization = nullptr;
  if (!mobilization_.mobilization_id().empty()) {
    auto tr = tracks_.find(mobilization_.request_id());
    auto st = by_id.find(mobilization_.request_id());
    mobilization = {
        {"mobilization_id", mobilization_.mobilization_id()},
        {"request_id", mobilization_.request_id()},
        {"volunteers_reached", mobilization_.volunteers_reached()},
        {"needed", d_.mobilisation.needed},
        {"accepted", tr == tracks_.end() ? 0 : tr->second.accepted},
        {"final_state",
         st == by_id.end() ? std::string("?") : v1::RequestState_Name(st->second->state())}};
  }
  nlohmann::json result = {{"seed", seed_},
                           {"speedup", speedup_},
                           {"policy", absl::GetFlag(FLAGS_policy)},
                           {"batch_interval_ms", absl::GetFlag(FLAGS_batch_interval_ms)},
                           {"volunteers", d_.volunteers.size()},
                           {"totals", totals},
                           {"by_urgency", by_urgency},
                           {"fairness", Fairness()},
                           {"points", points},
                           {"mobilization", mobilization},
                           {"rpc", lat_.ToJson()},
                           {"redis_round_trips", round_trips},
                           {"respond_failures", respond_failures_},
                           {"requests", requests}};
  if (!WriteJson(out_path, result)) return 1;
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
  std::printf("fairness: %s\npoints: %s\nmobilisation: %s\n", result["fairness"].dump().c_str(),
              points.dump().c_str(), mobilization.dump().c_str());
  return stuck == 0 && failed == 0 && points["invariants_ok"].get<bool>() ? 0 : 3;
}

bool Driver::Start(int register_threads, int workers) {
  absl::Time t0 = absl::Now();
  if (!RegisterAll(register_threads)) return false;
  std::fprintf(stderr, "sim_driver: registration took %.1f s\n",
               absl::ToDoubleSeconds(absl::Now() - t0));
  // The morning fund covers about half the day's earnings; the afternoon grant the rest.
  if (absl::Status st = points_.Setup(10 * static_cast<int64_t>(d_.requests.size())); !st.ok()) {
    std::fprintf(stderr, "sim_driver: points setup: %s\n", st.ToString().c_str());
    return false;
  }
  timers_ = std::make_unique<TimerQueue>(workers);
  watcher_ = std::thread([this] { WatchEvents(); });
  return true;
}

void Driver::DrainAndStop(int seconds) {
  absl::Time t0 = absl::Now();
  absl::Time deadline = t0 + absl::Seconds(seconds);
  const std::vector<v1::RequestState> open = {v1::SUBMITTED, v1::OFFERED, v1::ASSIGNED,
                                              v1::EN_ROUTE, v1::IN_SERVICE};
  while (absl::Now() < deadline) {
    bool ok = false;
    size_t still_open = ListAll(open, &ok).size();
    int pending = timers_->Outstanding();
    if (ok && still_open == 0 && pending == 0) break;
    absl::SleepFor(absl::Seconds(1));
  }
  std::fprintf(stderr, "sim_driver: drained in %.1f s\n", absl::ToDoubleSeconds(absl::Now() - t0));
  timers_->Stop();
  stopping_ = true;
  {
    absl::MutexLock l(&stream_mu_);
    if (stream_ctx_ != nullptr) stream_ctx_->TryCancel();
  }
  watcher_.join();
}

int Driver::Run(int register_threads, int workers, int drain_seconds, const std::string& out_path) {
  {
    absl::MutexLock l(&mu_);
    submitted_.resize(d_.requests.size());
  }
  if (!Start(register_threads, workers)) return 1;
  absl::Time t0 = absl::Now();
  ScheduleOperator(t0);
  SubmitAll(t0);
  std::fprintf(stderr, "sim_driver: %zu requests submitted in %.1f s; draining\n",
               d_.requests.size(), absl::ToDoubleSeconds(absl::Now() - t0));
  DrainAndStop(drain_seconds);

  bool ok = false;
  std::vector<v1::HelpRequest> all = ListAll({}, &ok);
  if (!ok) return 1;
  return WriteResult(all, out_path);
}

void Driver::SubmitOne(v1::IntakeService::Stub& stub, int64_t n, LoadPhase& phase,
                       absl::Mutex& mu) {
  const SimRequest& q = d_.requests[static_cast<size_t>(n) % d_.requests.size()];
  RequestContent c = q.content;
  c.window_start_ms = 0;
  c.window_end_ms = 0;
  // A new resident each time, so nothing is folded into an open request of the same phone.
  c.resident.phone = absl::StrFormat("139%08d", n % 100000000);
  v1::SubmitRequestRequest req;
  req.set_request_id(absl::StrFormat("load-%08d", n));
  req.set_district(d_.options.district);
  *req.mutable_request() = ToProto(c);
  v1::SubmitRequestResponse resp;
  absl::Time t0 = absl::Now();
  grpc::Status st = stub.SubmitRequest(Ctx(token_).get(), req, &resp);
  absl::Duration took = absl::Now() - t0;
  lat_.Add("IntakeService.SubmitRequest", took, st.error_code());
  absl::MutexLock l(&mu);
  phase.submit_us.push_back(absl::ToInt64Microseconds(took));
  if (!st.ok()) {
    if (phase.errors++ < 3) {
      std::fprintf(stderr, "sim_driver: submit %s: %s\n", req.request_id().c_str(),
                   bench::DescribeError(st).c_str());
    }
    return;
  }
  phase.submits.push_back({resp.request().id(), c.urgency, resp.request().create_time_ms()});
}

Driver::LoadPhase Driver::PacedPhase(int rate, int seconds, int threads, int64_t& next_n) {
  LoadPhase phase;
  phase.offered_rate = rate;
  phase.clients = threads;
  const int64_t total = static_cast<int64_t>(rate) * seconds;
  const int64_t base = next_n;
  next_n += total;
  std::atomic<int64_t> slot{0};
  absl::Mutex mu;
  const absl::Time start = absl::Now() + absl::Milliseconds(50);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto stub = v1::IntakeService::NewStub(Chan(static_cast<size_t>(t)));
      // Open loop: slot i leaves at start + i / rate, however late the previous ones are.
      for (int64_t i = slot++; i < total; i = slot++) {
        absl::SleepFor(start + absl::Seconds(static_cast<double>(i) / rate) - absl::Now());
        SubmitOne(*stub, base + i, phase, mu);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  phase.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return phase;
}

Driver::LoadPhase Driver::CeilingPhase(int clients, int seconds, int64_t& next_n) {
  LoadPhase phase;
  phase.clients = clients;
  std::atomic<int64_t> counter{next_n};
  absl::Mutex mu;
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < clients; ++t) {
    pool.emplace_back([&, t] {
      auto stub = v1::IntakeService::NewStub(Chan(static_cast<size_t>(t)));
      while (absl::Now() < end) SubmitOne(*stub, counter++, phase, mu);
    });
  }
  for (std::thread& t : pool) t.join();
  phase.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  next_n = counter.load();
  return phase;
}

nlohmann::json Driver::PhaseJson(const LoadPhase& p) {
  std::vector<int64_t> us = p.submit_us;
  std::sort(us.begin(), us.end());
  auto ms = [](int64_t v) { return static_cast<double>(v) / 1000; };
  nlohmann::json j = {
      {"offered_rate", p.offered_rate},
      {"clients", p.clients},
      {"seconds", p.seconds},
      {"submitted", p.submits.size()},
      {"achieved_rate", p.seconds > 0 ? static_cast<double>(p.submits.size()) / p.seconds : 0.0},
      {"submit_errors", p.errors},
      {"submit_p50_ms", ms(Pct(us, 0.5))},
      {"submit_p99_ms", ms(Pct(us, 0.99))},
      {"submit_max_ms", ms(us.empty() ? 0 : us.back())},
      {"submit_hist", Histogram(us)}};
  // Submit → first offer, real ms on the server's clock, by urgency (never offered: left
  // out and counted).
  for (Urgency u : {Urgency::kCrisis, Urgency::kUrgent, Urgency::kRoutine}) {
    std::vector<int64_t> to_offer;
    int n = 0, never = 0;
    for (const LoadSubmit& sub : p.submits) {
      if (sub.urgency != u) continue;
      ++n;
      auto it = tracks_.find(sub.id);
      if (it == tracks_.end() || it->second.first_offer_ms == 0) {
        ++never;
        continue;
      }
      to_offer.push_back(it->second.first_offer_ms - sub.create_ms);
    }
    std::sort(to_offer.begin(), to_offer.end());
    std::string name = absl::AsciiStrToLower(Name(u));
    j[name + "_n"] = n;
    j[name + "_never_offered"] = never;
    j[name + "_first_offer_p50_ms"] = Pct(to_offer, 0.5);
    j[name + "_first_offer_p99_ms"] = Pct(to_offer, 0.99);
  }
  return j;
}

void Driver::CancelAll(const LoadPhase& phase) {
  std::atomic<size_t> next{0};
  std::atomic<int> cancelled{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t) {
    pool.emplace_back([&, t] {
      auto stub = v1::IntakeService::NewStub(Chan(static_cast<size_t>(t)));
      for (size_t i = next++; i < phase.submits.size(); i = next++) {
        v1::CancelRequestRequest req;
        req.set_id(phase.submits[i].id);
        req.set_reason("load test: the ceiling phase's flood is withdrawn");
        v1::HelpRequest out;
        absl::Time t0 = absl::Now();
        grpc::Status s = stub->CancelRequest(Ctx(token_).get(), req, &out);
        // FAILED_PRECONDITION: it had already ended (served or escalated).
        lat_.Add("IntakeService.CancelRequest", absl::Now() - t0, s.error_code());
        if (s.ok()) ++cancelled;
      }
    });
  }
  for (std::thread& t : pool) t.join();
  std::fprintf(stderr, "sim_driver: %d of the ceiling phase's %zu requests cancelled\n",
               cancelled.load(), phase.submits.size());
}

int Driver::RunLoad(const std::vector<int>& rates, int register_threads, int workers,
                    int drain_seconds, const std::string& out_path) {
  if (!Start(register_threads, workers)) return 1;
  const int seconds = absl::GetFlag(FLAGS_load_seconds);
  const int interval_ms = absl::GetFlag(FLAGS_batch_interval_ms);
  std::vector<LoadPhase> phases;
  int64_t next_n = 0;
  for (int rate : rates) {
    phases.push_back(PacedPhase(rate, seconds, absl::GetFlag(FLAGS_submit_threads), next_n));
    const LoadPhase& p = phases.back();
    std::fprintf(stderr, "sim_driver: %d/s offered: %zu submitted in %.1f s, %d errors\n", rate,
                 p.submits.size(), p.seconds, p.errors);
    // Let the phase's last batch cycle run before the next phase starts.
    absl::SleepFor(absl::Milliseconds(interval_ms + 1000));
  }
  std::optional<LoadPhase> ceiling;
  if (absl::GetFlag(FLAGS_ceiling_clients) > 0) {
    ceiling = CeilingPhase(absl::GetFlag(FLAGS_ceiling_clients),
                           absl::GetFlag(FLAGS_ceiling_seconds), next_n);
    std::fprintf(stderr, "sim_driver: ceiling: %zu submitted by %d clients in %.1f s\n",
                 ceiling->submits.size(), ceiling->clients, ceiling->seconds);
    CancelAll(*ceiling);
  }
  DrainAndStop(drain_seconds);

  bool ok = false;
  std::vector<v1::HelpRequest> all = ListAll({}, &ok);
  if (!ok) return 1;
  std::map<std::string, int> final_states;
  int stuck = 0;
  for (const v1::HelpRequest& r : all) {
    ++final_states[v1::RequestState_Name(r.state())];
    if (!Served(r.state()) && r.state() != v1::ESCALATED && r.state() != v1::CANCELLED) ++stuck;
  }
  nlohmann::json out = {{"mode", "load"},
                        {"seed", seed_},
                        {"speedup", speedup_},
                        {"policy", absl::GetFlag(FLAGS_policy)},
                        {"batch_interval_ms", interval_ms},
                        {"volunteers", d_.volunteers.size()},
                        {"requests", all.size()},
                        {"final_states", final_states},
                        {"stuck", stuck}};
  {
    absl::MutexLock l(&mu_);
    nlohmann::json js = nlohmann::json::array();
    for (const LoadPhase& p : phases) js.push_back(PhaseJson(p));
    out["phases"] = js;
    if (ceiling.has_value()) out["ceiling"] = PhaseJson(*ceiling);
    out["respond_failures"] = respond_failures_;
  }
  out["rpc"] = lat_.ToJson();
  out["redis_round_trips"] = RoundTripsPerRpc(absl::GetFlag(FLAGS_metrics));
  if (!WriteJson(out_path, out)) return 1;
  for (const nlohmann::json& p : out["phases"]) {
    std::printf(
        "%4d/s offered: %7.1f/s achieved, submit p50 %.2f ms p99 %.2f ms; first offer p99: "
        "CRISIS %d ms, URGENT %d ms, ROUTINE %d ms\n",
        p["offered_rate"].get<int>(), p["achieved_rate"].get<double>(),
        p["submit_p50_ms"].get<double>(), p["submit_p99_ms"].get<double>(),
        p["crisis_first_offer_p99_ms"].get<int>(), p["urgent_first_offer_p99_ms"].get<int>(),
        p["routine_first_offer_p99_ms"].get<int>());
  }
  if (out.contains("ceiling")) {
    const nlohmann::json& c = out["ceiling"];
    std::printf("ceiling (%d clients, closed loop): %.1f/s, submit p50 %.2f ms p99 %.2f ms\n",
                c["clients"].get<int>(), c["achieved_rate"].get<double>(),
                c["submit_p50_ms"].get<double>(), c["submit_p99_ms"].get<double>());
  }
  std::printf("requests %zu, stuck %d\n", all.size(), stuck);
  return stuck == 0 ? 0 : 3;
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
  const std::string load_rates = absl::GetFlag(FLAGS_load_rates);
  if (!load_rates.empty()) {
    std::vector<int> rates;
    for (absl::string_view r : absl::StrSplit(load_rates, ',', absl::SkipEmpty())) {
      int v = 0;
      if (!absl::SimpleAtoi(r, &v) || v <= 0 || v > 100000) {
        std::fprintf(stderr, "sim_driver: --load_rates: \"%s\" is not a rate per second\n",
                     std::string(r).c_str());
        return 2;
      }
      rates.push_back(v);
    }
    // The apps answer every offer with a few calls each: give them threads to match.
    return driver.RunLoad(rates, absl::GetFlag(FLAGS_register_threads),
                          std::max(16, absl::GetFlag(FLAGS_workers)),
                          absl::GetFlag(FLAGS_drain_seconds), absl::GetFlag(FLAGS_out));
  }
  return driver.Run(absl::GetFlag(FLAGS_register_threads), absl::GetFlag(FLAGS_workers),
                    absl::GetFlag(FLAGS_drain_seconds), absl::GetFlag(FLAGS_out));
}
