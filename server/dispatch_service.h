#ifndef YIYUAN_SERVER_DISPATCH_SERVICE_H_
#define YIYUAN_SERVER_DISPATCH_SERVICE_H_

#include "server/call_context.h"
#include "server/dispatch_store.h"
#include "server/dispatcher.h"
#include "server/request_store.h"
#include "server/stream_hub.h"
#include "server/unit_store.h"
#include "server/volunteer_store.h"
#include "yiyuan/v1/dispatch.grpc.pb.h"

namespace yiyuan {

// What DispatchService uses.
struct DispatchServices {
  DispatchStore* store = nullptr;
  Dispatcher* dispatcher = nullptr;
  StreamHub* hub = nullptr;
  RequestStore* requests = nullptr;
  VolunteerStore* volunteers = nullptr;
  UnitStore* units = nullptr;
};

// yiyuan.v1.DispatchService: the command desk's view and overrides. WatchEvents uses
// gRPC's callback API (no thread per open stream); the rest is synchronous. GetReport
// is not served yet (UNIMPLEMENTED).
class DispatchService final
    : public v1::DispatchService::WithCallbackMethod_WatchEvents<v1::DispatchService::Service> {
 public:
  DispatchService(const ServiceEnv* env, DispatchServices s) : env_(env), s_(s) {}

  grpc::Status ExplainMatch(grpc::ServerContext* context, const v1::ExplainMatchRequest* req,
                            v1::ExplainMatchResponse* resp) override;
  grpc::Status AssignManually(grpc::ServerContext* context, const v1::AssignManuallyRequest* req,
                              v1::Assignment* resp) override;
  grpc::Status Reassign(grpc::ServerContext* context, const v1::ReassignRequest* req,
                        v1::ReassignResponse* resp) override;
  grpc::Status ListEscalations(grpc::ServerContext* context,
                               const v1::ListEscalationsRequest* req,
                               v1::ListEscalationsResponse* resp) override;
  grpc::Status Mobilize(grpc::ServerContext* context, const v1::MobilizeRequest* req,
                        v1::MobilizeResponse* resp) override;
  grpc::ServerWriteReactor<v1::Event>* WatchEvents(grpc::CallbackServerContext* context,
                                                   const v1::WatchEventsRequest* req) override;

 private:
  struct Applied {
    OverrideReply reply;
    HelpRequest request;
  };
  // AssignManually and Reassign: authorise, validate (`from` null for a manual
  // assignment, `to` null for back to matching), apply, read the request back.
  absl::StatusOr<Applied> ApplyOverride(grpc::ServerContext* context, absl::string_view method,
                                        const std::string& request_id, const v1::Assignee* from,
                                        const v1::Assignee* to, const std::string& reason,
                                        bool force);

  const ServiceEnv* const env_;
  const DispatchServices s_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_DISPATCH_SERVICE_H_
