// IntakeService end to end: real dispatchd (embedded redis-server), real gRPC.
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/redis_client.h"
#include "tests/testing/client.h"
#include "tests/testing/processes.h"
#include "tests/testing/redis_counts.h"

namespace yiyuan::testing {
namespace {

using ::testing::Contains;

class IntakeE2ETest : public ::testing::Test {
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

  std::unique_ptr<v1::IntakeService::Stub> Intake() { return v1::IntakeService::NewStub(*channel_); }
  std::string Admin() { return server_->admin_token(); }
  int64_t KeyCount() { return DataKeyCount(*redis_); }
  int64_t StreamLength() {
    return redis_->Command({"XLEN", "{d:wuxing}:events"})->integer;
  }
  static std::string NextPhone() {
    static std::atomic<int> n{10000000};
    return absl::StrCat("139", n.fetch_add(1));
  }

  static TempDir* dir_;
  static Dispatchd* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
  static RedisClient* redis_;
};

TempDir* IntakeE2ETest::dir_ = nullptr;
Dispatchd* IntakeE2ETest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* IntakeE2ETest::channel_ = nullptr;
RedisClient* IntakeE2ETest::redis_ = nullptr;

TEST_F(IntakeE2ETest, SubmitGetAndReplay) {
  auto stub = Intake();
  v1::SubmitRequestRequest req = ValidSubmit("replay-0001", NextPhone());
  v1::SubmitRequestResponse first, again;
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), req, &first).ok());
  EXPECT_EQ(first.request().state(), v1::SUBMITTED);
  EXPECT_FALSE(first.replayed());
  EXPECT_THAT(first.request().id(), ::testing::StartsWith("wuxing-"));
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), req, &again).ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.request().id(), first.request().id());

  v1::GetRequestRequest get;
  get.set_id(first.request().id());
  v1::HelpRequest got;
  ASSERT_TRUE(stub->GetRequest(Ctx(Admin()).get(), get, &got).ok());
  EXPECT_EQ(got.resident().phone(), req.request().resident().phone());
  EXPECT_EQ(got.description(), "monthly visit");

  // Same key, different body.
  req.mutable_request()->set_description("something else");
  v1::SubmitRequestResponse changed;
  grpc::Status s = stub->SubmitRequest(Ctx(Admin()).get(), req, &changed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("request_id"));
}

TEST_F(IntakeE2ETest, SamePhoneAndCategoryWhileOpenIsADuplicate) {
  auto stub = Intake();
  std::string phone = NextPhone();
  v1::SubmitRequestResponse a, b, c, d;
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), ValidSubmit("dup-a-0001", phone), &a).ok());
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), ValidSubmit("dup-b-0001", phone), &b).ok());
  EXPECT_EQ(b.duplicate_of(), a.request().id());
  EXPECT_EQ(b.request().id(), a.request().id());
  // Another category is a new request.
  v1::SubmitRequestRequest other = ValidSubmit("dup-c-0001", phone);
  other.mutable_request()->set_category(v1::REPAIR);
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), other, &c).ok());
  EXPECT_TRUE(c.duplicate_of().empty());
  EXPECT_NE(c.request().id(), a.request().id());
  // Once cancelled, the same need may be submitted again.
  v1::CancelRequestRequest cancel;
  cancel.set_id(a.request().id());
  cancel.set_reason("resident called back");
  v1::HelpRequest cancelled;
  ASSERT_TRUE(stub->CancelRequest(Ctx(Admin()).get(), cancel, &cancelled).ok());
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), ValidSubmit("dup-d-0001", phone), &d).ok());
  EXPECT_TRUE(d.duplicate_of().empty());
  EXPECT_NE(d.request().id(), a.request().id());
}

TEST_F(IntakeE2ETest, ConcurrentIdenticalSubmitsStoreExactlyOne) {
  // A first request creates the district's sequence, index and stream keys.
  v1::SubmitRequestResponse warm;
  ASSERT_TRUE(Intake()->SubmitRequest(Ctx(Admin()).get(), ValidSubmit("warm-up-0001", NextPhone()), &warm).ok());
  const int64_t before = KeyCount();
  v1::SubmitRequestRequest req = ValidSubmit("concurrent-0001", NextPhone());
  std::vector<std::string> ids(32);
  std::vector<grpc::StatusCode> codes(32);
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&, i] {
      auto stub = v1::IntakeService::NewStub(
          grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
      v1::SubmitRequestResponse resp;
      codes[i] = stub->SubmitRequest(Ctx(Admin()).get(), req, &resp).error_code();
      ids[i] = resp.request().id();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 32; ++i) EXPECT_EQ(codes[i], grpc::StatusCode::OK) << i;
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  // One request hash, one idempotency record, one open marker.
  EXPECT_EQ(KeyCount() - before, 3);
}

// One malformed input: a name for the test output, what to change, the field to blame.
struct Malformed {
  std::string name;
  std::function<void(v1::SubmitRequestRequest&)> mutate;
  std::string field;
};

std::vector<Malformed> MalformedInputs() {
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  auto req = [](v1::SubmitRequestRequest& r) { return r.mutable_request(); };
  auto res = [](v1::SubmitRequestRequest& r) { return r.mutable_request()->mutable_resident(); };
  return {
      {"missing request_id", [](auto& r) { r.clear_request_id(); }, "request_id"},
      {"short request_id", [](auto& r) { r.set_request_id("abc"); }, "request_id"},
      {"request_id with space", [](auto& r) { r.set_request_id("abc def ghi"); }, "request_id"},
      {"long request_id", [](auto& r) { r.set_request_id(std::string(65, 'a')); }, "request_id"},
      {"district upper case", [](auto& r) { r.set_district("WuXing"); }, "district"},
      {"district with dash", [](auto& r) { r.set_district("wu-xing"); }, "district"},
      {"channel unset", [=](auto& r) { req(r)->set_channel(v1::CHANNEL_UNSPECIFIED); }, "request.channel"},
      {"channel unknown", [=](auto& r) { req(r)->set_channel(static_cast<v1::Channel>(99)); }, "request.channel"},
      {"category unset", [=](auto& r) { req(r)->set_category(v1::CATEGORY_UNSPECIFIED); }, "request.category"},
      {"category unknown", [=](auto& r) { req(r)->set_category(static_cast<v1::Category>(42)); }, "request.category"},
      {"urgency unset", [=](auto& r) { req(r)->set_urgency(v1::URGENCY_UNSPECIFIED); }, "request.urgency"},
      {"urgency unknown", [=](auto& r) { req(r)->set_urgency(static_cast<v1::Urgency>(7)); }, "request.urgency"},
      {"recurrence unknown", [=](auto& r) { req(r)->set_recurrence(static_cast<v1::Recurrence>(9)); }, "request.recurrence"},
      {"station channel without station", [=](auto& r) { req(r)->set_channel(v1::STATION); }, "request.intake.station_id"},
      {"bad station id", [=](auto& r) { req(r)->mutable_intake()->set_station_id("st 07"); }, "request.intake.station_id"},
      {"name missing", [=](auto& r) { res(r)->clear_name(); }, "request.resident.name"},
      {"name blank", [=](auto& r) { res(r)->set_name("   "); }, "request.resident.name"},
      {"name too long", [=](auto& r) { res(r)->set_name(std::string(65, 'x')); }, "request.resident.name"},
      {"name control char", [=](auto& r) { res(r)->set_name("Wang\x01"); }, "request.resident.name"},
      {"phone missing", [=](auto& r) { res(r)->clear_phone(); }, "request.resident.phone"},
      {"phone too short", [=](auto& r) { res(r)->set_phone("1381234"); }, "request.resident.phone"},
      {"phone letters", [=](auto& r) { res(r)->set_phone("138abcd1234"); }, "request.resident.phone"},
      {"phone foreign", [=](auto& r) { res(r)->set_phone("+1 650 555 0100"); }, "request.resident.phone"},
      {"phone bad prefix", [=](auto& r) { res(r)->set_phone("12812341234"); }, "request.resident.phone"},
      {"address too long", [=](auto& r) { res(r)->set_address(std::string(257, 'a')); }, "request.resident.address"},
      {"location missing", [=](auto& r) { res(r)->clear_location(); }, "request.resident.location"},
      {"location zero", [=](auto& r) { res(r)->mutable_location()->set_lat(0); res(r)->mutable_location()->set_lng(0); }, "request.resident.location"},
      {"lat too big", [=](auto& r) { res(r)->mutable_location()->set_lat(90.5); }, "request.resident.location.lat"},
      {"lat NaN", [=](auto& r) { res(r)->mutable_location()->set_lat(std::nan("")); }, "request.resident.location.lat"},
      {"lng too small", [=](auto& r) { res(r)->mutable_location()->set_lng(-181); }, "request.resident.location.lng"},
      {"community missing", [=](auto& r) { res(r)->clear_community_id(); }, "request.resident.community_id"},
      {"community bad chars", [=](auto& r) { res(r)->set_community_id("wx/aiguo"); }, "request.resident.community_id"},
      {"compound bad chars", [=](auto& r) { res(r)->set_compound_id("a b"); }, "request.resident.compound_id"},
      {"description too long", [=](auto& r) { req(r)->set_description(std::string(2001, 'd')); }, "request.description"},
      {"description control char", [=](auto& r) { req(r)->set_description("a\x07"); }, "request.description"},
      {"headcount negative", [=](auto& r) { req(r)->set_headcount(-1); }, "request.headcount"},
      {"headcount too big", [=](auto& r) { req(r)->set_headcount(51); }, "request.headcount"},
      {"skill bad chars", [=](auto& r) { req(r)->add_required_skills("first aid!"); }, "request.required_skills[0]"},
      {"skill repeated", [=](auto& r) { req(r)->add_preferred_skills("driver"); req(r)->add_preferred_skills("Driver"); }, "request.preferred_skills[1]"},
      {"too many skills", [=](auto& r) { for (int i = 0; i < 17; ++i) req(r)->add_required_skills(absl::StrCat("s", i)); }, "request.required_skills"},
      {"window ended", [=](auto& r) { req(r)->mutable_window()->set_end_ms(now_ms - 60000); }, "request.window.end_ms"},
      {"window reversed", [=](auto& r) { req(r)->mutable_window()->set_start_ms(now_ms + 7200000); req(r)->mutable_window()->set_end_ms(now_ms + 3600000); }, "request.window.end_ms"},
      {"window negative", [=](auto& r) { req(r)->mutable_window()->set_start_ms(-5); }, "request.window.start_ms"},
      {"window too far", [=](auto& r) { req(r)->mutable_window()->set_start_ms(now_ms + 400LL * 86400000); }, "request.window.start_ms"},
      {"window too long", [=](auto& r) { req(r)->mutable_window()->set_end_ms(now_ms + 40LL * 86400000); }, "request.window"},
  };
}

TEST_F(IntakeE2ETest, MalformedInputIsRejectedNamingTheFieldAndWritesNothing) {
  auto stub = Intake();
  std::vector<Malformed> cases = MalformedInputs();
  ASSERT_GE(cases.size(), 30u);
  const int64_t keys_before = KeyCount();
  const int64_t events_before = StreamLength();
  for (const Malformed& m : cases) {
    v1::SubmitRequestRequest req = ValidSubmit("malformed-0001", NextPhone());
    m.mutate(req);
    v1::SubmitRequestResponse resp;
    grpc::Status s = stub->SubmitRequest(Ctx(Admin()).get(), req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << m.name;
    EXPECT_THAT(BadFields(s), Contains(m.field)) << m.name << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(m.field), std::string::npos) << m.name;
  }
  EXPECT_EQ(KeyCount(), keys_before);
  EXPECT_EQ(StreamLength(), events_before);
}

TEST_F(IntakeE2ETest, AuthenticationAndRoles) {
  auto stub = Intake();
  v1::SubmitRequestResponse resp;
  EXPECT_EQ(stub->SubmitRequest(Ctx("").get(), ValidSubmit("auth-0001"), &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stub->SubmitRequest(Ctx("yy_not_a_token").get(), ValidSubmit("auth-0001"), &resp)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::string kiosk = MakeToken(*channel_, Admin(), v1::ROLE_KIOSK, "wuxing", "kiosk-1");
  ASSERT_FALSE(kiosk.empty());
  EXPECT_EQ(stub->SubmitRequest(Ctx(kiosk).get(), ValidSubmit("auth-0001"), &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A token of another district may not write here.
  std::string other = MakeToken(*channel_, Admin(), v1::ROLE_INTAKE, "nanxun");
  v1::SubmitRequestRequest req = ValidSubmit("auth-0002", NextPhone());
  req.set_district("wuxing");
  EXPECT_EQ(stub->SubmitRequest(Ctx(other).get(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Only ADMIN manages tokens.
  std::string intake = MakeToken(*channel_, Admin(), v1::ROLE_INTAKE);
  EXPECT_TRUE(MakeToken(*channel_, intake, v1::ROLE_ADMIN, "*").empty());
  // A revoked token stops working.
  auto admin = v1::AdminService::NewStub(*channel_);
  v1::ListTokensResponse list;
  ASSERT_TRUE(admin->ListTokens(Ctx(Admin()).get(), {}, &list).ok());
  ASSERT_GE(list.tokens_size(), 4);
  std::string intake_id;
  for (const auto& t : list.tokens()) {
    if (t.role() == v1::ROLE_INTAKE && t.district() == "wuxing") intake_id = t.token_id();
  }
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(intake_id);
  v1::TokenInfo info;
  ASSERT_TRUE(admin->RevokeToken(Ctx(Admin()).get(), revoke, &info).ok());
  EXPECT_TRUE(info.revoked());
  EXPECT_EQ(stub->SubmitRequest(Ctx(intake).get(), ValidSubmit("auth-0003", NextPhone()), &resp)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(IntakeE2ETest, PhonesAndAddressesAreMaskedExceptForOperatorsAndAdmins) {
  auto stub = Intake();
  std::string intake = MakeToken(*channel_, Admin(), v1::ROLE_INTAKE);
  std::string op = MakeToken(*channel_, Admin(), v1::ROLE_OPERATOR);
  v1::SubmitRequestResponse resp;
  ASSERT_TRUE(
      stub->SubmitRequest(Ctx(intake).get(), ValidSubmit("mask-0001", "13812345678"), &resp).ok());
  EXPECT_EQ(resp.request().resident().phone(), "138****5678");
  EXPECT_EQ(resp.request().resident().address(), "aiguo-xincun");
  v1::GetRequestRequest get;
  get.set_id(resp.request().id());
  v1::HelpRequest as_op, as_intake;
  ASSERT_TRUE(stub->GetRequest(Ctx(op).get(), get, &as_op).ok());
  EXPECT_EQ(as_op.resident().phone(), "13812345678");
  EXPECT_EQ(as_op.resident().address(), "12 Aiguo Road, Building 3");
  ASSERT_TRUE(stub->GetRequest(Ctx(intake).get(), get, &as_intake).ok());
  EXPECT_EQ(as_intake.resident().phone(), "138****5678");
  v1::ListRequestsRequest list;
  list.set_page_size(500);
  v1::ListRequestsResponse page;
  ASSERT_TRUE(stub->ListRequests(Ctx(intake).get(), list, &page).ok());
  for (const auto& r : page.requests()) {
    EXPECT_NE(r.resident().phone().find("****"), std::string::npos) << r.id();
  }
}

TEST_F(IntakeE2ETest, CancelFollowsTheStateRules) {
  auto stub = Intake();
  v1::SubmitRequestResponse sub;
  ASSERT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), ValidSubmit("cancel-0001", NextPhone()), &sub).ok());
  v1::CancelRequestRequest cancel;
  cancel.set_id(sub.request().id());
  v1::HelpRequest out;
  EXPECT_EQ(stub->CancelRequest(Ctx(Admin()).get(), cancel, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // No reason.
  cancel.set_reason("duplicate call");
  ASSERT_TRUE(stub->CancelRequest(Ctx(Admin()).get(), cancel, &out).ok());
  EXPECT_EQ(out.state(), v1::CANCELLED);
  EXPECT_EQ(out.cancel_reason(), "duplicate call");
  ASSERT_TRUE(stub->CancelRequest(Ctx(Admin()).get(), cancel, &out).ok());  // Idempotent.
  // A completed request cannot be cancelled.
  ASSERT_TRUE(redis_->Command({"HSET", "{d:wuxing}:req:" + sub.request().id(), "state", "COMPLETED"}).ok());
  EXPECT_EQ(stub->CancelRequest(Ctx(Admin()).get(), cancel, &out).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  cancel.set_id("wuxing-999999");
  EXPECT_EQ(stub->CancelRequest(Ctx(Admin()).get(), cancel, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  cancel.set_id("not an id");
  EXPECT_EQ(stub->CancelRequest(Ctx(Admin()).get(), cancel, &out).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetRequestRequest get;
  get.set_id("wuxing-999999");
  EXPECT_EQ(stub->GetRequest(Ctx(Admin()).get(), get, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(IntakeE2ETest, ListFiltersAndPagesStablyWhileRequestsArrive) {
  auto stub = Intake();
  // A district of its own so other tests do not interfere.
  auto submit = [&](int i, v1::Channel ch) {
    v1::SubmitRequestRequest r = ValidSubmit(absl::StrCat("list-", i, "-0000"), NextPhone());
    r.set_district("listing");
    r.mutable_request()->set_channel(ch);
    if (ch == v1::STATION) r.mutable_request()->mutable_intake()->set_station_id("st-01");
    v1::SubmitRequestResponse resp;
    EXPECT_TRUE(stub->SubmitRequest(Ctx(Admin()).get(), r, &resp).ok());
    return resp.request().id();
  };
  std::vector<std::string> app_ids;
  for (int i = 0; i < 25; ++i) {
    std::string id = submit(i, i % 2 == 0 ? v1::APP : v1::STATION);
    if (i % 2 == 0) app_ids.push_back(id);
  }
  v1::ListRequestsRequest req;
  req.set_district("listing");
  req.set_channel(v1::APP);
  req.set_page_size(5);
  std::vector<std::string> seen;
  int extra = 100;
  for (int pages = 0; pages < 20; ++pages) {
    v1::ListRequestsResponse resp;
    ASSERT_TRUE(stub->ListRequests(Ctx(Admin()).get(), req, &resp).ok());
    for (const auto& r : resp.requests()) {
      EXPECT_EQ(r.channel(), v1::APP);
      seen.push_back(r.id());
    }
    submit(extra++, v1::APP);  // New arrivals must not shift later pages.
    if (resp.next_page_token().empty()) break;
    req.set_page_token(resp.next_page_token());
  }
  std::vector<std::string> expected(app_ids.rbegin(), app_ids.rend());
  EXPECT_EQ(seen, expected);
  // A token used with other filters is refused.
  req.set_channel(v1::STATION);
  v1::ListRequestsResponse resp;
  grpc::Status s = stub->ListRequests(Ctx(Admin()).get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(BadFields(s), Contains("page_token"));
  // State filter.
  v1::ListRequestsRequest cancelled;
  cancelled.set_district("listing");
  cancelled.add_states(v1::CANCELLED);
  ASSERT_TRUE(stub->ListRequests(Ctx(Admin()).get(), cancelled, &resp).ok());
  EXPECT_EQ(resp.requests_size(), 0);
}

TEST_F(IntakeE2ETest, UnimplementedMethodsSayUnimplemented) {
  grpc::Status status = RawUnaryCall(*channel_, "/yiyuan.v1.DispatchService/GetReport", Admin());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace yiyuan::testing
