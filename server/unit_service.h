#ifndef YIYUAN_SERVER_UNIT_SERVICE_H_
#define YIYUAN_SERVER_UNIT_SERVICE_H_

#include "server/call_context.h"
#include "server/roster.h"
#include "server/unit_store.h"
#include "server/volunteer_store.h"
#include "yiyuan/v1/unit.grpc.pb.h"

namespace yiyuan {

// yiyuan.v1.UnitService: stations, vans, teams and standing pairings. Handlers
// authenticate, convert, call the store, apply their own writes to the live roster, and
// convert back.
class UnitService final : public v1::UnitService::Service {
 public:
  UnitService(const ServiceEnv* env, UnitStore* units, VolunteerStore* volunteers, Roster* roster)
      : env_(env), units_(units), volunteers_(volunteers), roster_(roster) {}

  grpc::Status CreateUnit(grpc::ServerContext* context, const v1::CreateUnitRequest* req,
                          v1::Unit* resp) override;
  grpc::Status GetUnit(grpc::ServerContext* context, const v1::GetUnitRequest* req,
                       v1::Unit* resp) override;
  grpc::Status ListUnits(grpc::ServerContext* context, const v1::ListUnitsRequest* req,
                         v1::ListUnitsResponse* resp) override;
  grpc::Status UpdateUnit(grpc::ServerContext* context, const v1::UpdateUnitRequest* req,
                          v1::Unit* resp) override;
  grpc::Status CreatePairing(grpc::ServerContext* context, const v1::CreatePairingRequest* req,
                             v1::Pairing* resp) override;

 private:
  const ServiceEnv* const env_;
  UnitStore* const units_;
  VolunteerStore* const volunteers_;
  Roster* const roster_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_UNIT_SERVICE_H_
