#ifndef YIYUAN_SERVER_AUTH_H_
#define YIYUAN_SERVER_AUTH_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/redis_client.h"

namespace yiyuan {

// Roles of DESIGN.md section 7; numbers match the API's Role enum.
enum class Role { kUnspecified = 0, kOperator, kIntake, kVolunteerApp, kResidentApp, kKiosk, kAdmin };

// "OPERATOR", "INTAKE", ... ("" for kUnspecified).
absl::string_view RoleName(Role r);
// Accepts "operator", "OPERATOR", "ROLE_OPERATOR", ...
std::optional<Role> ParseRole(absl::string_view name);

// Who is calling, as their token says.
struct Principal {
  std::string token_id;
  std::string name;
  Role role = Role::kUnspecified;
  std::string district;  // "*" for every district.
  std::string kiosk_id;
  std::string volunteer_id;

  // True when residents' phone numbers and addresses may be shown unmasked.
  bool SeesResidentContact() const { return role == Role::kOperator || role == Role::kAdmin; }
};

// PERMISSION_DENIED unless `p` has one of `roles`.
absl::Status RequireRole(const Principal& p, std::initializer_list<Role> roles,
                         absl::string_view method);

// The district a call acts on: `requested`, or the caller's own when empty (a caller
// scoped to every district falls back to `default_district`). PERMISSION_DENIED when the
// caller's scope does not cover it; INVALID_ARGUMENT naming `field` when malformed.
absl::StatusOr<std::string> ResolveDistrict(const Principal& p, absl::string_view field,
                                            absl::string_view requested,
                                            absl::string_view default_district);

// PERMISSION_DENIED unless the caller's scope covers `district`.
absl::Status RequireDistrict(const Principal& p, absl::string_view district);

// A new random token secret ("yy_" + 32 URL-safe characters).
std::string NewTokenSecret();

// A token's description as stored.
struct TokenRecord {
  Principal principal;
  int64_t create_time_ms = 0;
  bool revoked = false;
};

// Bearer tokens in Redis, stored as SHA-256 hashes, with a short-lived in-process cache
// so that authenticating costs no Redis round trip on the hot path. Thread-safe.
class TokenStore {
 public:
  struct Options {
    // How long a verified token is trusted before it is read again (a revocation takes
    // effect within this time).
    absl::Duration cache_ttl = absl::Seconds(10);
    // How long an unknown token is remembered as unknown.
    absl::Duration negative_ttl = absl::Seconds(1);
    // Most tokens cached; the cache is cleared when it fills.
    size_t max_cached = 10000;
  };

  TokenStore(RedisClient* redis, Options options);
  explicit TokenStore(RedisClient* redis) : TokenStore(redis, Options()) {}

  // The principal of a raw bearer token. UNAUTHENTICATED for an unknown or revoked
  // token; UNAVAILABLE when Redis cannot be asked.
  absl::StatusOr<Principal> Authenticate(absl::string_view token, absl::Time deadline);

  // Stores `secret` (its hash) for `p` unless it is stored already; returns the record.
  absl::StatusOr<TokenRecord> Register(absl::string_view secret, const Principal& p,
                                       absl::Time deadline);
  // Makes a new random secret for `p`; returns it and its record.
  absl::StatusOr<std::pair<std::string, TokenRecord>> Create(const Principal& p,
                                                             absl::Time deadline);
  absl::StatusOr<std::vector<TokenRecord>> List(absl::Time deadline);
  // NOT_FOUND for an unknown token id.
  absl::StatusOr<TokenRecord> Revoke(absl::string_view token_id, absl::Time deadline);

 private:
  struct Cached {
    absl::StatusOr<Principal> result;
    absl::Time expires;
  };

  RedisClient* const redis_;
  const Options options_;
  const LuaScript create_;
  const LuaScript revoke_;
  const LuaScript list_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Cached> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_AUTH_H_
