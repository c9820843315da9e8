#ifndef YIYUAN_SERVER_INTAKE_SERVICE_H_
#define YIYUAN_SERVER_INTAKE_SERVICE_H_

#include "server/call_context.h"
#include "server/dispatcher.h"
#include "server/request_store.h"
#include "yiyuan/v1/intake.grpc.pb.h"

namespace yiyuan {

// yiyuan.v1.IntakeService: authenticate, convert, call the store, convert back.
class IntakeService final : public v1::IntakeService::Service {
 public:
  // `dispatcher` (may be null: no matching) makes the first offers of new requests.
  IntakeService(const ServiceEnv* env, RequestStore* store, Dispatcher* dispatcher)
      : env_(env), store_(store), dispatcher_(dispatcher) {}

  grpc::Status SubmitRequest(grpc::ServerContext* context, const v1::SubmitRequestRequest* req,
                             v1::SubmitRequestResponse* resp) override;
  grpc::Status GetRequest(grpc::ServerContext* context, const v1::GetRequestRequest* req,
                          v1::HelpRequest* resp) override;
  grpc::Status ListRequests(grpc::ServerContext* context, const v1::ListRequestsRequest* req,
                            v1::ListRequestsResponse* resp) override;
  grpc::Status CancelRequest(grpc::ServerContext* context, const v1::CancelRequestRequest* req,
                             v1::HelpRequest* resp) override;

 private:
  const ServiceEnv* const env_;
  RequestStore* const store_;
  Dispatcher* const dispatcher_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_INTAKE_SERVICE_H_
