#ifndef YIYUAN_SERVER_POINTS_SERVICE_H_
#define YIYUAN_SERVER_POINTS_SERVICE_H_

#include "server/call_context.h"
#include "server/points_store.h"
#include "yiyuan/v1/points.grpc.pb.h"

namespace yiyuan {

// yiyuan.v1.PointsService: balances, the ledger, kiosk catalogs and redemption.
// Handlers authenticate, check the caller's role and scope (a KIOSK token acts only
// at its own kiosk), validate, and make one store call: every write is one atomic
// script, so a failed call leaves nothing behind.
class PointsService final : public v1::PointsService::Service {
 public:
  PointsService(const ServiceEnv* env, PointsStore* points) : env_(env), points_(points) {}

  grpc::Status GetBalance(grpc::ServerContext* context, const v1::GetBalanceRequest* req,
                          v1::Balance* resp) override;
  grpc::Status ListLedger(grpc::ServerContext* context, const v1::ListLedgerRequest* req,
                          v1::ListLedgerResponse* resp) override;
  grpc::Status ListCatalog(grpc::ServerContext* context, const v1::ListCatalogRequest* req,
                           v1::ListCatalogResponse* resp) override;
  grpc::Status UpsertCatalogItem(grpc::ServerContext* context,
                                 const v1::UpsertCatalogItemRequest* req,
                                 v1::CatalogItem* resp) override;
  grpc::Status Redeem(grpc::ServerContext* context, const v1::RedeemRequest* req,
                      v1::Redemption* resp) override;
  grpc::Status ReverseRedemption(grpc::ServerContext* context,
                                 const v1::ReverseRedemptionRequest* req,
                                 v1::Redemption* resp) override;
  grpc::Status AdjustPoints(grpc::ServerContext* context, const v1::AdjustPointsRequest* req,
                            v1::AdjustPointsResponse* resp) override;

 private:
  const ServiceEnv* const env_;
  PointsStore* const points_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_POINTS_SERVICE_H_
