// The dispatch loop end to end: real dispatchd (embedded redis-server), real gRPC.
// Each test works in its own district, so tests share one server without meeting.
#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/dispatch_world.h"
#include "tests/testing/processes.h"

namespace yiyuan::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class DispatchE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    // Short offer lifetimes so that expiry and escalation happen within a test.
    server_ = new Dispatchd(dir_->path() + "/var",
                            {"--dispatch-policy=urgent.offer_ttl=1500ms,urgent.max_rounds=3,"
                             "crisis.offer_ttl=5s,crisis.max_rounds=2,"
                             "routine.offer_ttl=1500ms,routine.max_rounds=3",
                             "--batch-interval-ms=2000"});
    ASSERT_TRUE(server_->Start()) << server_->log();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete channel_;
    EXPECT_EQ(server_->Stop(), 0);
    delete server_;
    delete dir_;
  }
  DispatchWorld World(const std::string& district) {
    return DispatchWorld(*channel_, server_->admin_token(), district);
  }

  static TempDir* dir_;
  static Dispatchd* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

TempDir* DispatchE2ETest::dir_ = nullptr;
Dispatchd* DispatchE2ETest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* DispatchE2ETest::channel_ = nullptr;

TEST_F(DispatchE2ETest, CrisisOffersTheNearestFewAndTheFirstAcceptWins) {
  DispatchWorld w = World("crisisa");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(w.Volunteer(Where(100.0 * (i + 1), 0)));
  v1::HelpRequest r = w.Submit(v1::CRISIS, Where());
  ASSERT_FALSE(r.id().empty());

  // The three nearest get an offer each; the two farther ones none.
  std::vector<v1::Offer> offers;
  for (int i = 0; i < 3; ++i) {
    std::vector<v1::Offer> o = w.AwaitOffers(ids[i]);
    ASSERT_THAT(o, SizeIs(1)) << ids[i];
    EXPECT_EQ(o[0].request_id(), r.id());
    EXPECT_EQ(o[0].state(), v1::OFFER_PENDING);
    EXPECT_EQ(o[0].round(), 1);
    EXPECT_NEAR(o[0].distance_m(), 100.0 * (i + 1), 2);
    EXPECT_EQ(o[0].summary(), "monthly visit");
    offers.push_back(o[0]);
  }
  EXPECT_THAT(w.PendingOffers(ids[3]), IsEmpty());
  EXPECT_EQ(w.Get(r.id()).state(), v1::OFFERED);
  // The explanation ranks those offered too, with their offer's state and six costs.
  v1::ExplainMatchResponse e = w.Explain(r.id());
  int pending = 0;
  for (const v1::RankedCandidate& c : e.candidates()) {
    EXPECT_EQ(c.components_size(), 6);
    if (c.offer_state() == v1::OFFER_PENDING) ++pending;
  }
  EXPECT_EQ(pending, 3);

  v1::RespondToOfferResponse accepted;
  grpc::Status accept = w.Respond(offers[1].offer_id(), true, &accepted);
  ASSERT_TRUE(accept.ok()) << accept.error_message();
  EXPECT_EQ(accepted.offer().state(), v1::OFFER_ACCEPTED);
  EXPECT_EQ(accepted.assignment().assignee().volunteer_id(), ids[1]);
  EXPECT_EQ(accepted.assignment().resident().phone().find('*'), std::string::npos)
      << "the assignee sees the resident's phone";
  EXPECT_EQ(w.Get(r.id()).state(), v1::ASSIGNED);

  // The others were withdrawn; accepting one now fails.
  grpc::Status late = w.Respond(offers[0].offer_id(), true);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << late.error_message();
  EXPECT_THAT(w.PendingOffers(ids[0]), IsEmpty());
  // Replaying the winning answer returns the same assignment.
  v1::RespondToOfferResponse again;
  ASSERT_TRUE(w.Respond(offers[1].offer_id(), true, &again).ok());
  EXPECT_EQ(again.assignment().accept_time_ms(), accepted.assignment().accept_time_ms());
}

TEST_F(DispatchE2ETest, UrgentMovesOnAtDeclineAndExcludesTheDecliner) {
  DispatchWorld w = World("urgenta");
  std::string near = w.Volunteer(Where(100, 0));
  std::string far = w.Volunteer(Where(600, 0));
  v1::HelpRequest r = w.Submit(v1::URGENT, Where());
  std::vector<v1::Offer> first = w.AwaitOffers(near);
  ASSERT_THAT(first, SizeIs(1));
  EXPECT_THAT(w.PendingOffers(far), IsEmpty()) << "URGENT offers to one at a time";

  v1::RespondToOfferResponse declined;
  ASSERT_TRUE(w.Respond(first[0].offer_id(), false, &declined).ok());
  EXPECT_EQ(declined.offer().state(), v1::OFFER_DECLINED);
  std::vector<v1::Offer> second = w.AwaitOffers(far);
  ASSERT_THAT(second, SizeIs(1));
  EXPECT_EQ(second[0].round(), 2);

  v1::ExplainMatchResponse e = w.Explain(r.id());
  bool decliner_excluded = false;
  for (const v1::ExcludedCandidate& c : e.excluded()) {
    if (c.assignee().volunteer_id() == near) {
      decliner_excluded = c.reason() == v1::EXCLUDED_DECLINED;
    }
  }
  EXPECT_TRUE(decliner_excluded);
}

TEST_F(DispatchE2ETest, ExpiryMovesOnAndRoundsRunOutIntoTheEscalationQueue) {
  DispatchWorld w = World("expirya");
  std::string a = w.Volunteer(Where(100, 0));
  std::string b = w.Volunteer(Where(200, 0));
  v1::HelpRequest r = w.Submit(v1::URGENT, Where());
  ASSERT_THAT(w.AwaitOffers(a), SizeIs(1));
  // Nobody answers: the offer expires and the next candidate gets one.
  ASSERT_THAT(w.AwaitOffers(b), SizeIs(1));
  EXPECT_THAT(w.PendingOffers(a), IsEmpty());
  // Then nobody is left: the request waits for an operator.
  ASSERT_TRUE(WaitFor([&] { return w.Get(r.id()).state() == v1::ESCALATED; }));
  std::vector<v1::Escalation> esc = w.Escalations();
  ASSERT_THAT(esc, SizeIs(1));
  EXPECT_EQ(esc[0].request().id(), r.id());
  EXPECT_EQ(esc[0].expired(), 2);
  EXPECT_TRUE(esc[0].reason() == v1::ESCALATION_NO_CANDIDATE ||
              esc[0].reason() == v1::ESCALATION_ROUNDS_EXHAUSTED)
      << esc[0].reason();

  // An operator assigns by hand: the request leaves the queue.
  v1::AssignManuallyRequest assign;
  assign.set_request_id(r.id());
  assign.mutable_assignee()->set_volunteer_id(a);
  assign.set_reason("called her directly");
  v1::Assignment out;
  grpc::Status s = w.Dispatch()->AssignManually(Ctx(w.admin()).get(), assign, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.assign_reason(), "called her directly");
  EXPECT_FALSE(out.assigned_by().empty());
  EXPECT_EQ(w.Get(r.id()).state(), v1::ASSIGNED);
  EXPECT_THAT(w.Escalations(), IsEmpty());
}

TEST_F(DispatchE2ETest, RoutineRequestsArePooledAndPlacedByTheOptimalBatchCycle) {
  DispatchWorld w = World("batcha");
  // Nearest-first in arrival order would send west to A (400 m) and leave B the far
  // one (1100 m): 1500 m in all. The batch optimum crosses: A gets east (600 m), B
  // west (100 m): 700 m.
  std::string west = w.Volunteer(Where(0, 0));
  std::string east = w.Volunteer(Where(0, 1000));
  // Submitted together (new ROUTINE requests become due at a multiple of the 2 s batch
  // interval, so they meet in one cycle unless they straddle a boundary).
  v1::HelpRequest a, b;
  std::thread other([&] { b = w.Submit(v1::ROUTINE, Where(0, -100)); });
  a = w.Submit(v1::ROUTINE, Where(0, 400));
  other.join();
  std::vector<v1::Offer> to_west = w.AwaitOffers(west);
  std::vector<v1::Offer> to_east = w.AwaitOffers(east);
  ASSERT_THAT(to_west, SizeIs(1));
  ASSERT_THAT(to_east, SizeIs(1));
  EXPECT_EQ(to_west[0].request_id(), b.id());
  EXPECT_EQ(to_east[0].request_id(), a.id());
}

TEST_F(DispatchE2ETest, APooledRoutineRequestWithNobodyNearEscalatesAtItsFirstCycle) {
  DispatchWorld w = World("batchempty");
  std::string far = w.Volunteer(Where(30000, 0));  // Beyond ROUTINE's 5 km.
  v1::HelpRequest r = w.Submit(v1::ROUTINE, Where());
  ASSERT_TRUE(WaitFor([&] { return w.Get(r.id()).state() == v1::ESCALATED; }));
  std::vector<v1::Escalation> esc = w.Escalations();
  ASSERT_THAT(esc, SizeIs(1));
  EXPECT_EQ(esc[0].reason(), v1::ESCALATION_NO_CANDIDATE);
  EXPECT_THAT(w.PendingOffers(far), IsEmpty());
}

TEST_F(DispatchE2ETest, NoCandidateEscalatesAtOnce) {
  DispatchWorld w = World("emptya");
  v1::HelpRequest r = w.Submit(v1::CRISIS, Where());
  ASSERT_TRUE(WaitFor([&] { return w.Get(r.id()).state() == v1::ESCALATED; }));
  std::vector<v1::Escalation> esc = w.Escalations();
  ASSERT_THAT(esc, SizeIs(1));
  EXPECT_EQ(esc[0].reason(), v1::ESCALATION_NO_CANDIDATE);
  EXPECT_THAT(esc[0].detail(), ::testing::HasSubstr("no eligible candidate"));
}

TEST_F(DispatchE2ETest, ProgressMovesForwardAndCompletionFreesCapacity) {
  DispatchWorld w = World("progressa");
  std::string v = w.Volunteer(Where(50, 0));
  v1::HelpRequest r = w.Submit(v1::URGENT, Where());
  std::vector<v1::Offer> o = w.AwaitOffers(v);
  ASSERT_THAT(o, SizeIs(1));
  ASSERT_TRUE(w.Respond(o[0].offer_id(), true).ok());

  // Capacity 1 and busy: a second request cannot reach this volunteer.
  v1::HelpRequest r2 = w.Submit(v1::URGENT, Where(10, 0));
  ASSERT_TRUE(WaitFor([&] { return w.Get(r2.id()).state() == v1::ESCALATED; }));

  v1::Assignment a;
  ASSERT_TRUE(w.Progress(r.id(), v, v1::PROGRESS_EN_ROUTE, 0, &a).ok());
  EXPECT_EQ(a.progress(), v1::PROGRESS_EN_ROUTE);
  EXPECT_EQ(w.Get(r.id()).state(), v1::EN_ROUTE);
  ASSERT_TRUE(w.Progress(r.id(), v, v1::PROGRESS_ARRIVED, 0, &a).ok());
  EXPECT_EQ(w.Get(r.id()).state(), v1::IN_SERVICE);
  // Repeating the current step changes nothing; going back is refused.
  ASSERT_TRUE(w.Progress(r.id(), v, v1::PROGRESS_ARRIVED).ok());
  EXPECT_EQ(w.Progress(r.id(), v, v1::PROGRESS_EN_ROUTE).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Completion needs the minutes served.
  grpc::Status no_minutes = w.Progress(r.id(), v, v1::PROGRESS_COMPLETED, 0);
  EXPECT_EQ(no_minutes.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(no_minutes), ElementsAre("minutes_served"));
  ASSERT_TRUE(w.Progress(r.id(), v, v1::PROGRESS_COMPLETED, 45, &a).ok());
  EXPECT_EQ(a.minutes_served(), 45);
  EXPECT_EQ(w.Get(r.id()).state(), v1::COMPLETED);
  ASSERT_TRUE(w.Progress(r.id(), v, v1::PROGRESS_RATED).ok());
  EXPECT_EQ(w.Get(r.id()).state(), v1::RATED);

  // Capacity is free again: a new request reaches the volunteer.
  v1::HelpRequest r3 = w.Submit(v1::URGENT, Where(20, 0));
  std::vector<v1::Offer> o3 = w.AwaitOffers(v);
  ASSERT_THAT(o3, SizeIs(1));
  EXPECT_EQ(o3[0].request_id(), r3.id());
}

TEST_F(DispatchE2ETest, NoShowSendsTheRequestBackToMatchingWithoutTheAssignee) {
  DispatchWorld w = World("noshowa");
  std::string a = w.Volunteer(Where(50, 0));
  std::string b = w.Volunteer(Where(400, 0));
  v1::HelpRequest r = w.Submit(v1::URGENT, Where());
  std::vector<v1::Offer> o = w.AwaitOffers(a);
  ASSERT_THAT(o, SizeIs(1));
  ASSERT_TRUE(w.Respond(o[0].offer_id(), true).ok());
  v1::Assignment released;
  ASSERT_TRUE(w.Progress(r.id(), a, v1::PROGRESS_NO_SHOW, 0, &released).ok());
  EXPECT_GT(released.release_time_ms(), 0);
  std::vector<v1::Offer> next = w.AwaitOffers(b);
  ASSERT_THAT(next, SizeIs(1));
  EXPECT_EQ(next[0].request_id(), r.id());
}

TEST_F(DispatchE2ETest, CancelWithdrawsOffersAndOffDutyWithdrawsOffers) {
  DispatchWorld w = World("cancela");
  std::string a = w.Volunteer(Where(50, 0));
  std::string b = w.Volunteer(Where(100, 0));
  std::string c = w.Volunteer(Where(150, 0));
  v1::HelpRequest r = w.Submit(v1::CRISIS, Where());
  ASSERT_THAT(w.AwaitOffers(a), SizeIs(1));
  v1::CancelRequestRequest cancel;
  cancel.set_id(r.id());
  cancel.set_reason("resident called back");
  v1::HelpRequest cancelled;
  ASSERT_TRUE(w.Intake()->CancelRequest(Ctx(w.admin()).get(), cancel, &cancelled).ok());
  EXPECT_THAT(w.PendingOffers(a), IsEmpty());
  EXPECT_THAT(w.PendingOffers(b), IsEmpty());

  v1::HelpRequest r2 = w.Submit(v1::URGENT, Where());
  std::vector<v1::Offer> o = w.AwaitOffers(a);
  ASSERT_THAT(o, SizeIs(1));
  v1::SetDutyStatusRequest off;
  off.set_volunteer_id(a);
  off.set_status(v1::DUTY_OFF);
  v1::Volunteer vol;
  ASSERT_TRUE(w.Vol()->SetDutyStatus(Ctx(w.admin()).get(), off, &vol).ok());
  grpc::Status late = w.Respond(o[0].offer_id(), true);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReason(late), "OFFER_CLOSED") << late.error_message();
  // The request moves on to the next nearest.
  ASSERT_THAT(w.AwaitOffers(b), SizeIs(1));
  (void)c;
}

TEST_F(DispatchE2ETest, WatchOffersStreamsNewOffersAndResumesAfterACursor) {
  DispatchWorld w = World("watcha");
  std::string v = w.Volunteer(Where(50, 0), {}, 3);
  v1::WatchOffersRequest req;
  req.set_volunteer_id(v);
  auto ctx = Ctx(w.admin(), 30);
  auto reader = w.Vol()->WatchOffers(ctx.get(), req);
  v1::HelpRequest r1 = w.Submit(v1::URGENT, Where());
  v1::Offer first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.request_id(), r1.id());
  EXPECT_FALSE(first.snapshot());
  EXPECT_FALSE(first.cursor().empty());
  ctx->TryCancel();
  (void)reader->Finish();

  // While disconnected: a decline (a state change) and a new offer.
  grpc::Status decline = w.Respond(first.offer_id(), false);
  ASSERT_TRUE(decline.ok()) << decline.error_message();
  v1::HelpRequest r2 = w.Submit(v1::URGENT, Where(5, 0));
  ASSERT_THAT(w.AwaitOffers(v), SizeIs(1));

  v1::WatchOffersRequest resume;
  resume.set_volunteer_id(v);
  resume.set_resume_after_cursor(first.cursor());
  auto ctx2 = Ctx(w.admin(), 30);
  auto reader2 = w.Vol()->WatchOffers(ctx2.get(), resume);
  v1::Offer m1, m2;
  ASSERT_TRUE(reader2->Read(&m1));
  ASSERT_TRUE(reader2->Read(&m2));
  EXPECT_EQ(m1.offer_id(), first.offer_id());
  EXPECT_EQ(m1.state(), v1::OFFER_DECLINED);
  EXPECT_EQ(m2.request_id(), r2.id());
  EXPECT_EQ(m2.state(), v1::OFFER_PENDING);
  EXPECT_FALSE(m1.snapshot());
  ctx2->TryCancel();
  (void)reader2->Finish();
}

TEST_F(DispatchE2ETest, BadInputIsRejectedNamingTheField) {
  DispatchWorld w = World("badinputa");
  auto field_of = [](const grpc::Status& s) {
    std::vector<std::string> f = BadFields(s);
    return f.empty() ? std::string("<none: ") + s.error_message() + ">" : f[0];
  };
  {
    v1::RespondToOfferRequest req;
    req.set_offer_id("nonsense");
    req.set_response(v1::RESPONSE_ACCEPT);
    v1::RespondToOfferResponse resp;
    grpc::Status s = w.Vol()->RespondToOffer(Ctx(w.admin()).get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(field_of(s), "offer_id");
  }
  {
    v1::RespondToOfferRequest req;
    req.set_offer_id("badinputa-1-o1");
    v1::RespondToOfferResponse resp;
    grpc::Status s = w.Vol()->RespondToOffer(Ctx(w.admin()).get(), req, &resp);
    EXPECT_EQ(field_of(s), "response");
  }
  {
    v1::RespondToOfferRequest req;
    req.set_offer_id("badinputa-999-o1");
    req.set_response(v1::RESPONSE_DECLINE);
    v1::RespondToOfferResponse resp;
    grpc::Status s = w.Vol()->RespondToOffer(Ctx(w.admin()).get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  }
  {
    v1::ReportProgressRequest req;
    req.set_request_id("badinputa-1");
    v1::Assignment a;
    grpc::Status s = w.Vol()->ReportProgress(Ctx(w.admin()).get(), req, &a);
    EXPECT_EQ(field_of(s), "kind");
  }
  {
    v1::AssignManuallyRequest req;
    req.set_request_id("badinputa-1");
    req.mutable_assignee()->set_volunteer_id("otherdistrict-v1");
    req.set_reason("x");
    v1::Assignment a;
    grpc::Status s = w.Dispatch()->AssignManually(Ctx(w.admin()).get(), req, &a);
    EXPECT_EQ(field_of(s), "assignee.volunteer_id");
  }
  {
    v1::AssignManuallyRequest req;
    req.set_request_id("badinputa-1");
    req.mutable_assignee()->set_volunteer_id("badinputa-v1");
    v1::Assignment a;
    grpc::Status s = w.Dispatch()->AssignManually(Ctx(w.admin()).get(), req, &a);
    EXPECT_EQ(field_of(s), "reason");
  }
  {
    v1::MobilizeRequest req;
    req.set_idempotency_key("mobilize-key-1");
    req.set_district("badinputa");
    *req.mutable_center() = Where();
    req.set_radius_m(10);
    req.set_category(v1::EPIDEMIC_SUPPLY);
    req.set_description("test");
    req.set_needed(3);
    v1::MobilizeResponse resp;
    grpc::Status s = w.Dispatch()->Mobilize(Ctx(w.admin()).get(), req, &resp);
    EXPECT_EQ(field_of(s), "radius_m");
  }
  {
    v1::WatchEventsRequest req;
    req.set_district("badinputa");
    req.set_after_event_id("yesterday");
    auto ctx = Ctx(w.admin());
    auto reader = w.Dispatch()->WatchEvents(ctx.get(), req);
    v1::Event e;
    EXPECT_FALSE(reader->Read(&e));
    grpc::Status s = reader->Finish();
    EXPECT_EQ(field_of(s), "after_event_id");
  }
}

TEST_F(DispatchE2ETest, MobilizeReachesEveryoneAndTheFirstNFillIt) {
  DispatchWorld w = World("mobilizea");
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(w.Volunteer(Where(100.0 * i, 50)));
  std::string outside = w.Volunteer(Where(5000, 0));
  v1::MobilizeRequest req;
  req.set_idempotency_key("mobilize-a-0001");
  req.set_district("mobilizea");
  *req.mutable_center() = Where();
  req.set_radius_m(1000);
  req.set_category(v1::EPIDEMIC_SUPPLY);
  req.set_description("carry supplies to the testing site; call 13812345678");
  req.set_needed(2);
  v1::MobilizeResponse resp;
  grpc::Status s = w.Dispatch()->Mobilize(Ctx(w.admin()).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.volunteers_reached(), 6);
  EXPECT_FALSE(resp.replayed());
  v1::MobilizeResponse replay;
  ASSERT_TRUE(w.Dispatch()->Mobilize(Ctx(w.admin()).get(), req, &replay).ok());
  EXPECT_TRUE(replay.replayed());
  EXPECT_EQ(replay.request_id(), resp.request_id());
  EXPECT_EQ(replay.volunteers_reached(), 6);
  EXPECT_THAT(w.PendingOffers(outside), IsEmpty());

  std::vector<v1::Offer> o0 = w.AwaitOffers(ids[0]);
  ASSERT_THAT(o0, SizeIs(1));
  EXPECT_EQ(o0[0].mobilization_id(), resp.mobilization_id());
  EXPECT_EQ(o0[0].summary().find("13812345678"), std::string::npos) << o0[0].summary();
  std::vector<v1::Offer> o1 = w.AwaitOffers(ids[1]);
  ASSERT_TRUE(w.Respond(o0[0].offer_id(), true).ok());
  ASSERT_TRUE(w.Respond(o1[0].offer_id(), true).ok());
  for (int i = 2; i < 6; ++i) EXPECT_THAT(w.PendingOffers(ids[i]), IsEmpty()) << i;
  EXPECT_EQ(w.Get(resp.request_id()).state(), v1::ASSIGNED);
}

TEST(DispatchBatchPolicyTest, GreedyBatchesServeTheOldestRequestFirstWithItsNearest) {
  TempDir dir;
  Dispatchd server(dir.path() + "/var", {"--batch-interval-ms=2000", "--batch-policy=greedy"});
  ASSERT_TRUE(server.Start()) << server.log();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  DispatchWorld w(channel, server.admin_token(), "greedya");
  // The optimal cycle's instance (RoutineRequestsArePooledAndPlacedByTheOptimalBatchCycle):
  // greedy gives the older request A its nearest, west, and B what is left, 1500 m in
  // all instead of 700 m. (A and B may also land in different cycles; greedy and nearest
  // agree then too.)
  std::string west = w.Volunteer(Where(0, 0));
  std::string east = w.Volunteer(Where(0, 1000));
  v1::HelpRequest a = w.Submit(v1::ROUTINE, Where(0, 400));
  v1::HelpRequest b = w.Submit(v1::ROUTINE, Where(0, -100));
  std::vector<v1::Offer> to_west = w.AwaitOffers(west);
  std::vector<v1::Offer> to_east = w.AwaitOffers(east);
  ASSERT_THAT(to_west, SizeIs(1));
  ASSERT_THAT(to_east, SizeIs(1));
  EXPECT_EQ(to_west[0].request_id(), a.id());
  EXPECT_EQ(to_east[0].request_id(), b.id());
  EXPECT_EQ(server.Stop(), 0);
}

TEST(DispatchShutdownTest, OpenStreamsEndWithUnavailableAndTheServerExitsCleanly) {
  TempDir dir;
  Dispatchd server(dir.path() + "/var");
  ASSERT_TRUE(server.Start()) << server.log();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  DispatchWorld w(channel, server.admin_token(), "shutdowna");
  std::string v = w.Volunteer(Where());
  ASSERT_FALSE(v.empty());
  v1::WatchOffersRequest offers_req;
  offers_req.set_volunteer_id(v);
  auto offers_ctx = Ctx(w.admin(), 60);
  auto offers = w.Vol()->WatchOffers(offers_ctx.get(), offers_req);
  v1::WatchEventsRequest events_req;
  events_req.set_district("shutdowna");
  auto events_ctx = Ctx(w.admin(), 60);
  auto events = w.Dispatch()->WatchEvents(events_ctx.get(), events_req);
  offers->WaitForInitialMetadata();  // Subscribed.
  events->WaitForInitialMetadata();
  EXPECT_EQ(server.Stop(), 0) << server.log();
  v1::Offer o;
  EXPECT_FALSE(offers->Read(&o));
  EXPECT_EQ(offers->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  v1::Event e;
  EXPECT_FALSE(events->Read(&e));
  EXPECT_EQ(events->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace yiyuan::testing
