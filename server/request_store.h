#ifndef YIYUAN_SERVER_REQUEST_STORE_H_
#define YIYUAN_SERVER_REQUEST_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/help_request.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"

namespace yiyuan {

struct RequestStoreOptions {
  // How long a client idempotency key is remembered.
  absl::Duration idempotency_ttl = absl::Hours(24 * 7);
  // Approximate cap on each district's event stream (XADD MAXLEN ~).
  int64_t event_stream_max_len = 1000000;
  // Most requests one ListRequests call examines before it returns a page token.
  int list_scan_budget = 2000;
  // How long after submission the district's dispatcher loop takes up a request that
  // the receiving instance has not offered yet (it normally offers at once).
  absl::Duration dispatch_grace = absl::Seconds(1);
  // The dispatcher's ROUTINE batch interval (zero: no batching). New ROUTINE requests
  // become due at a multiple of it, so that requests submitted together meet in one
  // batch cycle.
  absl::Duration batch_interval = absl::ZeroDuration();
};

// What SubmitRequest did.
enum class SubmitOutcome {
  kCreated,    // A new request was stored.
  kReplayed,   // The idempotency key was seen with the same body; nothing was written.
  kDuplicate,  // The resident already has an open request in this category.
};

struct SubmitResult {
  SubmitOutcome outcome = SubmitOutcome::kCreated;
  HelpRequest request;  // The new, replayed or duplicated request.
};

// ListRequests filters; empty / unset members match everything.
struct RequestFilter {
  std::string district;
  std::vector<RequestState> states;
  std::optional<Channel> channel;
  std::optional<Category> category;
  std::optional<Urgency> urgency;
  std::string community_id;
  int64_t created_after_ms = 0;
  int64_t created_before_ms = 0;
};

struct RequestPage {
  std::vector<HelpRequest> requests;  // Newest first.
  // Continue with requests older than this sequence number; nullopt at the end.
  std::optional<int64_t> next_cursor;
};

// Help requests in Redis. Each mutation is one Lua script (one round trip) that also
// appends its event to the district's stream. Thread-safe.
//
// Errors are those of RedisClient, plus: NOT_FOUND for an unknown request id;
// INVALID_ARGUMENT "request_id" when an idempotency key is reused for another body;
// FAILED_PRECONDITION when a request's state forbids the change.
class RequestStore {
 public:
  RequestStore(RedisClient* redis, RequestStoreOptions options = {});

  // Stores a validated request (see ValidateNewRequest) unless it replays an earlier
  // submit or duplicates an open request of the same resident phone and category.
  absl::StatusOr<SubmitResult> Submit(absl::string_view district, absl::string_view request_id,
                                      const RequestContent& content, absl::Time deadline);

  // The request with `id` ("<district>-<n>").
  absl::StatusOr<HelpRequest> Get(absl::string_view id, absl::Time deadline);

  // Up to `page_size` requests matching `filter` with sequence numbers below `cursor`
  // (nullopt: from the newest), newest first.
  absl::StatusOr<RequestPage> List(const RequestFilter& filter, std::optional<int64_t> cursor,
                                   int page_size, absl::Time deadline);

  // Cancels an open request; returns it. Cancelling a cancelled request returns it
  // unchanged. `actor` is recorded in the event.
  absl::StatusOr<HelpRequest> Cancel(absl::string_view id, absl::string_view reason,
                                     absl::string_view actor, absl::Time deadline);

 private:
  RedisClient* const redis_;
  const RequestStoreOptions options_;
  const LuaScript submit_;
  const LuaScript cancel_;
  const LuaScript list_;
};

// The district part of a request id ("wuxing-42" -> "wuxing"), or INVALID_ARGUMENT
// naming `field`.
absl::StatusOr<std::string> DistrictOfRequestId(absl::string_view field, absl::string_view id);

// The canonical JSON document of a request's content, as stored and compared for
// idempotency. Equal contents give equal documents.
std::string EncodeRequestContent(const RequestContent& content);
// Reads a request hash; NOT_FOUND when it is empty, INTERNAL when it is corrupt.
absl::StatusOr<HelpRequest> RequestFromFields(const HashFields& fields);
// Reads a document made by EncodeRequestContent. INTERNAL if it is corrupt.
absl::StatusOr<RequestContent> DecodeRequestContent(absl::string_view doc);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_REQUEST_STORE_H_
