#ifndef YIYUAN_SERVER_VOLUNTEER_SERVICE_H_
#define YIYUAN_SERVER_VOLUNTEER_SERVICE_H_

#include <string>

#include "server/call_context.h"
#include "server/roster.h"
#include "server/unit_store.h"
#include "server/volunteer_store.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan {

// yiyuan.v1.VolunteerService: registration, duty, location and the nearby search.
// Handlers authenticate, convert, call the store, apply their own writes to the live
// roster, and convert back. Offers and progress (WatchOffers, RespondToOffer,
// ReportProgress) belong to the dispatcher and are not served here yet.
class VolunteerService final : public v1::VolunteerService::Service {
 public:
  VolunteerService(const ServiceEnv* env, VolunteerStore* volunteers, UnitStore* units,
                   Roster* roster)
      : env_(env), volunteers_(volunteers), units_(units), roster_(roster) {}

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

 private:
  const ServiceEnv* const env_;
  VolunteerStore* const volunteers_;
  UnitStore* const units_;
  Roster* const roster_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_VOLUNTEER_SERVICE_H_
