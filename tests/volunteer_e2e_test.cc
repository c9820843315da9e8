// VolunteerService and UnitService end to end: real dispatchd (embedded redis-server),
// real gRPC, and Redis read back for key counts and the district's event stream.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/redis_client.h"
#include "tests/testing/client.h"
#include "tests/testing/processes.h"
#include "tests/testing/redis_counts.h"
#include "yiyuan/v1/unit.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

constexpr double kPi = 3.14159265358979323846;
// The mean earth radius (IUGG), the sphere the service measures distances on.
constexpr double kEarthRadiusM = 6371008.8;
// How close a reported distance must be to the one computed here.
constexpr double kDistanceToleranceM = 0.5;

v1::LatLng Point(double lat, double lng) {
  v1::LatLng p;
  p.set_lat(lat);
  p.set_lng(lng);
  return p;
}

double Radians(double deg) { return deg * kPi / 180; }

// Great-circle distance by the haversine formula, metres.
double Haversine(const v1::LatLng& a, const v1::LatLng& b) {
  double dlat = Radians(b.lat() - a.lat());
  double dlng = Radians(b.lng() - a.lng());
  double h = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(Radians(a.lat())) *
                                                           std::cos(Radians(b.lat())) *
                                                           std::sin(dlng / 2) * std::sin(dlng / 2);
  return 2 * kEarthRadiusM * std::asin(std::sqrt(h));
}

// `base` moved about `north_m` metres north and `east_m` metres east.
v1::LatLng Offset(const v1::LatLng& base, double north_m, double east_m) {
  double dlat = north_m / kEarthRadiusM * 180 / kPi;
  double dlng = east_m / (kEarthRadiusM * std::cos(Radians(base.lat()))) * 180 / kPi;
  return Point(base.lat() + dlat, base.lng() + dlng);
}

std::string Masked(const std::string& phone) {
  return absl::StrCat(phone.substr(0, 3), "****", phone.substr(phone.size() - 4));
}

// The current ISO day of the week (1 = Monday) and minute of the day in Asia/Shanghai.
std::pair<int, int> ShanghaiDayAndMinute() {
  absl::CivilSecond now = absl::ToCivilSecond(absl::Now(), absl::FixedTimeZone(8 * 3600));
  int day = static_cast<int>(absl::GetWeekday(now)) + 1;  // absl: Monday is 0.
  return {day, now.hour() * 60 + now.minute()};
}

// The ISO day `n` days after `day`.
int DayAfter(int day, int n) { return (day - 1 + n) % 7 + 1; }

v1::AvailabilitySlot Slot(int day, int start, int end) {
  v1::AvailabilitySlot s;
  s.set_day_of_week(day);
  s.set_start_minute(start);
  s.set_end_minute(end);
  return s;
}

class VolunteerE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new Dispatchd(dir_->path() + "/var");
    ASSERT_TRUE(server_->Start()) << server_->log();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    RedisClientOptions o;
    o.endpoint.unix_path = dir_->path() + "/var/redis.sock";
    redis_ = new RedisClient(o);
  }
  static void TearDownTestSuite() {
    delete redis_;
    delete channel_;
    EXPECT_EQ(server_->Stop(), 0);
    delete server_;
    delete dir_;
  }

  std::unique_ptr<v1::VolunteerService::Stub> Vol() {
    return v1::VolunteerService::NewStub(*channel_);
  }
  std::unique_ptr<v1::UnitService::Stub> Units() { return v1::UnitService::NewStub(*channel_); }
  std::string Admin() { return server_->admin_token(); }
  std::string Token(v1::Role role, const std::string& district = "wuxing",
                    const std::string& kiosk = "", const std::string& volunteer = "") {
    std::string t = MakeToken(*channel_, Admin(), role, district, kiosk, volunteer);
    EXPECT_FALSE(t.empty()) << "could not create a token";
    return t;
  }
  int64_t KeyCount() { return DataKeyCount(*redis_); }
  int64_t StreamLength() { return redis_->Command({"XLEN", "{d:wuxing}:events"})->integer; }

  static std::string NextPhone() {
    static std::atomic<int> n{20000000};
    return absl::StrCat("139", n.fetch_add(1));
  }
  static int NextSerial() {
    static std::atomic<int> n{1};
    return n.fetch_add(1);
  }
  static std::string NextExternalId() { return absl::StrCat("ext-", NextSerial()); }
  static std::string NewCommunity() { return absl::StrCat("wx-c", NextSerial()); }
  // A point a degree of latitude (111 km, more than the largest search radius) away
  // from every other area handed out, so searches of one test never see another's
  // volunteers even when the tests share a server.
  static v1::LatLng NewArea() {
    static std::atomic<int> n{0};
    int k = n.fetch_add(1) % 840;
    // Rows of latitudes 20..79; each further row 5 degrees of longitude east (at least
    // 96 km apart that far north).
    return Point(20.123457 + k % 60, 100.654321 + 5.0 * (k / 60));
  }

  static v1::Volunteer ValidVolunteer() {
    v1::Volunteer v;
    v.set_external_id(NextExternalId());
    v.set_name("Zhang Wei");
    v.set_phone(NextPhone());
    v.set_home_community_id("wx-aiguo");
    return v;
  }

  // Registers `v` as ADMIN; the stored volunteer (empty id on failure).
  v1::Volunteer Register(const v1::Volunteer& v) {
    v1::RegisterVolunteerRequest req;
    *req.mutable_volunteer() = v;
    v1::RegisterVolunteerResponse resp;
    grpc::Status s = Vol()->RegisterVolunteer(Ctx(Admin()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.volunteer();
  }
  v1::Volunteer RegisterNew() { return Register(ValidVolunteer()); }

  grpc::Status SetDuty(const std::string& id, v1::DutyStatus status,
                       std::optional<v1::LatLng> location, v1::Volunteer* out,
                       const std::string& token = "") {
    v1::SetDutyStatusRequest req;
    req.set_volunteer_id(id);
    req.set_status(status);
    if (location.has_value()) *req.mutable_location() = *location;
    return Vol()->SetDutyStatus(Ctx(token.empty() ? Admin() : token).get(), req, out);
  }
  // Puts volunteer `id` on duty at `where`; the stored volunteer.
  v1::Volunteer OnDuty(const std::string& id, const v1::LatLng& where) {
    v1::Volunteer out;
    grpc::Status s = SetDuty(id, v1::DUTY_ON, where, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::FindNearbyVolunteersResponse Nearby(const v1::FindNearbyVolunteersRequest& req,
                                          const std::string& token = "") {
    v1::FindNearbyVolunteersResponse resp;
    grpc::Status s =
        Vol()->FindNearbyVolunteers(Ctx(token.empty() ? Admin() : token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  static v1::FindNearbyVolunteersRequest Around(const v1::LatLng& center) {
    v1::FindNearbyVolunteersRequest req;
    *req.mutable_center() = center;
    return req;
  }
  // The ids of the candidates, in the order returned.
  static std::vector<std::string> Ids(const v1::FindNearbyVolunteersResponse& r) {
    std::vector<std::string> out;
    for (const auto& c : r.candidates()) {
      out.push_back(c.has_volunteer() ? c.volunteer().id() : c.unit().id());
    }
    return out;
  }
  // The candidate `id` of `r`, or null.
  static const v1::NearbyCandidate* Find(const v1::FindNearbyVolunteersResponse& r,
                                         const std::string& id) {
    for (const auto& c : r.candidates()) {
      if ((c.has_volunteer() ? c.volunteer().id() : c.unit().id()) == id) return &c;
    }
    return nullptr;
  }

  grpc::Status GetVolunteer(const std::string& id, const std::string& token, v1::Volunteer* out) {
    v1::GetVolunteerRequest req;
    req.set_id(id);
    return Vol()->GetVolunteer(Ctx(token).get(), req, out);
  }
  v1::Volunteer Get(const std::string& id) {
    v1::Volunteer out;
    grpc::Status s = GetVolunteer(id, Admin(), &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  grpc::Status Locate(const std::string& volunteer_id, const std::string& unit_id,
                      const v1::LatLng& where, int64_t fix_time_ms, v1::ReportLocationResponse* out,
                      const std::string& token = "") {
    v1::ReportLocationRequest req;
    req.set_volunteer_id(volunteer_id);
    req.set_unit_id(unit_id);
    *req.mutable_location() = where;
    req.set_fix_time_ms(fix_time_ms);
    return Vol()->ReportLocation(Ctx(token.empty() ? Admin() : token).get(), req, out);
  }

  std::vector<std::string> ListIds(const v1::ListVolunteersRequest& req,
                                   const std::string& token = "") {
    v1::ListVolunteersResponse resp;
    grpc::Status s = Vol()->ListVolunteers(Ctx(token.empty() ? Admin() : token).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const auto& v : resp.volunteers()) out.push_back(v.id());
    return out;
  }

  static v1::Unit Station(const v1::LatLng& where, const std::string& community = "wx-aiguo") {
    v1::Unit u;
    u.set_kind(v1::UNIT_STATION);
    u.set_name("Aiguo community service station");
    *u.mutable_location() = where;
    u.set_community_id(community);
    u.set_address("1 Aiguo Road");
    u.set_active(true);
    return u;
  }
  grpc::Status CreateUnit(const v1::Unit& u, const std::string& unit_id, v1::Unit* out) {
    v1::CreateUnitRequest req;
    req.set_unit_id(unit_id);
    *req.mutable_unit() = u;
    return Units()->CreateUnit(Ctx(Admin()).get(), req, out);
  }
  v1::Unit MustCreateUnit(const v1::Unit& u, const std::string& unit_id = "") {
    v1::Unit out;
    grpc::Status s = CreateUnit(u, unit_id, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  grpc::Status UpdateUnit(const v1::Unit& u, const std::vector<std::string>& paths, v1::Unit* out) {
    v1::UpdateUnitRequest req;
    *req.mutable_unit() = u;
    for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
    return Units()->UpdateUnit(Ctx(Admin()).get(), req, out);
  }

  static TempDir* dir_;
  static Dispatchd* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
  static RedisClient* redis_;
};

TempDir* VolunteerE2ETest::dir_ = nullptr;
Dispatchd* VolunteerE2ETest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* VolunteerE2ETest::channel_ = nullptr;
RedisClient* VolunteerE2ETest::redis_ = nullptr;

// ---------------------------------------------------------------------------------------
// RegisterVolunteer

TEST_F(VolunteerE2ETest, RegisterCreatesReplaysAndRefusesAChangedBody) {
  auto stub = Vol();
  const std::string phone = NextPhone();
  v1::RegisterVolunteerRequest req;
  v1::Volunteer* v = req.mutable_volunteer();
  v->set_external_id(NextExternalId());
  v->set_name("  Li Na ");
  v->set_phone(
      absl::StrCat("+86 ", phone.substr(0, 3), " ", phone.substr(3, 4), "-", phone.substr(7)));
  v->set_home_community_id("wx-aiguo");
  v->add_skills("haircut");
  v->add_skills("Cooking");
  v->add_skills("computer");
  v->add_certificates(v1::CERT_MEDICAL);
  v->add_certificates(v1::CERT_DRIVER);
  v->add_languages("zh");
  v->add_languages("wuu-huzhou");
  v->set_capacity(0);
  v->set_duty_status(v1::DUTY_ON);  // Output only: ignored.

  v1::RegisterVolunteerResponse first;
  grpc::Status s = stub->RegisterVolunteer(Ctx(Admin()).get(), req, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::Volunteer& got = first.volunteer();
  EXPECT_FALSE(first.replayed());
  EXPECT_THAT(got.id(), MatchesRegex("wuxing-v[0-9]+"));
  EXPECT_EQ(got.district(), "wuxing");
  EXPECT_EQ(got.external_id(), v->external_id());
  EXPECT_EQ(got.name(), "Li Na");
  EXPECT_EQ(got.phone(), phone);
  EXPECT_THAT(got.skills(), ElementsAre("computer", "cooking", "haircut"));
  EXPECT_THAT(got.certificates(), ElementsAre(v1::CERT_MEDICAL, v1::CERT_DRIVER));
  EXPECT_THAT(got.languages(), ElementsAre("wuu-huzhou", "zh"));
  EXPECT_EQ(got.capacity(), 1);
  EXPECT_EQ(got.duty_status(), v1::DUTY_OFF);
  EXPECT_FALSE(got.has_location());
  EXPECT_THAT(got.team_ids(), IsEmpty());
  EXPECT_GT(got.create_time_ms(), 0);
  EXPECT_EQ(got.update_time_ms(), got.create_time_ms());

  // Reading it back gives the same record.
  v1::Volunteer read = Get(got.id());
  EXPECT_EQ(read.SerializeAsString(), got.SerializeAsString());

  // A replay of the same body, even spelled differently, writes nothing.
  const int64_t keys = KeyCount();
  const int64_t events = StreamLength();
  v1::RegisterVolunteerRequest same = req;
  same.mutable_volunteer()->set_phone(phone);
  same.mutable_volunteer()->clear_skills();
  for (const char* skill : {"computer", "haircut", "cooking"}) {
    same.mutable_volunteer()->add_skills(skill);
  }
  same.mutable_volunteer()->set_capacity(1);
  for (const v1::RegisterVolunteerRequest* r : {&req, &same}) {
    v1::RegisterVolunteerResponse again;
    s = stub->RegisterVolunteer(Ctx(Admin()).get(), *r, &again);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(again.replayed());
    EXPECT_EQ(again.volunteer().id(), got.id());
    EXPECT_EQ(again.volunteer().create_time_ms(), got.create_time_ms());
  }
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events);

  // The same external id with another body is refused and nothing is written.
  v1::RegisterVolunteerRequest changed = req;
  changed.mutable_volunteer()->set_name("Li Na (changed)");
  v1::RegisterVolunteerResponse resp;
  s = stub->RegisterVolunteer(Ctx(Admin()).get(), changed, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("volunteer.external_id")) << s.error_message();
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events);
  EXPECT_EQ(Get(got.id()).name(), "Li Na");

  // A second volunteer gets the next number.
  v1::Volunteer next = RegisterNew();
  EXPECT_THAT(next.id(), MatchesRegex("wuxing-v[0-9]+"));
  EXPECT_GT(std::stoll(next.id().substr(8)), std::stoll(got.id().substr(8)));
  EXPECT_EQ(StreamLength(), events + 1);
}

TEST_F(VolunteerE2ETest, SelfRegistrationByTheVolunteerAppAndUnknownIds) {
  std::string app = Token(v1::ROLE_VOLUNTEER_APP);
  v1::RegisterVolunteerRequest req;
  *req.mutable_volunteer() = ValidVolunteer();
  v1::RegisterVolunteerResponse resp;
  grpc::Status s = Vol()->RegisterVolunteer(Ctx(app).get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.volunteer().phone(), req.volunteer().phone());

  v1::Volunteer out;
  EXPECT_EQ(GetVolunteer("wuxing-v99999999", Admin(), &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::Volunteer unknown;
  unknown.set_id("wuxing-v99999999");
  unknown.set_name("Nobody");
  v1::UpdateVolunteerRequest update;
  *update.mutable_volunteer() = unknown;
  update.mutable_update_mask()->add_paths("name");
  EXPECT_EQ(Vol()->UpdateVolunteer(Ctx(Admin()).get(), update, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(SetDuty("wuxing-v99999999", v1::DUTY_OFF, std::nullopt, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::ReportLocationResponse fix;
  EXPECT_EQ(Locate("wuxing-v99999999", "", NewArea(), 0, &fix).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(VolunteerE2ETest, ConcurrentIdenticalRegistrationsStoreOneVolunteer) {
  ASSERT_FALSE(RegisterNew().id().empty());  // The district's keys exist from here on.
  v1::RegisterVolunteerRequest req;
  *req.mutable_volunteer() = ValidVolunteer();
  const int64_t events = StreamLength();
  constexpr int kThreads = 16;
  std::vector<std::string> ids(kThreads);
  std::vector<grpc::StatusCode> codes(kThreads);
  std::vector<int> replayed(kThreads);  // Not vector<bool>: threads write neighbours.
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::VolunteerService::NewStub(
          grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
      v1::RegisterVolunteerResponse resp;
      codes[i] = stub->RegisterVolunteer(Ctx(Admin()).get(), req, &resp).error_code();
      ids[i] = resp.volunteer().id();
      replayed[i] = resp.replayed();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) EXPECT_EQ(codes[i], grpc::StatusCode::OK) << i;
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(std::count(replayed.begin(), replayed.end(), 0), 1);
  EXPECT_EQ(StreamLength(), events + 1);
  v1::ListVolunteersRequest by_phone;
  by_phone.set_phone(req.volunteer().phone());
  EXPECT_THAT(ListIds(by_phone), ElementsAre(ids[0]));
}

TEST_F(VolunteerE2ETest, ConcurrentUpdatesOfDifferentFieldsAreAllKept) {
  const v1::Volunteer v = RegisterNew();
  ASSERT_FALSE(v.id().empty());
  const std::vector<std::pair<std::string, std::function<void(v1::Volunteer&)>>> edits = {
      {"name", [](v1::Volunteer& x) { x.set_name("Chen Jing"); }},
      {"capacity", [](v1::Volunteer& x) { x.set_capacity(4); }},
      {"languages", [](v1::Volunteer& x) { x.add_languages("csl"); }},
      {"skills", [](v1::Volunteer& x) { x.add_skills("computer"); }},
  };
  std::vector<grpc::Status> results(edits.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < edits.size(); ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::VolunteerService::NewStub(
          grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
      v1::UpdateVolunteerRequest req;
      req.mutable_volunteer()->set_id(v.id());
      edits[i].second(*req.mutable_volunteer());
      req.mutable_update_mask()->add_paths(edits[i].first);
      v1::Volunteer out;
      results[i] = stub->UpdateVolunteer(Ctx(Admin()).get(), req, &out);
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < edits.size(); ++i) {
    EXPECT_TRUE(results[i].ok()) << edits[i].first << ": " << results[i].error_message();
  }
  v1::Volunteer after = Get(v.id());
  EXPECT_EQ(after.name(), "Chen Jing");
  EXPECT_EQ(after.capacity(), 4);
  EXPECT_THAT(after.languages(), ElementsAre("csl"));
  EXPECT_THAT(after.skills(), ElementsAre("computer"));
  EXPECT_EQ(after.phone(), v.phone());
}

// ---------------------------------------------------------------------------------------
// Malformed input

// One malformed call: a name for the test output, the call, the field to blame.
struct Malformed {
  std::string name;
  std::function<grpc::Status()> call;
  std::string field;
};

TEST_F(VolunteerE2ETest, MalformedInputIsRejectedNamingTheFieldAndWritesNothing) {
  auto vol = Vol();
  auto units = Units();
  const std::string admin = Admin();
  // Everything the cases refer to exists before the counts are taken.
  const v1::Volunteer known = RegisterNew();
  const v1::Volunteer other = RegisterNew();
  ASSERT_FALSE(known.id().empty());
  ASSERT_FALSE(other.id().empty());
  const v1::LatLng area = NewArea();
  const v1::Unit team = [&] {
    v1::Unit t = Station(area);
    t.set_kind(v1::UNIT_TEAM);
    t.set_name("Blue team");
    t.add_member_volunteer_ids(known.id());
    return MustCreateUnit(t);
  }();
  ASSERT_FALSE(team.id().empty());
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());

  auto register_with = [&](std::function<void(v1::Volunteer&)> change) {
    return [&, change] {
      v1::RegisterVolunteerRequest req;
      *req.mutable_volunteer() = ValidVolunteer();
      change(*req.mutable_volunteer());
      v1::RegisterVolunteerResponse resp;
      return vol->RegisterVolunteer(Ctx(admin).get(), req, &resp);
    };
  };
  auto update_with = [&](std::vector<std::string> paths,
                         std::function<void(v1::Volunteer&)> change) {
    return [&, paths, change] {
      v1::UpdateVolunteerRequest req;
      req.mutable_volunteer()->set_id(known.id());
      change(*req.mutable_volunteer());
      for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
      v1::Volunteer resp;
      return vol->UpdateVolunteer(Ctx(admin).get(), req, &resp);
    };
  };
  auto duty_with = [&](std::function<void(v1::SetDutyStatusRequest&)> change) {
    return [&, change] {
      v1::SetDutyStatusRequest req;
      req.set_volunteer_id(known.id());
      req.set_status(v1::DUTY_ON);
      *req.mutable_location() = area;
      change(req);
      v1::Volunteer resp;
      return vol->SetDutyStatus(Ctx(admin).get(), req, &resp);
    };
  };
  auto locate_with = [&](std::function<void(v1::ReportLocationRequest&)> change) {
    return [&, change] {
      v1::ReportLocationRequest req;
      req.set_volunteer_id(known.id());
      *req.mutable_location() = area;
      change(req);
      v1::ReportLocationResponse resp;
      return vol->ReportLocation(Ctx(admin).get(), req, &resp);
    };
  };
  auto nearby_with = [&](std::function<void(v1::FindNearbyVolunteersRequest&)> change) {
    return [&, change] {
      v1::FindNearbyVolunteersRequest req = Around(area);
      change(req);
      v1::FindNearbyVolunteersResponse resp;
      return vol->FindNearbyVolunteers(Ctx(admin).get(), req, &resp);
    };
  };
  auto list_with = [&](std::function<void(v1::ListVolunteersRequest&)> change) {
    return [&, change] {
      v1::ListVolunteersRequest req;
      change(req);
      v1::ListVolunteersResponse resp;
      return vol->ListVolunteers(Ctx(admin).get(), req, &resp);
    };
  };
  auto create_unit_with = [&](std::function<void(v1::CreateUnitRequest&)> change) {
    return [&, change] {
      v1::CreateUnitRequest req;
      *req.mutable_unit() = Station(area);
      change(req);
      v1::Unit resp;
      return units->CreateUnit(Ctx(admin).get(), req, &resp);
    };
  };
  auto update_unit_with = [&](std::vector<std::string> paths,
                              std::function<void(v1::Unit&)> change) {
    return [&, paths, change] {
      v1::UpdateUnitRequest req;
      req.mutable_unit()->set_id(team.id());
      change(*req.mutable_unit());
      for (const std::string& p : paths) req.mutable_update_mask()->add_paths(p);
      v1::Unit resp;
      return units->UpdateUnit(Ctx(admin).get(), req, &resp);
    };
  };
  auto pairing_with = [&](std::function<void(v1::CreatePairingRequest&)> change) {
    return [&, change] {
      v1::CreatePairingRequest req;
      req.set_volunteer_id(known.id());
      req.mutable_resident()->set_name("Grandma Chen");
      req.mutable_resident()->set_phone(NextPhone());
      req.mutable_resident()->set_community_id("wx-aiguo");
      change(req);
      v1::Pairing resp;
      return units->CreatePairing(Ctx(admin).get(), req, &resp);
    };
  };
  auto no_change = [](auto&) {};

  std::vector<Malformed> cases = {
      // RegisterVolunteer.
      {"register: district upper case",
       [&] {
         v1::RegisterVolunteerRequest req;
         req.set_district("WuXing");
         *req.mutable_volunteer() = ValidVolunteer();
         v1::RegisterVolunteerResponse resp;
         return vol->RegisterVolunteer(Ctx(admin).get(), req, &resp);
       },
       "district"},
      {"register: no external_id", register_with([](auto& v) { v.clear_external_id(); }),
       "volunteer.external_id"},
      {"register: external_id with space",
       register_with([](auto& v) { v.set_external_id("ext 1"); }), "volunteer.external_id"},
      {"register: external_id too long",
       register_with([](auto& v) { v.set_external_id(std::string(65, 'e')); }),
       "volunteer.external_id"},
      {"register: no name", register_with([](auto& v) { v.clear_name(); }), "volunteer.name"},
      {"register: blank name", register_with([](auto& v) { v.set_name("   "); }), "volunteer.name"},
      {"register: name too long", register_with([](auto& v) { v.set_name(std::string(65, 'n')); }),
       "volunteer.name"},
      {"register: no phone", register_with([](auto& v) { v.clear_phone(); }), "volunteer.phone"},
      {"register: landline phone", register_with([](auto& v) { v.set_phone("0572-2123456"); }),
       "volunteer.phone"},
      {"register: short phone", register_with([](auto& v) { v.set_phone("1391234"); }),
       "volunteer.phone"},
      {"register: no community", register_with([](auto& v) { v.clear_home_community_id(); }),
       "volunteer.home_community_id"},
      {"register: community bad chars",
       register_with([](auto& v) { v.set_home_community_id("wx/aiguo"); }),
       "volunteer.home_community_id"},
      {"register: skill bad chars", register_with([](auto& v) { v.add_skills("first aid!"); }),
       "volunteer.skills[0]"},
      {"register: skill repeated", register_with([](auto& v) {
         v.add_skills("driver");
         v.add_skills("Driver");
       }),
       "volunteer.skills[1]"},
      {"register: too many skills", register_with([](auto& v) {
         for (int i = 0; i < 33; ++i) v.add_skills(absl::StrCat("s", i));
       }),
       "volunteer.skills"},
      {"register: too many languages", register_with([](auto& v) {
         for (int i = 0; i < 9; ++i) v.add_languages(absl::StrCat("l", i));
       }),
       "volunteer.languages"},
      {"register: certificate unset",
       register_with([](auto& v) { v.add_certificates(v1::CERTIFICATE_UNSPECIFIED); }),
       "volunteer.certificates[0]"},
      {"register: certificate unknown",
       register_with([](auto& v) { v.add_certificates(static_cast<v1::Certificate>(99)); }),
       "volunteer.certificates[0]"},
      {"register: certificate repeated", register_with([](auto& v) {
         v.add_certificates(v1::CERT_NURSE);
         v.add_certificates(v1::CERT_NURSE);
       }),
       "volunteer.certificates[1]"},
      {"register: day 8", register_with([](auto& v) { *v.add_availability() = Slot(8, 0, 60); }),
       "volunteer.availability[0].day_of_week"},
      {"register: slot ends before it starts",
       register_with([](auto& v) { *v.add_availability() = Slot(1, 600, 600); }),
       "volunteer.availability[0].end_minute"},
      {"register: slot past midnight",
       register_with([](auto& v) { *v.add_availability() = Slot(1, 1400, 1441); }),
       "volunteer.availability[0].end_minute"},
      {"register: slots overlap", register_with([](auto& v) {
         *v.add_availability() = Slot(2, 480, 720);
         *v.add_availability() = Slot(2, 700, 800);
       }),
       "volunteer.availability"},
      {"register: capacity 11", register_with([](auto& v) { v.set_capacity(11); }),
       "volunteer.capacity"},
      {"register: capacity negative", register_with([](auto& v) { v.set_capacity(-1); }),
       "volunteer.capacity"},
      // GetVolunteer and ListVolunteers.
      {"get: malformed id",
       [&] {
         v1::Volunteer out;
         return GetVolunteer("v12", admin, &out);
       },
       "id"},
      {"list: bad phone filter", list_with([](auto& r) { r.set_phone("12345"); }), "phone"},
      {"list: negative page_size", list_with([](auto& r) { r.set_page_size(-1); }), "page_size"},
      {"list: unknown certificate",
       list_with([](auto& r) { r.set_certificate(static_cast<v1::Certificate>(77)); }),
       "certificate"},
      {"list: forged page token", list_with([](auto& r) { r.set_page_token("bm90IGEgdG9rZW4"); }),
       "page_token"},
      // UpdateVolunteer.
      {"update: empty mask", update_with({}, [](auto& v) { v.set_name("X"); }), "update_mask"},
      {"update: output-only path", update_with({"duty_status"}, no_change), "update_mask"},
      {"update: immutable path",
       update_with({"external_id"}, [](auto& v) { v.set_external_id("ext-new"); }), "update_mask"},
      {"update: unknown path", update_with({"skills", "favourite_colour"}, no_change),
       "update_mask"},
      {"update: bad phone", update_with({"phone"}, [](auto& v) { v.set_phone("123"); }),
       "volunteer.phone"},
      {"update: blank name", update_with({"name"}, [](auto& v) { v.set_name(" "); }),
       "volunteer.name"},
      {"update: capacity 11", update_with({"capacity"}, [](auto& v) { v.set_capacity(11); }),
       "volunteer.capacity"},
      {"update: bad slot",
       update_with({"availability"}, [](auto& v) { *v.add_availability() = Slot(3, 900, 800); }),
       "volunteer.availability[0].end_minute"},
      {"update: everything, phone bad",
       update_with({"*"},
                   [&](auto& v) {
                     v = known;
                     v.set_phone("1");
                   }),
       "volunteer.phone"},
      {"update: malformed id",
       [&] {
         v1::UpdateVolunteerRequest req;
         req.mutable_volunteer()->set_id("wuxing-12");
         req.mutable_update_mask()->add_paths("name");
         v1::Volunteer resp;
         return vol->UpdateVolunteer(Ctx(admin).get(), req, &resp);
       },
       "volunteer.id"},
      // SetDutyStatus.
      {"duty: no status", duty_with([](auto& r) { r.clear_status(); }), "status"},
      {"duty: unknown status",
       duty_with([](auto& r) { r.set_status(static_cast<v1::DutyStatus>(9)); }), "status"},
      {"duty: on without location", duty_with([](auto& r) { r.clear_location(); }), "location"},
      {"duty: on at 0,0", duty_with([](auto& r) {
         r.mutable_location()->set_lat(0);
         r.mutable_location()->set_lng(0);
       }),
       "location"},
      {"duty: lat 91", duty_with([](auto& r) { r.mutable_location()->set_lat(91); }),
       "location.lat"},
      {"duty: lng NaN", duty_with([](auto& r) { r.mutable_location()->set_lng(std::nan("")); }),
       "location.lng"},
      {"duty: no volunteer", duty_with([](auto& r) { r.clear_volunteer_id(); }), "volunteer_id"},
      // ReportLocation.
      {"locate: both ids", locate_with([&](auto& r) { r.set_unit_id(team.id()); }), "unit_id"},
      {"locate: no location", locate_with([](auto& r) { r.clear_location(); }), "location"},
      {"locate: lng 181", locate_with([](auto& r) { r.mutable_location()->set_lng(181); }),
       "location.lng"},
      {"locate: fix an hour ahead",
       locate_with([&](auto& r) { r.set_fix_time_ms(now_ms + 3600 * 1000); }), "fix_time_ms"},
      {"locate: negative fix time", locate_with([](auto& r) { r.set_fix_time_ms(-1); }),
       "fix_time_ms"},
      {"locate: negative accuracy", locate_with([](auto& r) { r.set_accuracy_m(-3); }),
       "accuracy_m"},
      {"locate: accuracy NaN", locate_with([](auto& r) { r.set_accuracy_m(std::nanf("")); }),
       "accuracy_m"},
      {"locate: malformed unit id", locate_with([](auto& r) {
         r.clear_volunteer_id();
         r.set_unit_id("van 3");
       }),
       "unit_id"},
      // FindNearbyVolunteers.
      {"nearby: no center", nearby_with([](auto& r) { r.clear_center(); }), "center"},
      {"nearby: center lat 95", nearby_with([](auto& r) { r.mutable_center()->set_lat(95); }),
       "center.lat"},
      {"nearby: negative limit", nearby_with([](auto& r) { r.set_limit(-1); }), "limit"},
      {"nearby: NaN radius", nearby_with([](auto& r) { r.set_max_radius_m(std::nan("")); }),
       "max_radius_m"},
      {"nearby: negative radius", nearby_with([](auto& r) { r.set_max_radius_m(-5); }),
       "max_radius_m"},
      {"nearby: unknown certificate",
       nearby_with([](auto& r) { r.add_required_certificates(static_cast<v1::Certificate>(42)); }),
       "required_certificates[0]"},
      {"nearby: unset certificate", nearby_with([](auto& r) {
         r.add_required_certificates(v1::CERT_NURSE);
         r.add_required_certificates(v1::CERTIFICATE_UNSPECIFIED);
       }),
       "required_certificates[1]"},
      {"nearby: unknown duty status",
       nearby_with([](auto& r) { r.add_duty_statuses(static_cast<v1::DutyStatus>(8)); }),
       "duty_statuses[0]"},
      {"nearby: unknown unit kind", nearby_with([](auto& r) {
         r.set_include_units(true);
         r.add_unit_kinds(static_cast<v1::UnitKind>(12));
       }),
       "unit_kinds[0]"},
      {"nearby: bad skill token", nearby_with([](auto& r) { r.add_required_skills("first aid!"); }),
       "required_skills[0]"},
      // CreateUnit.
      {"unit: no kind", create_unit_with([](auto& r) { r.mutable_unit()->clear_kind(); }),
       "unit.kind"},
      {"unit: unknown kind",
       create_unit_with([](auto& r) { r.mutable_unit()->set_kind(static_cast<v1::UnitKind>(7)); }),
       "unit.kind"},
      {"unit: station without location",
       create_unit_with([](auto& r) { r.mutable_unit()->clear_location(); }), "unit.location"},
      {"unit: team without location", create_unit_with([](auto& r) {
         r.mutable_unit()->set_kind(v1::UNIT_TEAM);
         r.mutable_unit()->clear_location();
       }),
       "unit.location"},
      {"unit: no name", create_unit_with([](auto& r) { r.mutable_unit()->clear_name(); }),
       "unit.name"},
      {"unit: no community",
       create_unit_with([](auto& r) { r.mutable_unit()->clear_community_id(); }),
       "unit.community_id"},
      {"unit: bad phone", create_unit_with([](auto& r) { r.mutable_unit()->set_phone("12"); }),
       "unit.phone"},
      {"unit: capacity 101", create_unit_with([](auto& r) { r.mutable_unit()->set_capacity(101); }),
       "unit.capacity"},
      {"unit: bad equipment token",
       create_unit_with([](auto& r) { r.mutable_unit()->add_equipment("wheel chair"); }),
       "unit.equipment[0]"},
      {"unit: leader not a member", create_unit_with([&](auto& r) {
         r.mutable_unit()->add_member_volunteer_ids(known.id());
         r.mutable_unit()->set_leader_volunteer_id(other.id());
       }),
       "unit.leader_volunteer_id"},
      {"unit: member of another district",
       create_unit_with([](auto& r) { r.mutable_unit()->add_member_volunteer_ids("nanxun-v1"); }),
       "unit.member_volunteer_ids[0]"},
      {"unit: member id malformed",
       create_unit_with([](auto& r) { r.mutable_unit()->add_member_volunteer_ids("v1"); }),
       "unit.member_volunteer_ids[0]"},
      {"unit: member repeated", create_unit_with([&](auto& r) {
         r.mutable_unit()->add_member_volunteer_ids(known.id());
         r.mutable_unit()->add_member_volunteer_ids(known.id());
       }),
       "unit.member_volunteer_ids[1]"},
      {"unit: client id like a server id", create_unit_with([](auto& r) { r.set_unit_id("u12"); }),
       "unit_id"},
      {"unit: client id too short", create_unit_with([](auto& r) { r.set_unit_id("s7"); }),
       "unit_id"},
      {"unit: client id with slash", create_unit_with([](auto& r) { r.set_unit_id("station/07"); }),
       "unit_id"},
      // UpdateUnit.
      {"update unit: immutable kind",
       update_unit_with({"kind"}, [](auto& u) { u.set_kind(v1::UNIT_VAN); }), "update_mask"},
      {"update unit: output-only id", update_unit_with({"id"}, no_change), "update_mask"},
      {"update unit: empty mask", update_unit_with({}, [](auto& u) { u.set_name("Red team"); }),
       "update_mask"},
      {"update unit: capacity 500",
       update_unit_with({"capacity"}, [](auto& u) { u.set_capacity(500); }), "unit.capacity"},
      {"update unit: leader not a member",
       update_unit_with({"leader_volunteer_id"},
                        [&](auto& u) { u.set_leader_volunteer_id(other.id()); }),
       "unit.leader_volunteer_id"},
      {"update unit: location removed from a team", update_unit_with({"location"}, no_change),
       "unit.location"},
      // CreatePairing.
      {"pairing: bad resident phone",
       pairing_with([](auto& r) { r.mutable_resident()->set_phone("555"); }), "resident.phone"},
      {"pairing: no resident phone",
       pairing_with([](auto& r) { r.mutable_resident()->clear_phone(); }), "resident.phone"},
      {"pairing: no community",
       pairing_with([](auto& r) { r.mutable_resident()->clear_community_id(); }),
       "resident.community_id"},
      {"pairing: no resident name",
       pairing_with([](auto& r) { r.mutable_resident()->clear_name(); }), "resident.name"},
      {"pairing: volunteer id malformed", pairing_with([](auto& r) { r.set_volunteer_id("v12"); }),
       "volunteer_id"},
      {"pairing: no volunteer", pairing_with([](auto& r) { r.clear_volunteer_id(); }),
       "volunteer_id"},
      {"pairing: volunteer of another district",
       pairing_with([](auto& r) { r.set_volunteer_id("nanxun-v1"); }), "volunteer_id"},
      {"pairing: unknown recurrence",
       pairing_with([](auto& r) { r.set_recurrence(static_cast<v1::Recurrence>(9)); }),
       "recurrence"},
      {"pairing: notes too long",
       pairing_with([](auto& r) { r.set_notes(std::string(1001, 'n')); }), "notes"},
  };
  ASSERT_GE(cases.size(), 30u);

  const int64_t keys_before = KeyCount();
  const int64_t events_before = StreamLength();
  for (const Malformed& m : cases) {
    grpc::Status s = m.call();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << m.name << ": " << s.error_code() << " " << s.error_message();
    EXPECT_THAT(BadFields(s), Contains(m.field)) << m.name << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(m.field), std::string::npos)
        << m.name << ": " << s.error_message();
  }
  EXPECT_EQ(KeyCount(), keys_before);
  EXPECT_EQ(StreamLength(), events_before);
  // Nothing changed on the records the cases aimed at either.
  v1::Volunteer after = Get(known.id());
  EXPECT_EQ(after.update_time_ms(), known.update_time_ms());
  EXPECT_EQ(after.duty_status(), v1::DUTY_OFF);
  EXPECT_FALSE(after.has_location());
  v1::GetUnitRequest get_team;
  get_team.set_id(team.id());
  v1::Unit team_after;
  ASSERT_TRUE(units->GetUnit(Ctx(admin).get(), get_team, &team_after).ok());
  EXPECT_EQ(team_after.SerializeAsString(), team.SerializeAsString());
}

// ---------------------------------------------------------------------------------------
// Roles and masking

TEST_F(VolunteerE2ETest, RolesAndMasking) {
  auto stub = Vol();
  const v1::LatLng area = NewArea();
  v1::Volunteer spec = ValidVolunteer();
  spec.add_skills("cooking");
  const v1::Volunteer v1v = Register(spec);
  const v1::Volunteer v2v = RegisterNew();
  ASSERT_FALSE(v1v.id().empty());
  ASSERT_FALSE(v2v.id().empty());
  const std::string phone = v1v.phone();
  const v1::LatLng where = Offset(area, 250, -120);
  OnDuty(v1v.id(), where);

  const std::string intake = Token(v1::ROLE_INTAKE);
  const std::string op = Token(v1::ROLE_OPERATOR);
  const std::string kiosk = Token(v1::ROLE_KIOSK, "wuxing", "kiosk-7");
  const std::string self = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", v1v.id());
  const std::string resident = Token(v1::ROLE_RESIDENT_APP);
  const std::string elsewhere = Token(v1::ROLE_OPERATOR, "nanxun");

  v1::Volunteer got;
  // INTAKE: masked phone, no live location.
  ASSERT_TRUE(GetVolunteer(v1v.id(), intake, &got).ok());
  EXPECT_EQ(got.phone(), Masked(phone));
  EXPECT_EQ(got.phone().substr(3, 4), "****");
  EXPECT_FALSE(got.has_location());
  EXPECT_THAT(got.skills(), ElementsAre("cooking"));
  EXPECT_EQ(got.duty_status(), v1::DUTY_ON);
  // OPERATOR: everything.
  ASSERT_TRUE(GetVolunteer(v1v.id(), op, &got).ok());
  EXPECT_EQ(got.phone(), phone);
  ASSERT_TRUE(got.has_location());
  EXPECT_DOUBLE_EQ(got.location().lat(), where.lat());
  EXPECT_DOUBLE_EQ(got.location().lng(), where.lng());
  // VOLUNTEER_APP bound to v1: all of v1, nothing of v2.
  ASSERT_TRUE(GetVolunteer(v1v.id(), self, &got).ok());
  EXPECT_EQ(got.phone(), phone);
  EXPECT_TRUE(got.has_location());
  EXPECT_EQ(GetVolunteer(v2v.id(), self, &got).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // KIOSK: name, masked phone and points only.
  v1::Volunteer at_kiosk;
  ASSERT_TRUE(GetVolunteer(v1v.id(), kiosk, &at_kiosk).ok());
  EXPECT_EQ(at_kiosk.id(), v1v.id());
  EXPECT_EQ(at_kiosk.name(), v1v.name());
  EXPECT_EQ(at_kiosk.phone(), Masked(phone));
  EXPECT_EQ(at_kiosk.points_balance(), 0);
  EXPECT_THAT(at_kiosk.skills(), IsEmpty());
  EXPECT_FALSE(at_kiosk.has_location());
  EXPECT_EQ(at_kiosk.location_time_ms(), 0);
  EXPECT_FALSE(at_kiosk.has_reliability());
  EXPECT_TRUE(at_kiosk.home_community_id().empty());
  EXPECT_EQ(at_kiosk.duty_status(), v1::DUTY_STATUS_UNSPECIFIED);
  // KIOSK lists only with a phone or external id filter.
  v1::ListVolunteersRequest list;
  v1::ListVolunteersResponse listed;
  EXPECT_EQ(stub->ListVolunteers(Ctx(kiosk).get(), list, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  list.set_community_id("wx-aiguo");
  EXPECT_EQ(stub->ListVolunteers(Ctx(kiosk).get(), list, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  list.Clear();
  list.set_phone(absl::StrCat("+86 ", phone));
  ASSERT_TRUE(stub->ListVolunteers(Ctx(kiosk).get(), list, &listed).ok());
  ASSERT_EQ(listed.volunteers_size(), 1);
  EXPECT_EQ(listed.volunteers(0).id(), v1v.id());
  EXPECT_EQ(listed.volunteers(0).phone(), Masked(phone));
  EXPECT_THAT(listed.volunteers(0).skills(), IsEmpty());
  list.Clear();
  list.set_external_id(v2v.external_id());
  ASSERT_TRUE(stub->ListVolunteers(Ctx(kiosk).get(), list, &listed).ok());
  ASSERT_EQ(listed.volunteers_size(), 1);
  EXPECT_EQ(listed.volunteers(0).id(), v2v.id());
  // KIOSK may not search, register or change anyone.
  v1::FindNearbyVolunteersResponse near;
  EXPECT_EQ(stub->FindNearbyVolunteers(Ctx(kiosk).get(), Around(where), &near).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SetDuty(v1v.id(), v1::DUTY_OFF, std::nullopt, &got, kiosk).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // RESIDENT_APP may call nothing here.
  EXPECT_EQ(GetVolunteer(v1v.id(), resident, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::RegisterVolunteerRequest reg;
  *reg.mutable_volunteer() = ValidVolunteer();
  v1::RegisterVolunteerResponse reg_resp;
  EXPECT_EQ(stub->RegisterVolunteer(Ctx(resident).get(), reg, &reg_resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(stub->FindNearbyVolunteers(Ctx(resident).get(), Around(where), &near).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListVolunteersRequest by_phone;
  by_phone.set_phone(phone);
  EXPECT_EQ(stub->ListVolunteers(Ctx(resident).get(), by_phone, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SetDuty(v1v.id(), v1::DUTY_OFF, std::nullopt, &got, resident).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // INTAKE registers, and sees the new volunteer's phone masked.
  v1::RegisterVolunteerRequest by_intake;
  *by_intake.mutable_volunteer() = ValidVolunteer();
  ASSERT_TRUE(stub->RegisterVolunteer(Ctx(intake).get(), by_intake, &reg_resp).ok());
  EXPECT_EQ(reg_resp.volunteer().phone(), Masked(by_intake.volunteer().phone()));
  // INTAKE may not change duty or profiles.
  EXPECT_EQ(SetDuty(v1v.id(), v1::DUTY_OFF, std::nullopt, &got, intake).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // No or unknown token.
  EXPECT_EQ(GetVolunteer(v1v.id(), "", &got).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(GetVolunteer(v1v.id(), "yy_not_a_token", &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A token of another district.
  EXPECT_EQ(GetVolunteer(v1v.id(), elsewhere, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListVolunteersRequest wuxing_list;
  wuxing_list.set_district("wuxing");
  EXPECT_EQ(stub->ListVolunteers(Ctx(elsewhere).get(), wuxing_list, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::FindNearbyVolunteersRequest wuxing_near = Around(where);
  wuxing_near.set_district("wuxing");
  EXPECT_EQ(stub->FindNearbyVolunteers(Ctx(elsewhere).get(), wuxing_near, &near).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SetDuty(v1v.id(), v1::DUTY_OFF, std::nullopt, &got, elsewhere).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // FindNearby by INTAKE: no phone, no location, distance kept.
  const v1::LatLng center = Offset(area, 0, 0);
  v1::FindNearbyVolunteersResponse seen = Nearby(Around(center), intake);
  const v1::NearbyCandidate* c = Find(seen, v1v.id());
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->volunteer().phone().empty());
  EXPECT_FALSE(c->volunteer().has_location());
  EXPECT_NEAR(c->distance_m(), Haversine(center, where), kDistanceToleranceM);
  // The same search by an OPERATOR shows both.
  seen = Nearby(Around(center), op);
  c = Find(seen, v1v.id());
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->volunteer().phone(), phone);
  EXPECT_TRUE(c->volunteer().has_location());
}

// ---------------------------------------------------------------------------------------
// Duty and location

TEST_F(VolunteerE2ETest, DutyStatusControlsWhoIsFound) {
  const v1::LatLng center = NewArea();
  const v1::Volunteer v = RegisterNew();
  ASSERT_FALSE(v.id().empty());
  v1::Volunteer out;

  // ON needs a location; nothing changes without one.
  grpc::Status s = SetDuty(v.id(), v1::DUTY_ON, std::nullopt, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("location"));
  EXPECT_EQ(Get(v.id()).duty_status(), v1::DUTY_OFF);

  const v1::LatLng a = Offset(center, 812, -455);
  const int64_t events = StreamLength();
  v1::Volunteer on = OnDuty(v.id(), a);
  EXPECT_EQ(on.duty_status(), v1::DUTY_ON);
  ASSERT_TRUE(on.has_location());
  EXPECT_DOUBLE_EQ(on.location().lat(), a.lat());
  EXPECT_DOUBLE_EQ(on.location().lng(), a.lng());
  EXPECT_GT(on.location_time_ms(), 0);
  EXPECT_EQ(StreamLength(), events + 1);

  v1::FindNearbyVolunteersResponse found = Nearby(Around(center));
  ASSERT_THAT(Ids(found), ElementsAre(v.id()));
  EXPECT_NEAR(found.candidates(0).distance_m(), Haversine(center, a), kDistanceToleranceM);
  EXPECT_EQ(found.candidates(0).capacity_left(), 1);
  EXPECT_EQ(found.candidates(0).volunteer().duty_status(), v1::DUTY_ON);

  // ON again at the same place: no new status, no profile change.
  v1::Volunteer again = OnDuty(v.id(), a);
  EXPECT_EQ(again.duty_status(), v1::DUTY_ON);
  EXPECT_EQ(again.update_time_ms(), on.update_time_ms());

  // BUSY keeps the location but is found only when asked for.
  v1::Volunteer busy;
  ASSERT_TRUE(SetDuty(v.id(), v1::DUTY_BUSY, std::nullopt, &busy).ok());
  EXPECT_EQ(busy.duty_status(), v1::DUTY_BUSY);
  EXPECT_TRUE(busy.has_location());
  EXPECT_THAT(Ids(Nearby(Around(center))), IsEmpty());
  v1::FindNearbyVolunteersRequest busy_too = Around(center);
  busy_too.add_duty_statuses(v1::DUTY_BUSY);
  found = Nearby(busy_too);
  ASSERT_THAT(Ids(found), ElementsAre(v.id()));
  EXPECT_NEAR(found.candidates(0).distance_m(), Haversine(center, a), kDistanceToleranceM);
  busy_too.add_duty_statuses(v1::DUTY_ON);
  EXPECT_THAT(Ids(Nearby(busy_too)), ElementsAre(v.id()));
  v1::FindNearbyVolunteersRequest on_only = Around(center);
  on_only.add_duty_statuses(v1::DUTY_ON);
  EXPECT_THAT(Ids(Nearby(on_only)), IsEmpty());

  // BUSY again is a no-op returning the volunteer unchanged.
  const int64_t events_busy = StreamLength();
  v1::Volunteer busy_again;
  ASSERT_TRUE(SetDuty(v.id(), v1::DUTY_BUSY, std::nullopt, &busy_again).ok());
  EXPECT_EQ(busy_again.SerializeAsString(), busy.SerializeAsString());
  EXPECT_EQ(StreamLength(), events_busy);

  // OFF forgets the live location; the volunteer is not found whatever is asked.
  v1::Volunteer off;
  ASSERT_TRUE(SetDuty(v.id(), v1::DUTY_OFF, a, &off).ok());
  EXPECT_EQ(off.duty_status(), v1::DUTY_OFF);
  EXPECT_FALSE(off.has_location());
  EXPECT_EQ(off.location_time_ms(), 0);
  EXPECT_FALSE(Get(v.id()).has_location());
  v1::FindNearbyVolunteersRequest any = Around(center);
  for (v1::DutyStatus d : {v1::DUTY_ON, v1::DUTY_BUSY, v1::DUTY_OFF}) any.add_duty_statuses(d);
  EXPECT_THAT(Ids(Nearby(any)), IsEmpty());
  EXPECT_EQ(redis_->Command({"SISMEMBER", "{d:wuxing}:onduty", v.id()})->integer, 0);

  // OFF again: unchanged, no event.
  const int64_t events_off = StreamLength();
  v1::Volunteer off_again;
  ASSERT_TRUE(SetDuty(v.id(), v1::DUTY_OFF, std::nullopt, &off_again).ok());
  EXPECT_EQ(off_again.SerializeAsString(), off.SerializeAsString());
  EXPECT_EQ(StreamLength(), events_off);

  // A bound VOLUNTEER_APP token may name nobody and acts for its volunteer.
  const std::string self = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", v.id());
  const v1::LatLng b = Offset(center, -300, 95);
  v1::Volunteer back;
  ASSERT_TRUE(SetDuty("", v1::DUTY_ON, b, &back, self).ok());
  EXPECT_EQ(back.id(), v.id());
  EXPECT_EQ(back.duty_status(), v1::DUTY_ON);
  found = Nearby(Around(center));
  ASSERT_THAT(Ids(found), ElementsAre(v.id()));
  EXPECT_NEAR(found.candidates(0).distance_m(), Haversine(center, b), kDistanceToleranceM);
  // ... and for nobody else.
  const v1::Volunteer stranger = RegisterNew();
  EXPECT_EQ(SetDuty(stranger.id(), v1::DUTY_ON, b, &out, self).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(stranger.id()).duty_status(), v1::DUTY_OFF);
}

TEST_F(VolunteerE2ETest, ReportLocationMovesOnDutyVolunteersOnly) {
  const v1::LatLng center = NewArea();
  const v1::Volunteer v = RegisterNew();
  ASSERT_FALSE(v.id().empty());
  v1::ReportLocationResponse fix;

  // Off duty: ignored.
  ASSERT_TRUE(Locate(v.id(), "", Offset(center, 10, 10), 0, &fix).ok());
  EXPECT_FALSE(fix.stored());
  EXPECT_GT(fix.next_report_s(), 0);
  EXPECT_FALSE(Get(v.id()).has_location());
  EXPECT_THAT(Ids(Nearby(Around(center))), IsEmpty());

  const v1::LatLng a = Offset(center, 1500, 0);
  const v1::Volunteer on = OnDuty(v.id(), a);
  ASSERT_GT(on.location_time_ms(), 0);

  // On duty: a newer fix is stored (no domain event) and the search follows it.
  const int64_t events = StreamLength();
  const v1::LatLng b = Offset(center, 420, 730);
  const int64_t t1 = on.location_time_ms() + 1000;
  ASSERT_TRUE(Locate(v.id(), "", b, t1, &fix).ok());
  EXPECT_TRUE(fix.stored());
  EXPECT_GE(fix.next_report_s(), 15);
  EXPECT_LE(fix.next_report_s(), 30);
  EXPECT_EQ(StreamLength(), events);
  v1::FindNearbyVolunteersResponse found = Nearby(Around(center));
  ASSERT_THAT(Ids(found), ElementsAre(v.id()));
  EXPECT_NEAR(found.candidates(0).distance_m(), Haversine(center, b), kDistanceToleranceM);
  v1::Volunteer read = Get(v.id());
  ASSERT_TRUE(read.has_location());
  EXPECT_DOUBLE_EQ(read.location().lat(), b.lat());
  EXPECT_DOUBLE_EQ(read.location().lng(), b.lng());
  EXPECT_EQ(read.location_time_ms(), t1);
  EXPECT_EQ(read.update_time_ms(), on.update_time_ms());  // Location is not a profile change.

  // An older fix is ignored.
  const v1::LatLng stale = Offset(center, -2000, -2000);
  ASSERT_TRUE(Locate(v.id(), "", stale, t1 - 500, &fix).ok());
  EXPECT_FALSE(fix.stored());
  found = Nearby(Around(center));
  ASSERT_THAT(Ids(found), ElementsAre(v.id()));
  EXPECT_NEAR(found.candidates(0).distance_m(), Haversine(center, b), kDistanceToleranceM);
  EXPECT_EQ(Get(v.id()).location_time_ms(), t1);
  // So is a second fix with the same time.
  ASSERT_TRUE(Locate(v.id(), "", stale, t1, &fix).ok());
  EXPECT_FALSE(fix.stored());

  // The volunteer's own bound token reports without naming anyone.
  const std::string self = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", v.id());
  const v1::LatLng c = Offset(center, -95, 40);
  ASSERT_TRUE(Locate("", "", c, t1 + 1, &fix, self).ok());
  EXPECT_TRUE(fix.stored());
  found = Nearby(Around(center));
  ASSERT_THAT(Ids(found), ElementsAre(v.id()));
  EXPECT_NEAR(found.candidates(0).distance_m(), Haversine(center, c), kDistanceToleranceM);
  // It may not report for someone else.
  const v1::Volunteer stranger = RegisterNew();
  EXPECT_EQ(Locate(stranger.id(), "", c, 0, &fix, self).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Off duty again: later fixes are ignored and the volunteer stays unfound.
  v1::Volunteer off;
  ASSERT_TRUE(SetDuty(v.id(), v1::DUTY_OFF, std::nullopt, &off).ok());
  ASSERT_TRUE(Locate(v.id(), "", b, 0, &fix).ok());
  EXPECT_FALSE(fix.stored());
  EXPECT_FALSE(Get(v.id()).has_location());
  EXPECT_THAT(Ids(Nearby(Around(center))), IsEmpty());
}

// ---------------------------------------------------------------------------------------
// FindNearbyVolunteers filters

TEST_F(VolunteerE2ETest, NearbyIsNearestFirstWithinLimitAndRadius) {
  const v1::LatLng center = NewArea();
  const std::vector<v1::LatLng> at = {Offset(center, 100, 20), Offset(center, -210, 230),
                                      Offset(center, 40, -590), Offset(center, 880, 300),
                                      Offset(center, -2500, 1900)};
  // Registered far-first so that the order cannot come from ids.
  std::vector<std::string> ids(at.size());
  for (int i = static_cast<int>(at.size()) - 1; i >= 0; --i) {
    ids[i] = RegisterNew().id();
    ASSERT_FALSE(ids[i].empty());
    OnDuty(ids[i], at[i]);
  }

  v1::FindNearbyVolunteersResponse all = Nearby(Around(center));
  ASSERT_THAT(Ids(all), ElementsAreArray(ids));
  for (int i = 0; i < all.candidates_size(); ++i) {
    EXPECT_NEAR(all.candidates(i).distance_m(), Haversine(center, at[i]), kDistanceToleranceM) << i;
    if (i > 0) {
      EXPECT_LE(all.candidates(i - 1).distance_m(), all.candidates(i).distance_m());
    }
  }
  EXPECT_DOUBLE_EQ(all.searched_radius_m(), 5000);  // The default, with fewer than k found.

  v1::FindNearbyVolunteersRequest two = Around(center);
  two.set_limit(2);
  v1::FindNearbyVolunteersResponse first_two = Nearby(two);
  EXPECT_THAT(Ids(first_two), ElementsAre(ids[0], ids[1]));
  EXPECT_GT(first_two.searched_radius_m(), 0);
  EXPECT_LE(first_two.searched_radius_m(), 5000);

  v1::FindNearbyVolunteersRequest within = Around(center);
  within.set_max_radius_m(700);
  v1::FindNearbyVolunteersResponse close = Nearby(within);
  EXPECT_THAT(Ids(close), ElementsAre(ids[0], ids[1], ids[2]));
  EXPECT_DOUBLE_EQ(close.searched_radius_m(), 700);

  // The limit is capped, not refused.
  v1::FindNearbyVolunteersRequest many = Around(center);
  many.set_limit(100000);
  EXPECT_THAT(Ids(Nearby(many)), ElementsAreArray(ids));

  // The radius is capped at 50 km.
  v1::FindNearbyVolunteersRequest huge = Around(center);
  huge.set_max_radius_m(1e9);
  v1::FindNearbyVolunteersResponse capped = Nearby(huge);
  EXPECT_THAT(Ids(capped), ElementsAreArray(ids));
  EXPECT_DOUBLE_EQ(capped.searched_radius_m(), 50000);

  // A radius that reaches nobody, or a place with nobody, is an empty answer.
  v1::FindNearbyVolunteersRequest tiny = Around(center);
  tiny.set_max_radius_m(50);
  EXPECT_THAT(Ids(Nearby(tiny)), IsEmpty());
  v1::FindNearbyVolunteersResponse nobody = Nearby(Around(NewArea()));
  EXPECT_EQ(nobody.candidates_size(), 0);

  // exclude_ids leaves them out and the next ones move up.
  v1::FindNearbyVolunteersRequest excluding = Around(center);
  excluding.set_limit(2);
  excluding.add_exclude_ids(ids[0]);
  excluding.add_exclude_ids(ids[2]);
  EXPECT_THAT(Ids(Nearby(excluding)), ElementsAre(ids[1], ids[3]));
}

TEST_F(VolunteerE2ETest, NearbyFiltersBySkillsAndCertificates) {
  const v1::LatLng center = NewArea();
  auto place = [&](std::function<void(v1::Volunteer&)> change, double north_m) {
    v1::Volunteer spec = ValidVolunteer();
    change(spec);
    std::string id = Register(spec).id();
    EXPECT_FALSE(id.empty());
    OnDuty(id, Offset(center, north_m, 0));
    return id;
  };
  const std::string doctor = place(
      [](auto& v) {
        v.add_certificates(v1::CERT_MEDICAL);
        v.add_skills("cooking");
      },
      100);
  const std::string self_taught = place([](auto& v) { v.add_skills("medical"); }, 300);
  const std::string driver = place(
      [](auto& v) {
        v.add_certificates(v1::CERT_DRIVER);
        v.add_certificates(v1::CERT_LICENSED_SOCIAL_WORKER);
        v.add_skills("cooking");
      },
      500);
  const std::string plain = place([](auto&) {}, 700);

  auto search = [&](std::function<void(v1::FindNearbyVolunteersRequest&)> change) {
    v1::FindNearbyVolunteersRequest req = Around(center);
    change(req);
    return Ids(Nearby(req));
  };
  EXPECT_THAT(search([](auto&) {}), ElementsAre(doctor, self_taught, driver, plain));
  // A certificate's token counts as a skill.
  EXPECT_THAT(search([](auto& r) { r.add_required_skills("medical"); }),
              ElementsAre(doctor, self_taught));
  EXPECT_THAT(search([](auto& r) { r.add_required_skills("Medical "); }),
              ElementsAre(doctor, self_taught));
  EXPECT_THAT(search([](auto& r) { r.add_required_skills("licensed_social_worker"); }),
              ElementsAre(driver));
  EXPECT_THAT(search([](auto& r) { r.add_required_skills("cooking"); }),
              ElementsAre(doctor, driver));
  EXPECT_THAT(search([](auto& r) {
                r.add_required_skills("cooking");
                r.add_required_skills("medical");
              }),
              ElementsAre(doctor));
  EXPECT_THAT(search([](auto& r) { r.add_required_skills("haircut"); }), IsEmpty());
  // A certificate is only satisfied by the certificate.
  EXPECT_THAT(search([](auto& r) { r.add_required_certificates(v1::CERT_MEDICAL); }),
              ElementsAre(doctor));
  EXPECT_THAT(search([](auto& r) {
                r.add_required_certificates(v1::CERT_DRIVER);
                r.add_required_certificates(v1::CERT_LICENSED_SOCIAL_WORKER);
              }),
              ElementsAre(driver));
  EXPECT_THAT(search([](auto& r) {
                r.add_required_certificates(v1::CERT_DRIVER);
                r.add_required_certificates(v1::CERT_MEDICAL);
              }),
              IsEmpty());
  EXPECT_THAT(search([&](auto& r) {
                r.add_required_skills("medical");
                r.add_exclude_ids(doctor);
              }),
              ElementsAre(self_taught));

  // A profile change of someone on duty is searchable at once.
  v1::UpdateVolunteerRequest update;
  update.mutable_volunteer()->set_id(plain);
  update.mutable_volunteer()->add_skills("haircut");
  update.mutable_update_mask()->add_paths("skills");
  v1::Volunteer updated;
  ASSERT_TRUE(Vol()->UpdateVolunteer(Ctx(Admin()).get(), update, &updated).ok());
  EXPECT_THAT(search([](auto& r) { r.add_required_skills("haircut"); }), ElementsAre(plain));
}

TEST_F(VolunteerE2ETest, NearbyAvailableNowUsesShanghaiTimeAndCapacity) {
  const v1::LatLng center = NewArea();
  const auto [today, minute] = ShanghaiDayAndMinute();
  // Available from shortly before now until the end of tomorrow (robust across midnight).
  v1::Volunteer now_spec = ValidVolunteer();
  *now_spec.add_availability() = Slot(today, std::max(0, minute - 30), 1440);
  *now_spec.add_availability() = Slot(DayAfter(today, 1), 0, 1440);
  // Available only on days that are neither today nor tomorrow, and earlier today.
  v1::Volunteer later_spec = ValidVolunteer();
  *later_spec.add_availability() = Slot(DayAfter(today, 2), 0, 1440);
  *later_spec.add_availability() = Slot(DayAfter(today, 4), 480, 1080);
  if (minute >= 10) *later_spec.add_availability() = Slot(today, 0, minute - 5);
  // No slots: whenever on duty.
  v1::Volunteer always_spec = ValidVolunteer();

  const std::string available = Register(now_spec).id();
  const std::string unavailable = Register(later_spec).id();
  const std::string always = Register(always_spec).id();
  ASSERT_FALSE(available.empty());
  ASSERT_FALSE(unavailable.empty());
  ASSERT_FALSE(always.empty());
  OnDuty(available, Offset(center, 100, 0));
  OnDuty(unavailable, Offset(center, 200, 0));
  OnDuty(always, Offset(center, 300, 0));

  v1::FindNearbyVolunteersRequest req = Around(center);
  EXPECT_THAT(Ids(Nearby(req)), ElementsAre(available, unavailable, always));
  req.set_available_now(true);
  v1::FindNearbyVolunteersResponse now = Nearby(req);
  EXPECT_THAT(Ids(now), ElementsAre(available, always));
  for (const auto& c : now.candidates()) EXPECT_EQ(c.capacity_left(), 1);
}

TEST_F(VolunteerE2ETest, NearbyIncludesActiveUnitsOfTheAskedKinds) {
  const v1::LatLng center = NewArea();
  const std::string community = NewCommunity();
  const v1::Volunteer v = RegisterNew();
  ASSERT_FALSE(v.id().empty());
  const v1::LatLng v_at = Offset(center, 50, 0);
  OnDuty(v.id(), v_at);

  const v1::LatLng station_at = Offset(center, 0, 210);
  v1::Unit station_spec = Station(station_at, community);
  station_spec.add_equipment("blood_pressure_meter");
  const v1::Unit station = MustCreateUnit(station_spec);
  const v1::LatLng van_at = Offset(center, -400, 0);
  v1::Unit van_spec = Station(van_at, community);
  van_spec.set_kind(v1::UNIT_VAN);
  van_spec.set_name("Van 3");
  van_spec.add_skills("medical");
  const v1::Unit van = MustCreateUnit(van_spec);
  v1::Unit closed_spec = Station(Offset(center, 0, -30), community);
  closed_spec.set_active(false);
  const v1::Unit closed = MustCreateUnit(closed_spec);
  ASSERT_FALSE(station.id().empty());
  ASSERT_FALSE(van.id().empty());
  ASSERT_FALSE(closed.id().empty());

  // Units only when asked for, active ones only.
  EXPECT_THAT(Ids(Nearby(Around(center))), ElementsAre(v.id()));
  v1::FindNearbyVolunteersRequest with_units = Around(center);
  with_units.set_include_units(true);
  v1::FindNearbyVolunteersResponse all = Nearby(with_units);
  EXPECT_THAT(Ids(all), ElementsAre(v.id(), station.id(), van.id()));
  const v1::NearbyCandidate* s = Find(all, station.id());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->has_unit());
  EXPECT_EQ(s->unit().kind(), v1::UNIT_STATION);
  EXPECT_NEAR(s->distance_m(), Haversine(center, station_at), kDistanceToleranceM);
  EXPECT_EQ(s->capacity_left(), 1);
  const v1::NearbyCandidate* w = Find(all, van.id());
  ASSERT_NE(w, nullptr);
  EXPECT_NEAR(w->distance_m(), Haversine(center, van_at), kDistanceToleranceM);

  v1::FindNearbyVolunteersRequest stations = with_units;
  stations.add_unit_kinds(v1::UNIT_STATION);
  EXPECT_THAT(Ids(Nearby(stations)), ElementsAre(v.id(), station.id()));
  v1::FindNearbyVolunteersRequest vans_and_teams = with_units;
  vans_and_teams.add_unit_kinds(v1::UNIT_VAN);
  vans_and_teams.add_unit_kinds(v1::UNIT_TEAM);
  EXPECT_THAT(Ids(Nearby(vans_and_teams)), ElementsAre(v.id(), van.id()));
  // Units match skills by their skills and equipment.
  v1::FindNearbyVolunteersRequest medical = with_units;
  medical.add_required_skills("medical");
  EXPECT_THAT(Ids(Nearby(medical)), ElementsAre(van.id()));
  v1::FindNearbyVolunteersRequest meter = with_units;
  meter.add_required_skills("blood_pressure_meter");
  EXPECT_THAT(Ids(Nearby(meter)), ElementsAre(station.id()));

  // Activating the closed station makes it found, at once.
  v1::Unit open = closed;
  open.set_active(true);
  v1::Unit opened;
  ASSERT_TRUE(UpdateUnit(open, {"active"}, &opened).ok());
  EXPECT_TRUE(opened.active());
  EXPECT_THAT(Ids(Nearby(with_units)), ElementsAre(closed.id(), v.id(), station.id(), van.id()));
  // And deactivating it again hides it.
  open.set_active(false);
  ASSERT_TRUE(UpdateUnit(open, {"active"}, &opened).ok());
  EXPECT_THAT(Ids(Nearby(with_units)), ElementsAre(v.id(), station.id(), van.id()));
}

// ---------------------------------------------------------------------------------------
// UpdateVolunteer

TEST_F(VolunteerE2ETest, UpdateChangesOnlyTheMaskedFields) {
  auto stub = Vol();
  v1::Volunteer spec = ValidVolunteer();
  spec.set_name("Li Na");
  spec.add_skills("cooking");
  spec.add_certificates(v1::CERT_FIRST_AID);
  spec.add_certificates(v1::CERT_NURSE);
  const v1::Volunteer v = Register(spec);
  ASSERT_FALSE(v.id().empty());

  // Only skills, although the request carries another name.
  v1::UpdateVolunteerRequest req;
  *req.mutable_volunteer() = v;
  req.mutable_volunteer()->set_name("Somebody Else");
  req.mutable_volunteer()->clear_skills();
  req.mutable_volunteer()->add_skills("Driver");
  req.mutable_volunteer()->add_skills("computer");
  req.mutable_update_mask()->add_paths("skills");
  const int64_t events = StreamLength();
  v1::Volunteer updated;
  grpc::Status s = stub->UpdateVolunteer(Ctx(Admin()).get(), req, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.name(), "Li Na");
  EXPECT_THAT(updated.skills(), ElementsAre("computer", "driver"));
  EXPECT_THAT(updated.certificates(), ElementsAre(v1::CERT_NURSE, v1::CERT_FIRST_AID));
  EXPECT_EQ(updated.phone(), v.phone());
  EXPECT_GE(updated.update_time_ms(), v.update_time_ms());
  EXPECT_EQ(updated.create_time_ms(), v.create_time_ms());
  EXPECT_EQ(StreamLength(), events + 1);
  v1::Volunteer read = Get(v.id());
  EXPECT_EQ(read.name(), "Li Na");
  EXPECT_THAT(read.skills(), ElementsAre("computer", "driver"));

  // The volunteer's own app may change their profile, but not their certificates.
  const std::string self = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", v.id());
  v1::UpdateVolunteerRequest certs;
  certs.mutable_volunteer()->set_id(v.id());
  certs.mutable_volunteer()->add_certificates(v1::CERT_MEDICAL);
  certs.mutable_update_mask()->add_paths("certificates");
  const int64_t keys = KeyCount();
  const int64_t events_before = StreamLength();
  EXPECT_EQ(stub->UpdateVolunteer(Ctx(self).get(), certs, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::UpdateVolunteerRequest everything;
  *everything.mutable_volunteer() = read;
  everything.mutable_volunteer()->add_certificates(v1::CERT_MEDICAL);
  everything.mutable_update_mask()->add_paths("*");
  EXPECT_EQ(stub->UpdateVolunteer(Ctx(self).get(), everything, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events_before);
  EXPECT_THAT(Get(v.id()).certificates(), ElementsAre(v1::CERT_NURSE, v1::CERT_FIRST_AID));
  v1::UpdateVolunteerRequest rename;
  rename.mutable_volunteer()->set_id(v.id());
  rename.mutable_volunteer()->set_name("Li Na (Aiguo)");
  rename.mutable_update_mask()->add_paths("name");
  ASSERT_TRUE(stub->UpdateVolunteer(Ctx(self).get(), rename, &updated).ok());
  EXPECT_EQ(updated.name(), "Li Na (Aiguo)");
  EXPECT_EQ(updated.phone(), v.phone());  // Their own phone, unmasked.
  // Sending back exactly the certificates they hold is not a change.
  v1::UpdateVolunteerRequest resend;
  *resend.mutable_volunteer() = Get(v.id());
  resend.mutable_volunteer()->set_name("Li Na");
  resend.mutable_update_mask()->add_paths("*");
  grpc::Status resent = stub->UpdateVolunteer(Ctx(self).get(), resend, &updated);
  EXPECT_TRUE(resent.ok()) << resent.error_message();
  EXPECT_EQ(Get(v.id()).name(), "Li Na");
  // Nor may it change anyone else.
  const v1::Volunteer stranger = RegisterNew();
  rename.mutable_volunteer()->set_id(stranger.id());
  EXPECT_EQ(stub->UpdateVolunteer(Ctx(self).get(), rename, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get(stranger.id()).name(), stranger.name());
  // INTAKE may not update at all.
  EXPECT_EQ(stub->UpdateVolunteer(Ctx(Token(v1::ROLE_INTAKE)).get(), rename, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // An operator may change the certificates.
  const std::string op = Token(v1::ROLE_OPERATOR);
  ASSERT_TRUE(stub->UpdateVolunteer(Ctx(op).get(), certs, &updated).ok());
  EXPECT_THAT(updated.certificates(), ElementsAre(v1::CERT_MEDICAL));
  EXPECT_THAT(updated.skills(), ElementsAre("computer", "driver"));
}

TEST_F(VolunteerE2ETest, UpdateWithStarReplacesEveryMutableFieldAndMovesThePhone) {
  auto stub = Vol();
  const v1::Volunteer v = RegisterNew();
  ASSERT_FALSE(v.id().empty());
  const std::string old_phone = v.phone();
  const std::string new_phone = NextPhone();
  v1::ListVolunteersRequest by_old, by_new;
  by_old.set_phone(old_phone);
  by_new.set_phone(new_phone);
  EXPECT_THAT(ListIds(by_old), ElementsAre(v.id()));
  EXPECT_THAT(ListIds(by_new), IsEmpty());

  v1::UpdateVolunteerRequest req;
  v1::Volunteer* n = req.mutable_volunteer();
  n->set_id(v.id());
  n->set_external_id("ext-not-mine");  // Immutable: ignored under "*".
  n->set_name("Wang Fang");
  n->set_phone(absl::StrCat(new_phone.substr(0, 3), "-", new_phone.substr(3)));
  n->set_home_community_id("wx-renhuangshan");
  n->add_skills("haircut");
  n->add_certificates(v1::CERT_FIRST_AID);
  n->add_languages("wuu-huzhou");
  *n->add_availability() = Slot(6, 540, 720);
  *n->add_availability() = Slot(1, 480, 600);
  n->set_capacity(3);
  n->set_duty_status(v1::DUTY_BUSY);  // Output only: ignored.
  req.mutable_update_mask()->add_paths("*");
  v1::Volunteer updated;
  grpc::Status s = stub->UpdateVolunteer(Ctx(Admin()).get(), req, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.id(), v.id());
  EXPECT_EQ(updated.external_id(), v.external_id());
  EXPECT_EQ(updated.name(), "Wang Fang");
  EXPECT_EQ(updated.phone(), new_phone);
  EXPECT_EQ(updated.home_community_id(), "wx-renhuangshan");
  EXPECT_THAT(updated.skills(), ElementsAre("haircut"));
  EXPECT_THAT(updated.certificates(), ElementsAre(v1::CERT_FIRST_AID));
  EXPECT_THAT(updated.languages(), ElementsAre("wuu-huzhou"));
  ASSERT_EQ(updated.availability_size(), 2);
  EXPECT_EQ(updated.availability(0).day_of_week(), 1);
  EXPECT_EQ(updated.availability(1).day_of_week(), 6);
  EXPECT_EQ(updated.capacity(), 3);
  EXPECT_EQ(updated.duty_status(), v1::DUTY_OFF);

  // The phone lookup follows the new phone.
  EXPECT_THAT(ListIds(by_new), ElementsAre(v.id()));
  EXPECT_THAT(ListIds(by_old), IsEmpty());
  by_new.set_phone(absl::StrCat("+86 ", new_phone));
  EXPECT_THAT(ListIds(by_new), ElementsAre(v.id()));
  // The external id lookup still finds the original one only.
  v1::ListVolunteersRequest by_ext;
  by_ext.set_external_id(v.external_id());
  EXPECT_THAT(ListIds(by_ext), ElementsAre(v.id()));
  by_ext.set_external_id("ext-not-mine");
  EXPECT_THAT(ListIds(by_ext), IsEmpty());
}

TEST_F(VolunteerE2ETest, VolunteerAppMayResendItsCertificatesInAnyOrder) {
  v1::Volunteer spec = ValidVolunteer();
  spec.add_certificates(v1::CERT_NURSE);
  spec.add_certificates(v1::CERT_FIRST_AID);
  const v1::Volunteer v = Register(spec);
  ASSERT_FALSE(v.id().empty());
  ASSERT_THAT(v.certificates(), ElementsAre(v1::CERT_NURSE, v1::CERT_FIRST_AID));
  const std::string self = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", v.id());
  // The app shows and sends them back in its own order, with a new name.
  v1::UpdateVolunteerRequest req;
  *req.mutable_volunteer() = v;
  req.mutable_volunteer()->set_name("Zhang Wei (Aiguo)");
  req.mutable_volunteer()->clear_certificates();
  req.mutable_volunteer()->add_certificates(v1::CERT_FIRST_AID);
  req.mutable_volunteer()->add_certificates(v1::CERT_NURSE);
  req.mutable_update_mask()->add_paths("*");
  v1::Volunteer updated;
  grpc::Status s = Vol()->UpdateVolunteer(Ctx(self).get(), req, &updated);
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(Get(v.id()).name(), "Zhang Wei (Aiguo)");
  EXPECT_THAT(Get(v.id()).certificates(), ElementsAre(v1::CERT_NURSE, v1::CERT_FIRST_AID));
  // Adding one is still refused.
  req.mutable_volunteer()->add_certificates(v1::CERT_MEDICAL);
  EXPECT_EQ(Vol()->UpdateVolunteer(Ctx(self).get(), req, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// ---------------------------------------------------------------------------------------
// ListVolunteers

TEST_F(VolunteerE2ETest, ListFiltersAndPagesInRegistrationOrder) {
  auto stub = Vol();
  const std::string community = NewCommunity();
  const v1::LatLng area = NewArea();
  auto add = [&](std::function<void(v1::Volunteer&)> change) {
    v1::Volunteer spec = ValidVolunteer();
    spec.set_home_community_id(community);
    change(spec);
    std::string id = Register(spec).id();
    EXPECT_FALSE(id.empty());
    return id;
  };
  const std::string a = add([](auto& v) { v.add_skills("cooking"); });
  const std::string b = add([](auto& v) { v.add_certificates(v1::CERT_DRIVER); });
  const std::string c = add([](auto& v) {
    v.add_skills("cooking");
    v.add_certificates(v1::CERT_MEDICAL);
  });
  const std::string d = add([](auto& v) { v.add_skills("medical"); });
  const std::string e = add([](auto&) {});
  const std::string f = add([](auto& v) { v.add_certificates(v1::CERT_DRIVER); });
  const std::string g = add([](auto& v) { v.add_skills("cooking"); });
  const std::vector<std::string> all = {a, b, c, d, e, f, g};
  // Someone elsewhere who matches every other filter.
  v1::Volunteer outsider = ValidVolunteer();
  outsider.add_skills("cooking");
  outsider.add_certificates(v1::CERT_DRIVER);
  const std::string out = Register(outsider).id();
  OnDuty(out, Offset(area, 500, 0));

  OnDuty(b, Offset(area, 100, 0));
  OnDuty(e, Offset(area, 200, 0));
  v1::Volunteer busy;
  OnDuty(f, Offset(area, 300, 0));
  ASSERT_TRUE(SetDuty(f, v1::DUTY_BUSY, std::nullopt, &busy).ok());

  v1::Unit team_spec = Station(area, community);
  team_spec.set_kind(v1::UNIT_TEAM);
  team_spec.set_name("Cooking team");
  team_spec.add_member_volunteer_ids(g);
  team_spec.add_member_volunteer_ids(c);
  team_spec.set_leader_volunteer_id(c);
  const v1::Unit team = MustCreateUnit(team_spec);
  ASSERT_FALSE(team.id().empty());

  auto list = [&](std::function<void(v1::ListVolunteersRequest&)> change) {
    v1::ListVolunteersRequest req;
    req.set_community_id(community);
    change(req);
    return ListIds(req);
  };
  EXPECT_THAT(list([](auto&) {}), ElementsAreArray(all));
  EXPECT_THAT(list([](auto& r) { r.set_skill("cooking"); }), ElementsAre(a, c, g));
  EXPECT_THAT(list([](auto& r) { r.set_skill("Medical"); }), ElementsAre(c, d));
  EXPECT_THAT(list([](auto& r) { r.set_skill("driver"); }), ElementsAre(b, f));
  EXPECT_THAT(list([](auto& r) { r.set_certificate(v1::CERT_DRIVER); }), ElementsAre(b, f));
  EXPECT_THAT(list([](auto& r) { r.set_certificate(v1::CERT_MEDICAL); }), ElementsAre(c));
  EXPECT_THAT(list([](auto& r) { r.set_duty_status(v1::DUTY_ON); }), ElementsAre(b, e));
  EXPECT_THAT(list([](auto& r) { r.set_duty_status(v1::DUTY_BUSY); }), ElementsAre(f));
  EXPECT_THAT(list([](auto& r) { r.set_duty_status(v1::DUTY_OFF); }), ElementsAre(a, c, d, g));
  EXPECT_THAT(list([&](auto& r) { r.set_team_id(team.id()); }), ElementsAre(c, g));
  EXPECT_THAT(list([&](auto& r) {
                r.set_team_id(team.id());
                r.set_skill("medical");
              }),
              ElementsAre(c));
  EXPECT_THAT(list([](auto& r) { r.set_community_id("wx-nobody-lives-here"); }), IsEmpty());
  // Without the community filter the outsider shows up too.
  v1::ListVolunteersRequest team_only;
  team_only.set_team_id(team.id());
  EXPECT_THAT(ListIds(team_only), ElementsAre(c, g));

  // Pages of two walk through all of them exactly once, in registration order.
  v1::ListVolunteersRequest req;
  req.set_community_id(community);
  req.set_page_size(2);
  std::vector<std::string> seen;
  std::string first_token;
  for (int pages = 0; pages < 20; ++pages) {
    v1::ListVolunteersResponse resp;
    grpc::Status s = stub->ListVolunteers(Ctx(Admin()).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_LE(resp.volunteers_size(), 2);
    for (const auto& v : resp.volunteers()) seen.push_back(v.id());
    if (resp.next_page_token().empty()) break;
    if (first_token.empty()) first_token = resp.next_page_token();
    req.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(seen, all);
  ASSERT_FALSE(first_token.empty());

  // A page token with other filters is refused.
  v1::ListVolunteersRequest other;
  other.set_community_id(community);
  other.set_skill("cooking");
  other.set_page_size(2);
  other.set_page_token(first_token);
  v1::ListVolunteersResponse resp;
  grpc::Status s = stub->ListVolunteers(Ctx(Admin()).get(), other, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("page_token"));
  // A different page size is fine.
  other.clear_skill();
  other.set_page_size(3);
  ASSERT_TRUE(stub->ListVolunteers(Ctx(Admin()).get(), other, &resp).ok());
  ASSERT_GE(resp.volunteers_size(), 1);
  EXPECT_EQ(resp.volunteers(0).id(), c);

  // INTAKE lists with masked phones and no locations.
  v1::ListVolunteersRequest masked;
  masked.set_community_id(community);
  ASSERT_TRUE(stub->ListVolunteers(Ctx(Token(v1::ROLE_INTAKE)).get(), masked, &resp).ok());
  ASSERT_EQ(resp.volunteers_size(), static_cast<int>(all.size()));
  for (const auto& v : resp.volunteers()) {
    EXPECT_EQ(v.phone().substr(3, 4), "****") << v.id();
    EXPECT_FALSE(v.has_location()) << v.id();
  }
}

TEST_F(VolunteerE2ETest, ListByPhoneOrExternalIdStillAppliesTheOtherFilters) {
  v1::Volunteer spec = ValidVolunteer();
  spec.add_skills("cooking");
  const v1::Volunteer v = Register(spec);
  ASSERT_FALSE(v.id().empty());
  v1::ListVolunteersRequest req;
  req.set_phone(v.phone());
  EXPECT_THAT(ListIds(req), ElementsAre(v.id()));
  req.set_skill("cooking");
  EXPECT_THAT(ListIds(req), ElementsAre(v.id()));
  req.set_skill("haircut");
  EXPECT_THAT(ListIds(req), IsEmpty());
  req.clear_skill();
  req.set_certificate(v1::CERT_MEDICAL);
  EXPECT_THAT(ListIds(req), IsEmpty());
  req.clear_certificate();
  req.set_team_id("wuxing-u99999999");
  EXPECT_THAT(ListIds(req), IsEmpty());
  v1::ListVolunteersRequest by_ext;
  by_ext.set_external_id(v.external_id());
  by_ext.set_skill("haircut");
  EXPECT_THAT(ListIds(by_ext), IsEmpty());
}

TEST_F(VolunteerE2ETest, ListWithABadSkillNamesTheSkillField) {
  v1::ListVolunteersRequest req;
  req.set_skill("a b");
  v1::ListVolunteersResponse resp;
  grpc::Status s = Vol()->ListVolunteers(Ctx(Admin()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), ElementsAre("skill")) << s.error_message();
}

// ---------------------------------------------------------------------------------------
// Units

TEST_F(VolunteerE2ETest, CreateUnitAssignsOrTakesIdsAndIsIdempotent) {
  auto units = Units();
  const v1::LatLng area = NewArea();
  // Server-assigned id.
  v1::Unit spec = Station(area);
  spec.add_skills("Haircut");
  spec.add_equipment("wheelchair");
  spec.set_phone("0572-2123456");
  v1::Unit created = MustCreateUnit(spec);
  EXPECT_THAT(created.id(), MatchesRegex("wuxing-u[0-9]+"));
  EXPECT_EQ(created.district(), "wuxing");
  EXPECT_EQ(created.kind(), v1::UNIT_STATION);
  EXPECT_EQ(created.capacity(), 1);
  EXPECT_THAT(created.skills(), ElementsAre("haircut"));
  EXPECT_EQ(created.phone(), "05722123456");
  EXPECT_TRUE(created.active());
  EXPECT_GT(created.create_time_ms(), 0);
  v1::GetUnitRequest get;
  get.set_id(created.id());
  v1::Unit read;
  ASSERT_TRUE(units->GetUnit(Ctx(Admin()).get(), get, &read).ok());
  EXPECT_EQ(read.SerializeAsString(), created.SerializeAsString());
  // Without a client id every call creates another unit.
  v1::Unit second = MustCreateUnit(spec);
  EXPECT_NE(second.id(), created.id());

  // Client-chosen id.
  v1::Unit station07 = Station(Offset(area, 300, 300));
  station07.set_name("Station 07");
  v1::Unit first;
  grpc::Status s = CreateUnit(station07, "station-07", &first);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(first.id(), "wuxing-station-07");
  const int64_t keys = KeyCount();
  const int64_t events = StreamLength();
  v1::Unit again;
  ASSERT_TRUE(CreateUnit(station07, "station-07", &again).ok());
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(again.create_time_ms(), first.create_time_ms());
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events);
  // Another body under the same id.
  v1::Unit different = station07;
  different.set_name("Station 7 (new)");
  s = CreateUnit(different, "station-07", &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events);
  get.set_id("wuxing-station-07");
  ASSERT_TRUE(units->GetUnit(Ctx(Admin()).get(), get, &read).ok());
  EXPECT_EQ(read.name(), "Station 07");

  // An unknown member: NOT_FOUND, nothing written.
  v1::Unit team = Station(area);
  team.set_kind(v1::UNIT_TEAM);
  team.add_member_volunteer_ids("wuxing-v99999999");
  s = CreateUnit(team, "", &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  s = CreateUnit(team, "team-ghost", &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events);
  get.set_id("wuxing-team-ghost");
  EXPECT_EQ(units->GetUnit(Ctx(Admin()).get(), get, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Only OPERATOR and ADMIN create; KIOSK cannot even read.
  v1::CreateUnitRequest by_intake;
  *by_intake.mutable_unit() = spec;
  EXPECT_EQ(units->CreateUnit(Ctx(Token(v1::ROLE_INTAKE)).get(), by_intake, &again).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  get.set_id(created.id());
  EXPECT_EQ(units->GetUnit(Ctx(Token(v1::ROLE_KIOSK, "wuxing", "kiosk-2")).get(), get, &read)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(units->GetUnit(Ctx(Token(v1::ROLE_RESIDENT_APP)).get(), get, &read).ok());
  EXPECT_EQ(units->GetUnit(Ctx(Token(v1::ROLE_OPERATOR, "nanxun")).get(), get, &read).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  get.set_id("wuxing-u99999999");
  EXPECT_EQ(units->GetUnit(Ctx(Admin()).get(), get, &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(VolunteerE2ETest, TeamMembershipShowsOnTheVolunteers) {
  const v1::LatLng area = NewArea();
  const std::string m1 = RegisterNew().id();
  const std::string m2 = RegisterNew().id();
  const std::string m3 = RegisterNew().id();
  ASSERT_FALSE(m1.empty());
  ASSERT_FALSE(m2.empty());
  ASSERT_FALSE(m3.empty());
  v1::Unit spec = Station(area);
  spec.set_kind(v1::UNIT_TEAM);
  spec.set_name("Social work team");
  spec.add_member_volunteer_ids(m1);
  spec.add_member_volunteer_ids(m2);
  spec.add_member_volunteer_ids(m3);
  spec.set_leader_volunteer_id(m1);
  const v1::Unit team = MustCreateUnit(spec);
  ASSERT_FALSE(team.id().empty());
  EXPECT_THAT(team.member_volunteer_ids(), ElementsAre(m1, m2, m3));
  EXPECT_EQ(team.leader_volunteer_id(), m1);
  v1::Unit other_spec = spec;
  other_spec.set_name("Night team");
  other_spec.clear_member_volunteer_ids();
  other_spec.add_member_volunteer_ids(m2);
  other_spec.set_leader_volunteer_id(m2);
  const v1::Unit other = MustCreateUnit(other_spec);
  ASSERT_FALSE(other.id().empty());

  // Staff of a station are members of no team.
  v1::Unit staffed = Station(Offset(area, 100, 0));
  staffed.add_member_volunteer_ids(m1);
  staffed.set_leader_volunteer_id(m1);
  ASSERT_FALSE(MustCreateUnit(staffed).id().empty());

  EXPECT_THAT(Get(m1).team_ids(), ElementsAre(team.id()));
  EXPECT_THAT(Get(m2).team_ids(), UnorderedElementsAre(team.id(), other.id()));
  EXPECT_THAT(Get(m3).team_ids(), ElementsAre(team.id()));

  // Removing a member takes the team away from them only.
  v1::Unit smaller = team;
  smaller.clear_member_volunteer_ids();
  smaller.add_member_volunteer_ids(m1);
  smaller.add_member_volunteer_ids(m2);
  v1::Unit updated;
  grpc::Status s = UpdateUnit(smaller, {"member_volunteer_ids"}, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(updated.member_volunteer_ids(), ElementsAre(m1, m2));
  EXPECT_EQ(updated.name(), "Social work team");
  EXPECT_THAT(Get(m1).team_ids(), ElementsAre(team.id()));
  EXPECT_THAT(Get(m2).team_ids(), UnorderedElementsAre(team.id(), other.id()));
  EXPECT_THAT(Get(m3).team_ids(), IsEmpty());
  v1::ListVolunteersRequest members;
  members.set_team_id(team.id());
  EXPECT_THAT(ListIds(members), ElementsAre(m1, m2));

  // The leader cannot be dropped while still leading.
  v1::Unit leaderless = team;
  leaderless.clear_member_volunteer_ids();
  leaderless.add_member_volunteer_ids(m2);
  s = UpdateUnit(leaderless, {"member_volunteer_ids"}, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("unit.leader_volunteer_id"));
  EXPECT_THAT(Get(m1).team_ids(), ElementsAre(team.id()));
  // Together with a new leader it is fine, and adding back works too.
  leaderless.add_member_volunteer_ids(m3);
  leaderless.set_leader_volunteer_id(m3);
  s = UpdateUnit(leaderless, {"member_volunteer_ids", "leader_volunteer_id"}, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(updated.leader_volunteer_id(), m3);
  EXPECT_THAT(Get(m1).team_ids(), IsEmpty());
  EXPECT_THAT(Get(m2).team_ids(), UnorderedElementsAre(team.id(), other.id()));
  EXPECT_THAT(Get(m3).team_ids(), ElementsAre(team.id()));

  // Updating an unknown unit, or with an unknown member.
  v1::Unit ghost = team;
  ghost.set_id("wuxing-u99999999");
  EXPECT_EQ(UpdateUnit(ghost, {"name"}, &updated).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::Unit unknown_member = team;
  unknown_member.add_member_volunteer_ids("wuxing-v99999999");
  EXPECT_EQ(UpdateUnit(unknown_member, {"member_volunteer_ids"}, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(Get(m3).team_ids(), ElementsAre(team.id()));
}

TEST_F(VolunteerE2ETest, VanLocationIsReportedByItsCrew) {
  const v1::LatLng center = NewArea();
  const std::string crew = RegisterNew().id();
  const std::string outsider = RegisterNew().id();
  ASSERT_FALSE(crew.empty());
  ASSERT_FALSE(outsider.empty());
  v1::Unit van_spec = Station(center);
  van_spec.set_kind(v1::UNIT_VAN);
  van_spec.set_name("Van 5");
  van_spec.clear_location();
  van_spec.add_member_volunteer_ids(crew);
  const v1::Unit van = MustCreateUnit(van_spec);
  const v1::Unit station = MustCreateUnit(Station(Offset(center, 100, 100)));
  ASSERT_FALSE(van.id().empty());
  ASSERT_FALSE(station.id().empty());
  EXPECT_FALSE(van.has_location());

  const std::string crew_app = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", crew);
  const std::string outsider_app = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", outsider);
  const v1::LatLng where = Offset(center, 650, -320);
  v1::ReportLocationResponse fix;
  grpc::Status s = Locate("", van.id(), where, 0, &fix, crew_app);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(fix.stored());
  v1::GetUnitRequest get;
  get.set_id(van.id());
  v1::Unit read;
  ASSERT_TRUE(Units()->GetUnit(Ctx(Admin()).get(), get, &read).ok());
  ASSERT_TRUE(read.has_location());
  EXPECT_DOUBLE_EQ(read.location().lat(), where.lat());
  EXPECT_DOUBLE_EQ(read.location().lng(), where.lng());
  EXPECT_GT(read.location_time_ms(), 0);

  s = Locate("", van.id(), Offset(center, 0, 0), 0, &fix, outsider_app);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  ASSERT_TRUE(Units()->GetUnit(Ctx(Admin()).get(), get, &read).ok());
  EXPECT_DOUBLE_EQ(read.location().lat(), where.lat());

  // A station does not move.
  s = Locate("", station.id(), where, 0, &fix);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("unit_id")) << s.error_message();
  s = Locate("", "wuxing-u99999999", where, 0, &fix);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // An inactive van's fixes are ignored.
  v1::Unit parked = van;
  parked.set_active(false);
  v1::Unit updated;
  ASSERT_TRUE(UpdateUnit(parked, {"active"}, &updated).ok());
  ASSERT_TRUE(Locate("", van.id(), Offset(center, 1, 1), 0, &fix, crew_app).ok());
  EXPECT_FALSE(fix.stored());
}

TEST_F(VolunteerE2ETest, ListUnitsFiltersByKindCommunityAndActivity) {
  auto units = Units();
  const v1::LatLng area = NewArea();
  const std::string community = NewCommunity();
  const std::string member = RegisterNew().id();
  ASSERT_FALSE(member.empty());
  v1::Unit open_station = MustCreateUnit(Station(area, community));
  v1::Unit closed_spec = Station(Offset(area, 100, 0), community);
  closed_spec.set_active(false);
  v1::Unit closed_station = MustCreateUnit(closed_spec);
  v1::Unit van_spec = Station(Offset(area, 200, 0), community);
  van_spec.set_kind(v1::UNIT_VAN);
  v1::Unit van = MustCreateUnit(van_spec);
  v1::Unit team_spec = Station(Offset(area, 300, 0), community);
  team_spec.set_kind(v1::UNIT_TEAM);
  team_spec.add_member_volunteer_ids(member);
  team_spec.set_active(false);
  v1::Unit team = MustCreateUnit(team_spec);
  v1::Unit elsewhere = MustCreateUnit(Station(Offset(area, 400, 0), NewCommunity()));

  auto list = [&](std::function<void(v1::ListUnitsRequest&)> change) {
    v1::ListUnitsRequest req;
    req.set_community_id(community);
    change(req);
    v1::ListUnitsResponse resp;
    grpc::Status s = units->ListUnits(Ctx(Admin()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const auto& u : resp.units()) ids.push_back(u.id());
    return ids;
  };
  EXPECT_THAT(list([](auto&) {}),
              ElementsAre(open_station.id(), closed_station.id(), van.id(), team.id()));
  EXPECT_THAT(list([](auto& r) { r.set_kind(v1::UNIT_STATION); }),
              ElementsAre(open_station.id(), closed_station.id()));
  EXPECT_THAT(list([](auto& r) { r.set_kind(v1::UNIT_TEAM); }), ElementsAre(team.id()));
  EXPECT_THAT(list([](auto& r) { r.set_active_only(true); }),
              ElementsAre(open_station.id(), van.id()));
  EXPECT_THAT(list([](auto& r) {
                r.set_active_only(true);
                r.set_kind(v1::UNIT_STATION);
              }),
              ElementsAre(open_station.id()));
  // Kind across communities: every unit listed is a van, and ours is among them.
  v1::ListUnitsRequest vans;
  vans.set_kind(v1::UNIT_VAN);
  vans.set_page_size(500);
  v1::ListUnitsResponse resp;
  ASSERT_TRUE(units->ListUnits(Ctx(Admin()).get(), vans, &resp).ok());
  std::vector<std::string> van_ids;
  for (const auto& u : resp.units()) {
    EXPECT_EQ(u.kind(), v1::UNIT_VAN) << u.id();
    van_ids.push_back(u.id());
  }
  EXPECT_THAT(van_ids, Contains(van.id()));
  EXPECT_THAT(van_ids, Not(Contains(elsewhere.id())));
  // Paging with a token minted for other filters is refused.
  v1::ListUnitsRequest paged;
  paged.set_community_id(community);
  paged.set_page_size(1);
  ASSERT_TRUE(units->ListUnits(Ctx(Admin()).get(), paged, &resp).ok());
  ASSERT_FALSE(resp.next_page_token().empty());
  paged.set_page_token(resp.next_page_token());
  paged.set_kind(v1::UNIT_TEAM);
  grpc::Status s = units->ListUnits(Ctx(Admin()).get(), paged, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("page_token"));
  // Unknown kind numbers are refused.
  v1::ListUnitsRequest bad;
  bad.set_kind(static_cast<v1::UnitKind>(9));
  s = units->ListUnits(Ctx(Admin()).get(), bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("kind"));
}

TEST_F(VolunteerE2ETest, FirstLocationOfAnUnplacedVanOrBusyVolunteerIsSearchable) {
  const v1::LatLng center = NewArea();
  // An active van created before it has a position.
  const std::string crew = RegisterNew().id();
  ASSERT_FALSE(crew.empty());
  v1::Unit van_spec = Station(center);
  van_spec.set_kind(v1::UNIT_VAN);
  van_spec.set_name("Van 8");
  van_spec.clear_location();
  van_spec.add_member_volunteer_ids(crew);
  const v1::Unit van = MustCreateUnit(van_spec);
  ASSERT_FALSE(van.id().empty());
  const std::string crew_app = Token(v1::ROLE_VOLUNTEER_APP, "wuxing", "", crew);
  const v1::LatLng van_at = Offset(center, 100, 0);
  v1::ReportLocationResponse fix;
  ASSERT_TRUE(Locate("", van.id(), van_at, 0, &fix, crew_app).ok());
  ASSERT_TRUE(fix.stored());
  v1::FindNearbyVolunteersRequest units = Around(center);
  units.set_include_units(true);
  v1::FindNearbyVolunteersResponse found = Nearby(units);
  EXPECT_THAT(Ids(found), ElementsAre(van.id()));
  if (const v1::NearbyCandidate* c = Find(found, van.id())) {
    EXPECT_NEAR(c->distance_m(), Haversine(center, van_at), kDistanceToleranceM);
  }

  // A volunteer who went busy without a location, then reported one.
  const std::string v = RegisterNew().id();
  ASSERT_FALSE(v.empty());
  v1::Volunteer busy;
  ASSERT_TRUE(SetDuty(v, v1::DUTY_BUSY, std::nullopt, &busy).ok());
  EXPECT_FALSE(busy.has_location());
  ASSERT_TRUE(Locate(v, "", Offset(center, 50, 0), 0, &fix).ok());
  ASSERT_TRUE(fix.stored());
  v1::FindNearbyVolunteersRequest busy_ones = Around(center);
  busy_ones.add_duty_statuses(v1::DUTY_BUSY);
  EXPECT_THAT(Ids(Nearby(busy_ones)), ElementsAre(v));
}

// ---------------------------------------------------------------------------------------
// Pairings

TEST_F(VolunteerE2ETest, CreatePairingIsIdempotentPerVolunteerAndResidentPhone) {
  auto units = Units();
  const v1::Volunteer v = RegisterNew();
  const v1::Volunteer w = RegisterNew();
  ASSERT_FALSE(v.id().empty());
  ASSERT_FALSE(w.id().empty());
  const std::string resident_phone = NextPhone();
  v1::CreatePairingRequest req;
  req.set_volunteer_id(v.id());
  v1::Resident* r = req.mutable_resident();
  r->set_name("Grandma Chen");
  r->set_phone(resident_phone);
  r->set_address("8 Renhuangshan Road, Room 301");
  r->set_community_id("wx-renhuangshan");
  r->set_compound_id("rhs-garden");
  r->set_high_age(true);
  r->set_lives_alone(true);
  req.set_recurrence(v1::MONTHLY);
  req.set_notes("visit on the first Sunday; check the gas stove");

  const std::string op = Token(v1::ROLE_OPERATOR);
  const std::string intake = Token(v1::ROLE_INTAKE);
  const int64_t events = StreamLength();
  v1::Pairing created;
  grpc::Status s = units->CreatePairing(Ctx(op).get(), req, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(created.id(), MatchesRegex("wuxing-p[0-9]+"));
  EXPECT_EQ(created.district(), "wuxing");
  EXPECT_EQ(created.volunteer_id(), v.id());
  EXPECT_TRUE(created.active());
  EXPECT_EQ(created.recurrence(), v1::MONTHLY);
  EXPECT_EQ(created.resident().phone(), resident_phone);
  EXPECT_EQ(created.resident().address(), "8 Renhuangshan Road, Room 301");
  EXPECT_TRUE(created.resident().high_age());
  EXPECT_GT(created.create_time_ms(), 0);
  EXPECT_EQ(StreamLength(), events + 1);

  // The same volunteer and resident phone (however spelled) is the same pairing.
  const int64_t keys = KeyCount();
  v1::CreatePairingRequest again_req = req;
  again_req.mutable_resident()->set_phone(
      absl::StrCat("+86 ", resident_phone.substr(0, 3), " ", resident_phone.substr(3)));
  again_req.set_notes("a different note");
  v1::Pairing again;
  ASSERT_TRUE(units->CreatePairing(Ctx(op).get(), again_req, &again).ok());
  EXPECT_EQ(again.id(), created.id());
  EXPECT_EQ(again.notes(), created.notes());
  EXPECT_EQ(KeyCount(), keys);
  EXPECT_EQ(StreamLength(), events + 1);

  // INTAKE sees the resident's phone masked and the address at compound level.
  v1::Pairing masked;
  ASSERT_TRUE(units->CreatePairing(Ctx(intake).get(), req, &masked).ok());
  EXPECT_EQ(masked.id(), created.id());
  EXPECT_EQ(masked.resident().phone(), Masked(resident_phone));
  EXPECT_EQ(masked.resident().address(), "rhs-garden");
  // A new pairing created by INTAKE is masked in its answer as well.
  v1::CreatePairingRequest by_intake = req;
  by_intake.set_volunteer_id(w.id());
  v1::Pairing w_pair;
  ASSERT_TRUE(units->CreatePairing(Ctx(intake).get(), by_intake, &w_pair).ok());
  EXPECT_THAT(w_pair.id(), MatchesRegex("wuxing-p[0-9]+"));
  EXPECT_NE(w_pair.id(), created.id());
  EXPECT_EQ(w_pair.resident().phone(), Masked(resident_phone));
  // ... and unmasked for an operator.
  v1::Pairing w_again;
  ASSERT_TRUE(units->CreatePairing(Ctx(op).get(), by_intake, &w_again).ok());
  EXPECT_EQ(w_again.id(), w_pair.id());
  EXPECT_EQ(w_again.resident().phone(), resident_phone);
  // Another resident of the same volunteer is another pairing.
  v1::CreatePairingRequest other_resident = req;
  other_resident.mutable_resident()->set_phone(NextPhone());
  v1::Pairing third;
  ASSERT_TRUE(units->CreatePairing(Ctx(op).get(), other_resident, &third).ok());
  EXPECT_NE(third.id(), created.id());
  EXPECT_NE(third.id(), w_pair.id());

  // An unknown volunteer: NOT_FOUND, nothing written.
  const int64_t keys_before = KeyCount();
  const int64_t events_before = StreamLength();
  v1::CreatePairingRequest ghost = req;
  ghost.set_volunteer_id("wuxing-v99999999");
  EXPECT_EQ(units->CreatePairing(Ctx(op).get(), ghost, &again).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(KeyCount(), keys_before);
  EXPECT_EQ(StreamLength(), events_before);
  // Roles: not the volunteer app, not a kiosk.
  EXPECT_EQ(
      units->CreatePairing(Ctx(Token(v1::ROLE_VOLUNTEER_APP)).get(), req, &again).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(units->CreatePairing(Ctx(Token(v1::ROLE_KIOSK, "wuxing", "kiosk-3")).get(), req, &again)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace yiyuan::testing
