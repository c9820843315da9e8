#ifndef YIYUAN_SERVER_VOLUNTEER_SERVICE_H_
#define YIYUAN_SERVER_VOLUNTEER_SERVICE_H_

#include <string>

#include "server/call_context.h"
#include "server/dispatch_store.h"
#include "server/dispatcher.h"
#include "server/request_store.h"
#include "server/stream_hub.h"
#include "server/roster.h"
#include "server/unit_store.h"
#include "server/volunteer_store.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan {

// What VolunteerService's offer and progress calls use.
struct OfferServices {
  DispatchStore* store = nullptr;
  Dispatcher* dispatcher = nullptr;
  StreamHub* hub = nullptr;
  RequestStore* requests = nullptr;
};

// yiyuan.v1.VolunteerService: registration, duty, location, the nearby search, and a
// volunteer's side of dispatch (offers and progress). Handlers authenticate, convert,
// call the store, apply their own writes to the live roster, and convert back.
// WatchOffers uses gRPC's callback API so that thousands of open streams cost no
// threads; every other method is synchronous.
class VolunteerService final
    : public v1::VolunteerService::WithCallbackMethod_WatchOffers<v1::VolunteerService::Service> {
 public:
  VolunteerService(const ServiceEnv* env, VolunteerStore* volunteers, UnitStore* units,
                   Roster* roster, OfferServices offers)
      : env_(env), volunteers_(volunteers), units_(units), roster_(roster), offers_(offers) {}

  grpc::Status RegisterVolunteer(grpc::ServerContext* context,
                                 const v1::RegisterVolunteerRequest* req,
                                 v1::RegisterVolunteerResponse* resp) override;
  grpc::Status GetVolunteer(grpc::ServerContext* context, const v1::GetVolunteerRequest* req,
                            v1::Volunteer* resp) override;
  grpc::Status ListVolunteers(grpc::ServerContext* context, const v1::ListVolunteersRequest* req,
                              v1::ListVolunteersResponse* resp) override;
  grpc::Status UpdateVolunteer(grpc::ServerContext* context, const v1::UpdateVolunteerRequest* req,
                               v1::Volunteer* resp) override;
  grpc::Status SetDutyStatus(grpc::ServerContext* context, const v1::SetDutyStatusRequest* req,
                             v1::Volunteer* resp) override;
  grpc::Status ReportLocation(grpc::ServerContext* context, const v1::ReportLocationRequest* req,
                              v1::ReportLocationResponse* resp) override;
  grpc::Status FindNearbyVolunteers(grpc::ServerContext* context,
                                    const v1::FindNearbyVolunteersRequest* req,
                                    v1::FindNearbyVolunteersResponse* resp) override;
  grpc::ServerWriteReactor<v1::Offer>* WatchOffers(grpc::CallbackServerContext* context,
                                                   const v1::WatchOffersRequest* req) override;
  grpc::Status RespondToOffer(grpc::ServerContext* context, const v1::RespondToOfferRequest* req,
                              v1::RespondToOfferResponse* resp) override;
  grpc::Status ReportProgress(grpc::ServerContext* context, const v1::ReportProgressRequest* req,
                              v1::Assignment* resp) override;

 private:
  const ServiceEnv* const env_;
  VolunteerStore* const volunteers_;
  UnitStore* const units_;
  Roster* const roster_;
  const OfferServices offers_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_VOLUNTEER_SERVICE_H_
