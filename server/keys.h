#ifndef YIYUAN_SERVER_KEYS_H_
#define YIYUAN_SERVER_KEYS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// The Redis key layout. Every key of a district carries the hash tag {d:<district>} so
// that each script touches one Redis Cluster slot; global keys use {yiyuan}.
namespace yiyuan::keys {

// "{d:wuxing}:" — the prefix of every key of a district.
inline std::string District(absl::string_view d) { return absl::StrCat("{d:", d, "}:"); }
// Hash: one help request.
inline std::string Request(absl::string_view d, absl::string_view id) {
  return absl::StrCat(District(d), "req:", id);
}
// Zset seq -> request id: every request of the district, in creation order.
inline std::string RequestIndex(absl::string_view d) { return absl::StrCat(District(d), "reqs"); }
// Counter: the last request number handed out.
inline std::string RequestSeq(absl::string_view d) { return absl::StrCat(District(d), "seq:req"); }
// Hash {id, sha, dup}: what a client idempotency key was used for.
inline std::string Idempotency(absl::string_view d, absl::string_view request_id) {
  return absl::StrCat(District(d), "idem:", request_id);
}
// String: the open request of one resident phone (hashed) in one category.
inline std::string OpenRequest(absl::string_view d, absl::string_view phone_hash,
                               absl::string_view category) {
  return absl::StrCat(District(d), "open:", phone_hash, ":", category);
}
// Stream: every event of the district.
inline std::string Events(absl::string_view d) { return absl::StrCat(District(d), "events"); }

// "{yiyuan}:token:" — prefix of the hash describing one token, by SHA-256 of its secret.
inline constexpr absl::string_view kTokenPrefix = "{yiyuan}:token:";
// Hash token id -> SHA-256 of the secret.
inline constexpr absl::string_view kTokenIndex = "{yiyuan}:tokens";

}  // namespace yiyuan::keys

#endif  // YIYUAN_SERVER_KEYS_H_
