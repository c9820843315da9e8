#ifndef YIYUAN_TESTS_TESTING_DISPATCH_WORLD_H_
#define YIYUAN_TESTS_TESTING_DISPATCH_WORLD_H_

// Helpers for end-to-end tests of the dispatch loop: volunteers on duty around a
// point, requests, offers, answers and waiting for a condition (polled with a
// deadline: the loop runs on its own thread, so a test waits for an outcome, never for
// a fixed time).
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/client.h"
#include "yiyuan/v1/dispatch.grpc.pb.h"
#include "yiyuan/v1/intake.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan::testing {

// Centre of the test city.
inline v1::LatLng Where(double north_m = 0, double east_m = 0) {
  constexpr double kLat = 30.87, kLng = 120.09, kR = 6371008.8, kPi = 3.14159265358979323846;
  v1::LatLng p;
  p.set_lat(kLat + north_m / kR * 180 / kPi);
  p.set_lng(kLng + east_m / (kR * std::cos(kLat * kPi / 180)) * 180 / kPi);
  return p;
}

// Waits until `done` holds or `timeout` passes; returns whether it held.
inline bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  absl::Time end = absl::Now() + timeout;
  while (absl::Now() < end) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return done();
}

// One district's worth of calls against one dispatchd.
class DispatchWorld {
 public:
  DispatchWorld(std::shared_ptr<grpc::Channel> channel, std::string admin, std::string district)
      : channel_(std::move(channel)), admin_(std::move(admin)), district_(std::move(district)) {}

  const std::string& district() const { return district_; }
  const std::string& admin() const { return admin_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::unique_ptr<v1::VolunteerService::Stub> Vol() const {
    return v1::VolunteerService::NewStub(channel_);
  }
  std::unique_ptr<v1::IntakeService::Stub> Intake() const {
    return v1::IntakeService::NewStub(channel_);
  }
  std::unique_ptr<v1::DispatchService::Stub> Dispatch() const {
    return v1::DispatchService::NewStub(channel_);
  }

  // Registers a volunteer (with `skills`) and puts them on duty at `where`; their id.
  std::string Volunteer(const v1::LatLng& where, std::vector<std::string> skills = {},
                        int capacity = 1) {
    static std::atomic<int> n{0};
    int i = n.fetch_add(1);
    v1::RegisterVolunteerRequest req;
    req.set_district(district_);
    v1::Volunteer* v = req.mutable_volunteer();
    v->set_external_id(absl::StrCat("dw-", district_, "-", i));
    v->set_name(absl::StrCat("Helper ", i));
    v->set_phone(absl::StrCat("139", 10000000 + (i * 7919) % 89999999));
    v->set_home_community_id("wx-aiguo");
    v->set_capacity(capacity);
    for (const std::string& s : skills) v->add_skills(s);
    v1::RegisterVolunteerResponse resp;
    grpc::Status s = Vol()->RegisterVolunteer(Ctx(admin_).get(), req, &resp);
    if (!s.ok()) return "";
    v1::SetDutyStatusRequest duty;
    duty.set_volunteer_id(resp.volunteer().id());
    duty.set_status(v1::DUTY_ON);
    *duty.mutable_location() = where;
    v1::Volunteer out;
    if (!Vol()->SetDutyStatus(Ctx(admin_).get(), duty, &out).ok()) return "";
    return resp.volunteer().id();
  }

  // Submits a request at `where`; the stored request (empty id on failure).
  v1::HelpRequest Submit(v1::Urgency urgency, const v1::LatLng& where, int headcount = 1,
                         std::vector<std::string> skills = {}) {
    static std::atomic<int> n{0};
    int i = n.fetch_add(1);
    v1::SubmitRequestRequest req =
        ValidSubmit(absl::StrCat("dw-", district_, "-req-", i),
                    absl::StrCat("138", 10000000 + (i * 104729) % 89999999));
    req.set_district(district_);
    req.mutable_request()->set_urgency(urgency);
    req.mutable_request()->set_headcount(headcount);
    *req.mutable_request()->mutable_resident()->mutable_location() = where;
    for (const std::string& s : skills) req.mutable_request()->add_required_skills(s);
    v1::SubmitRequestResponse resp;
    grpc::Status s = Intake()->SubmitRequest(Ctx(admin_).get(), req, &resp);
    if (!s.ok()) return v1::HelpRequest();
    return resp.request();
  }

  v1::HelpRequest Get(const std::string& id) const {
    v1::GetRequestRequest req;
    req.set_id(id);
    v1::HelpRequest out;
    (void)Intake()->GetRequest(Ctx(admin_).get(), req, &out);
    return out;
  }

  v1::ExplainMatchResponse Explain(const std::string& id, bool excluded = true) const {
    v1::ExplainMatchRequest req;
    req.set_request_id(id);
    req.set_include_excluded(excluded);
    v1::ExplainMatchResponse out;
    (void)Dispatch()->ExplainMatch(Ctx(admin_).get(), req, &out);
    return out;
  }

  // The pending offers of volunteer `id` (the snapshot WatchOffers sends first).
  std::vector<v1::Offer> PendingOffers(const std::string& id) const {
    v1::WatchOffersRequest req;
    req.set_volunteer_id(id);
    auto ctx = Ctx(admin_, 5);
    auto reader = Vol()->WatchOffers(ctx.get(), req);
    std::vector<v1::Offer> out;
    // The snapshot comes first and all of it carries snapshot = true; a marker offer
    // is not needed: read until a short quiet period (150 ms), then cancel.
    std::atomic<bool> done{false};
    std::thread canceller([&] {
      absl::SleepFor(absl::Milliseconds(150));
      if (!done) ctx->TryCancel();
    });
    v1::Offer o;
    while (reader->Read(&o)) {
      if (!o.snapshot()) break;
      out.push_back(o);
    }
    done = true;
    ctx->TryCancel();
    canceller.join();
    (void)reader->Finish();
    return out;
  }

  // Pending offers of `id` once at least one exists.
  std::vector<v1::Offer> AwaitOffers(const std::string& id,
                                     absl::Duration timeout = absl::Seconds(10)) const {
    std::vector<v1::Offer> offers;
    WaitFor([&] {
      offers = PendingOffers(id);
      return !offers.empty();
    }, timeout);
    return offers;
  }

  grpc::Status Respond(const std::string& offer_id, bool accept,
                       v1::RespondToOfferResponse* out = nullptr,
                       const std::string& token = "") const {
    v1::RespondToOfferRequest req;
    req.set_offer_id(offer_id);
    req.set_response(accept ? v1::RESPONSE_ACCEPT : v1::RESPONSE_DECLINE);
    if (!accept) req.set_decline_reason(v1::DECLINE_BUSY);
    v1::RespondToOfferResponse resp;
    return Vol()->RespondToOffer(Ctx(token.empty() ? admin_ : token).get(), req,
                                 out == nullptr ? &resp : out);
  }

  grpc::Status Progress(const std::string& request_id, const std::string& volunteer_id,
                        v1::ProgressKind kind, int minutes = 0,
                        v1::Assignment* out = nullptr) const {
    v1::ReportProgressRequest req;
    req.set_request_id(request_id);
    if (!volunteer_id.empty()) req.mutable_assignee()->set_volunteer_id(volunteer_id);
    req.set_kind(kind);
    req.set_minutes_served(minutes);
    if (kind == v1::PROGRESS_RATED) req.set_rating(5);
    v1::Assignment a;
    return Vol()->ReportProgress(Ctx(admin_).get(), req, out == nullptr ? &a : out);
  }

  std::vector<v1::Escalation> Escalations() const {
    v1::ListEscalationsRequest req;
    req.set_district(district_);
    req.set_page_size(500);
    v1::ListEscalationsResponse out;
    (void)Dispatch()->ListEscalations(Ctx(admin_).get(), req, &out);
    return {out.escalations().begin(), out.escalations().end()};
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string admin_;
  std::string district_;
};

}  // namespace yiyuan::testing

#endif  // YIYUAN_TESTS_TESTING_DISPATCH_WORLD_H_
