#include "server/auth.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/request_validator.h"
#include "server/crypto.h"
#include "server/keys.h"

namespace yiyuan {
namespace {

constexpr absl::string_view kRoleNames[] = {"",        "OPERATOR", "INTAKE", "VOLUNTEER_APP",
                                            "RESIDENT_APP", "KIOSK",    "ADMIN"};

absl::StatusOr<TokenRecord> RecordFromFields(const std::vector<RedisValue>& v, size_t begin,
                                             size_t end) {
  TokenRecord r;
  for (size_t i = begin; i + 1 < end; i += 2) {
    const std::string& k = v[i].str;
    const std::string& val = v[i + 1].str;
    if (k == "token_id") r.principal.token_id = val;
    else if (k == "name") r.principal.name = val;
    else if (k == "role") r.principal.role = ParseRole(val).value_or(Role::kUnspecified);
    else if (k == "district") r.principal.district = val;
    else if (k == "kiosk_id") r.principal.kiosk_id = val;
    else if (k == "volunteer_id") r.principal.volunteer_id = val;
    else if (k == "create_ms") (void)absl::SimpleAtoi(val, &r.create_time_ms);
    else if (k == "revoked") r.revoked = val == "1";
  }
  if (r.principal.token_id.empty()) return absl::NotFoundError("no such token");
  return r;
}

}  // namespace

std::string NewTokenSecret() { return absl::StrCat("yy_", RandomUrlSafe(24)); }

absl::string_view RoleName(Role r) { return kRoleNames[static_cast<int>(r)]; }

std::optional<Role> ParseRole(absl::string_view name) {
  absl::string_view n = name;
  if (n.size() > 5 && absl::EqualsIgnoreCase(n.substr(0, 5), "ROLE_")) n.remove_prefix(5);
  for (int i = 1; i < 7; ++i) {
    if (absl::EqualsIgnoreCase(kRoleNames[i], n)) return static_cast<Role>(i);
  }
  return std::nullopt;
}

absl::Status RequireRole(const Principal& p, std::initializer_list<Role> roles,
                         absl::string_view method) {
  for (Role r : roles) {
    if (p.role == r) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("role ", RoleName(p.role), " may not call ", method));
}

absl::Status RequireDistrict(const Principal& p, absl::string_view district) {
  if (p.district == "*" || p.district == district) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("this token is limited to district ", p.district, ", not ", district));
}

absl::StatusOr<std::string> ResolveDistrict(const Principal& p, absl::string_view field,
                                            absl::string_view requested,
                                            absl::string_view default_district) {
  std::string d(requested);
  if (d.empty()) d = p.district == "*" ? std::string(default_district) : p.district;
  if (absl::Status s = ValidateDistrict(field, d); !s.ok()) return s;
  if (absl::Status s = RequireDistrict(p, d); !s.ok()) return s;
  return d;
}

TokenStore::TokenStore(RedisClient* redis, Options options)
    : redis_(redis),
      options_(options),
      create_(LuaScript::Embedded("create_token.lua")),
      revoke_(LuaScript::Embedded("revoke_token.lua")),
      list_(LuaScript::Embedded("list_tokens.lua")) {}

absl::StatusOr<Principal> TokenStore::Authenticate(absl::string_view token,
                                                   absl::Time deadline) {
  if (token.empty()) return absl::UnauthenticatedError("missing bearer token");
  std::string hash = Sha256Hex(token);
  absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) return it->second.result;
  }
  absl::StatusOr<RedisValue> reply =
      redis_->Command({"HGETALL", absl::StrCat(keys::kTokenPrefix, hash)}, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<TokenRecord> record =
      RecordFromFields(reply->elements, 0, reply->elements.size());
  absl::StatusOr<Principal> result;
  absl::Duration ttl = options_.cache_ttl;
  if (!record.ok()) {
    result = absl::UnauthenticatedError("unknown bearer token");
    ttl = options_.negative_ttl;
  } else if (record->revoked) {
    result = absl::UnauthenticatedError("this bearer token was revoked");
  } else {
    result = record->principal;
  }
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= options_.max_cached) cache_.clear();
  cache_[hash] = Cached{result, now + ttl};
  return result;
}

absl::StatusOr<TokenRecord> TokenStore::Register(absl::string_view secret, const Principal& p,
                                                 absl::Time deadline) {
  std::string hash = Sha256Hex(secret);
  std::string token_id = hash.substr(0, 12);
  absl::StatusOr<RedisValue> reply = redis_->Eval(
      create_, {absl::StrCat(keys::kTokenPrefix, hash), std::string(keys::kTokenIndex)},
      {token_id, hash, p.name, std::string(RoleName(p.role)), p.district, p.kiosk_id,
       p.volunteer_id},
      deadline);
  if (!reply.ok()) return reply.status();
  return RecordFromFields(reply->elements, 0, reply->elements.size());
}

absl::StatusOr<std::pair<std::string, TokenRecord>> TokenStore::Create(const Principal& p,
                                                                       absl::Time deadline) {
  std::string secret = NewTokenSecret();
  absl::StatusOr<TokenRecord> r = Register(secret, p, deadline);
  if (!r.ok()) return r.status();
  return std::make_pair(std::move(secret), *std::move(r));
}

absl::StatusOr<std::vector<TokenRecord>> TokenStore::List(absl::Time deadline) {
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(list_, {std::string(keys::kTokenIndex)}, {std::string(keys::kTokenPrefix)},
                   deadline);
  if (!reply.ok()) return reply.status();
  const std::vector<RedisValue>& e = reply->elements;
  std::vector<TokenRecord> out;
  size_t i = 1;
  for (int64_t n = 0; !e.empty() && n < e[0].integer && i < e.size(); ++n) {
    size_t count = static_cast<size_t>(e[i].integer);
    absl::StatusOr<TokenRecord> r = RecordFromFields(e, i + 1, i + 1 + count);
    if (r.ok()) out.push_back(*std::move(r));
    i += 1 + count;
  }
  std::sort(out.begin(), out.end(), [](const TokenRecord& a, const TokenRecord& b) {
    return a.create_time_ms < b.create_time_ms;
  });
  return out;
}

absl::StatusOr<TokenRecord> TokenStore::Revoke(absl::string_view token_id, absl::Time deadline) {
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(revoke_, {std::string(keys::kTokenIndex)},
                   {std::string(token_id), std::string(keys::kTokenPrefix)}, deadline);
  if (!reply.ok()) return reply.status();
  {
    // Forget cached verdicts so the revocation takes effect here at once.
    absl::MutexLock lock(&mu_);
    cache_.clear();
  }
  return RecordFromFields(reply->elements, 0, reply->elements.size());
}

}  // namespace yiyuan
