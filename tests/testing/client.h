#ifndef YIYUAN_TESTS_TESTING_CLIENT_H_
#define YIYUAN_TESTS_TESTING_CLIENT_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <mutex>

#include <memory>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "yiyuan/v1/admin.grpc.pb.h"
#include "yiyuan/v1/intake.grpc.pb.h"

namespace yiyuan::testing {

// A client context carrying `token` and a deadline `seconds` from now.
inline std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds = 10) {
  auto c = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return c;
}

// The fields named by a status's google.rpc.BadRequest detail.
inline std::vector<std::string> BadFields(const grpc::Status& s) {
  std::vector<std::string> out;
  google::rpc::Status rich;
  if (!rich.ParseFromString(s.error_details())) return out;
  for (const auto& any : rich.details()) {
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&bad)) {
      for (const auto& v : bad.field_violations()) out.push_back(v.field());
    }
  }
  return out;
}

// The reason of a status's google.rpc.ErrorInfo detail, or "".
inline std::string ErrorReason(const grpc::Status& s) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(s.error_details())) return "";
  for (const auto& any : rich.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

// A valid SubmitRequest body; tests change one thing at a time.
inline v1::SubmitRequestRequest ValidSubmit(const std::string& request_id,
                                            const std::string& phone = "13812341234") {
  v1::SubmitRequestRequest r;
  r.set_request_id(request_id);
  v1::HelpRequest* h = r.mutable_request();
  h->set_channel(v1::HOTLINE);
  h->set_category(v1::ELDER_VISIT);
  h->set_urgency(v1::ROUTINE);
  h->set_description("monthly visit");
  v1::Resident* res = h->mutable_resident();
  res->set_name("Wang");
  res->set_phone(phone);
  res->set_address("12 Aiguo Road, Building 3");
  res->mutable_location()->set_lat(30.87);
  res->mutable_location()->set_lng(120.09);
  res->set_community_id("wx-aiguo");
  res->set_compound_id("aiguo-xincun");
  return r;
}

// Calls `method` ("/pkg.Service/Method") with an empty request, without generated stubs.
// The response bytes go to `response` when it is not null.
inline grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& method, const std::string& token,
                                 std::string* response = nullptr) {
  grpc::GenericStub stub(channel);
  std::unique_ptr<grpc::ClientContext> ctx = Ctx(token, 2);
  grpc::Slice empty("");
  grpc::ByteBuffer in(&empty, 1), out;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(ctx.get(), method, grpc::StubOptions(), &in, &out, [&](grpc::Status s) {
    std::lock_guard<std::mutex> l(mu);
    status = s;
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  grpc::Slice slice;
  if (status.ok() && response != nullptr && out.DumpToSingleSlice(&slice).ok()) {
    response->assign(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return status;
}

// Creates a token for `role` with the admin token; returns the secret ("" on failure).
inline std::string MakeToken(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& admin, v1::Role role,
                             const std::string& district = "wuxing",
                             const std::string& kiosk = "",
                             const std::string& volunteer = "") {
  auto stub = v1::AdminService::NewStub(channel);
  v1::CreateTokenRequest req;
  req.set_name("test token");
  req.set_role(role);
  req.set_district(district);
  req.set_kiosk_id(kiosk);
  req.set_volunteer_id(volunteer);
  v1::CreateTokenResponse resp;
  return stub->CreateToken(Ctx(admin).get(), req, &resp).ok() ? resp.token() : "";
}

}  // namespace yiyuan::testing

#endif  // YIYUAN_TESTS_TESTING_CLIENT_H_
