#ifndef YIYUAN_SERVER_ADMIN_SERVICE_H_
#define YIYUAN_SERVER_ADMIN_SERVICE_H_

#include "server/call_context.h"
#include "yiyuan/v1/admin.grpc.pb.h"

namespace yiyuan {

// yiyuan.v1.AdminService: token management, ADMIN only.
class AdminService final : public v1::AdminService::Service {
 public:
  explicit AdminService(const ServiceEnv* env) : env_(env) {}

  grpc::Status CreateToken(grpc::ServerContext* context, const v1::CreateTokenRequest* req,
                           v1::CreateTokenResponse* resp) override;
  grpc::Status ListTokens(grpc::ServerContext* context, const v1::ListTokensRequest* req,
                          v1::ListTokensResponse* resp) override;
  grpc::Status RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest* req,
                           v1::TokenInfo* resp) override;

 private:
  const ServiceEnv* const env_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_ADMIN_SERVICE_H_
