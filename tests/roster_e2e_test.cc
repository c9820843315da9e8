// The live roster (in-process geo index) across restarts and across instances: real
// dispatchd processes, real redis-server, real gRPC.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/processes.h"
#include "yiyuan/v1/unit.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan::testing {
namespace {

constexpr double kLat = 30.87;
constexpr double kLng = 120.09;

class Client {
 public:
  explicit Client(const Dispatchd& d)
      : channel_(grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials())),
        token_(d.admin_token()),
        volunteers_(v1::VolunteerService::NewStub(channel_)),
        units_(v1::UnitService::NewStub(channel_)) {}

  std::string Register(const std::string& external_id, const std::string& district = "wuxing") {
    v1::RegisterVolunteerRequest req;
    req.set_district(district);
    v1::Volunteer* v = req.mutable_volunteer();
    v->set_external_id(external_id);
    v->set_name(absl::StrCat("Volunteer ", external_id));
    v->set_phone(absl::StrCat("138", 10000000 + std::hash<std::string>()(external_id) % 89999999));
    v->set_home_community_id("wx-aiguo");
    v->add_skills("cooking");
    v1::RegisterVolunteerResponse resp;
    grpc::Status s = volunteers_->RegisterVolunteer(Ctx(token_).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.volunteer().id();
  }

  grpc::Status Duty(const std::string& id, v1::DutyStatus status, double lat, double lng) {
    v1::SetDutyStatusRequest req;
    req.set_volunteer_id(id);
    req.set_status(status);
    req.mutable_location()->set_lat(lat);
    req.mutable_location()->set_lng(lng);
    v1::Volunteer resp;
    return volunteers_->SetDutyStatus(Ctx(token_).get(), req, &resp);
  }

  bool Locate(const std::string& volunteer_id, const std::string& unit_id, double lat, double lng) {
    v1::ReportLocationRequest req;
    req.set_volunteer_id(volunteer_id);
    req.set_unit_id(unit_id);
    req.mutable_location()->set_lat(lat);
    req.mutable_location()->set_lng(lng);
    v1::ReportLocationResponse resp;
    grpc::Status s = volunteers_->ReportLocation(Ctx(token_).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.stored();
  }

  std::string Van(const std::string& name, double lat, double lng,
                  const std::string& district = "wuxing") {
    v1::CreateUnitRequest req;
    req.set_district(district);
    v1::Unit* u = req.mutable_unit();
    u->set_kind(v1::UNIT_VAN);
    u->set_name(name);
    u->set_community_id("wx-aiguo");
    u->mutable_location()->set_lat(lat);
    u->mutable_location()->set_lng(lng);
    u->add_equipment("wheelchair");
    u->set_active(true);
    v1::Unit resp;
    grpc::Status s = units_->CreateUnit(Ctx(token_).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.id();
  }

  // "id@distance" of each candidate near (lat, lng), nearest first.
  std::vector<std::string> Nearby(double lat, double lng, int k,
                                  const std::string& district = "wuxing") {
    v1::FindNearbyVolunteersRequest req;
    req.set_district(district);
    req.mutable_center()->set_lat(lat);
    req.mutable_center()->set_lng(lng);
    req.set_limit(k);
    req.set_max_radius_m(20000);
    req.add_duty_statuses(v1::DUTY_ON);
    req.add_duty_statuses(v1::DUTY_BUSY);
    req.set_include_units(true);
    v1::FindNearbyVolunteersResponse resp;
    grpc::Status s = volunteers_->FindNearbyVolunteers(Ctx(token_).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const v1::NearbyCandidate& c : resp.candidates()) {
      const std::string& id = c.has_volunteer() ? c.volunteer().id() : c.unit().id();
      out.push_back(absl::StrCat(id, "@", absl::Dec(static_cast<int64_t>(c.distance_m() * 10))));
    }
    return out;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string token_;
  std::unique_ptr<v1::VolunteerService::Stub> volunteers_;
  std::unique_ptr<v1::UnitService::Stub> units_;
};

// Waits (bounded) until `done` holds; returns how long that took, or nullopt.
template <typename F>
std::optional<absl::Duration> WaitFor(F done, absl::Duration limit = absl::Seconds(10)) {
  absl::Time start = absl::Now();
  while (absl::Now() - start < limit) {
    if (done()) return absl::Now() - start;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return std::nullopt;
}

bool Contains(const std::vector<std::string>& hits, const std::string& id) {
  for (const std::string& h : hits) {
    if (h.rfind(id + "@", 0) == 0) return true;
  }
  return false;
}

TEST(RosterE2ETest, RestartRebuildsTheIndexFromRedis) {
  TempDir dir;
  std::string data = dir.path() + "/var";
  std::mt19937_64 rng(20261123);
  std::uniform_real_distribution<double> dlat(-0.03, 0.03), dlng(-0.03, 0.03);
  std::vector<std::pair<double, double>> centers;
  for (int i = 0; i < 6; ++i) centers.emplace_back(kLat + dlat(rng), kLng + dlng(rng));

  std::vector<std::vector<std::string>> before;
  {
    Dispatchd d(data);
    ASSERT_TRUE(d.Start()) << d.log();
    Client c(d);
    for (int i = 0; i < 40; ++i) {
      std::string id = c.Register(absl::StrCat("r-", i));
      v1::DutyStatus status =
          i % 4 == 0 ? v1::DUTY_OFF : (i % 4 == 1 ? v1::DUTY_BUSY : v1::DUTY_ON);
      ASSERT_TRUE(c.Duty(id, status, kLat + dlat(rng), kLng + dlng(rng)).ok());
      if (i % 5 == 0 && status != v1::DUTY_OFF) {
        EXPECT_TRUE(c.Locate(id, "", kLat + dlat(rng), kLng + dlng(rng)));
      }
    }
    std::string van = c.Van("Van 1", kLat, kLng);
    EXPECT_TRUE(c.Locate("", van, kLat + 0.01, kLng - 0.01));
    for (auto [lat, lng] : centers) before.push_back(c.Nearby(lat, lng, 12));
    EXPECT_EQ(d.Stop(), 0);
  }
  ASSERT_EQ(before[0].size(), 12u);

  Dispatchd d(data);
  ASSERT_TRUE(d.Start()) << d.log();
  Client c(d);
  for (size_t i = 0; i < centers.size(); ++i) {
    EXPECT_EQ(c.Nearby(centers[i].first, centers[i].second, 12), before[i]) << "centre " << i;
  }
  EXPECT_EQ(d.Stop(), 0);
}

TEST(RosterE2ETest, TwoInstancesSeeEachOthersChanges) {
  RedisServer redis;
  TempDir dir;
  Dispatchd a(dir.path() + "/a", {"--redis=" + redis.url()});
  Dispatchd b(dir.path() + "/b", {"--redis=" + redis.url()});
  ASSERT_TRUE(a.Start()) << a.log();
  ASSERT_TRUE(b.Start()) << b.log();
  Client ca(a), cb(b);

  std::string id = ca.Register("two-1");
  ASSERT_TRUE(ca.Duty(id, v1::DUTY_ON, kLat, kLng).ok());
  EXPECT_TRUE(Contains(ca.Nearby(kLat, kLng, 5), id)) << "the writer sees its own write at once";
  std::optional<absl::Duration> lag =
      WaitFor([&] { return Contains(cb.Nearby(kLat, kLng, 5), id); });
  ASSERT_TRUE(lag.has_value()) << "B never saw A's volunteer go on duty\n" << b.log();
  std::cout << "[ lag ] duty change seen by the other instance after " << *lag << "\n";

  // A location fix through A moves the volunteer in B's index.
  std::vector<std::string> near_start = cb.Nearby(kLat + 0.02, kLng, 1);
  ASSERT_TRUE(ca.Locate(id, "", kLat + 0.02, kLng));
  lag = WaitFor(
      [&] { return cb.Nearby(kLat + 0.02, kLng, 1) == std::vector<std::string>{id + "@0"}; });
  ASSERT_TRUE(lag.has_value()) << "B never saw the fix; it still has " << near_start[0];
  std::cout << "[ lag ] location fix seen by the other instance after " << *lag << "\n";

  // A unit made on B shows up on A.
  std::string van = cb.Van("Van 9", kLat - 0.01, kLng);
  ASSERT_TRUE(WaitFor([&] { return Contains(ca.Nearby(kLat - 0.01, kLng, 3), van); }).has_value());

  // Going off duty on B removes the volunteer from A (a district A already follows).
  ASSERT_TRUE(cb.Duty(id, v1::DUTY_OFF, 0, 0).ok());
  lag = WaitFor([&] { return !Contains(ca.Nearby(kLat + 0.02, kLng, 5), id); });
  ASSERT_TRUE(lag.has_value()) << a.log();
  std::cout << "[ lag ] going off duty seen by the other instance after " << *lag << "\n";

  // A district neither instance has seen before is followed by both.
  std::string anji = ca.Register("anji-1", "anji");
  ASSERT_TRUE(ca.Duty(anji, v1::DUTY_ON, 30.63, 119.68).ok());
  lag = WaitFor([&] { return Contains(cb.Nearby(30.63, 119.68, 1, "anji"), anji); });
  ASSERT_TRUE(lag.has_value()) << b.log();
  std::cout << "[ lag ] new district followed by the other instance after " << *lag << "\n";

  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
}

}  // namespace
}  // namespace yiyuan::testing
