#ifndef YIYUAN_SERVER_POINTS_STORE_H_
#define YIYUAN_SERVER_POINTS_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/points.h"
#include "server/redis_client.h"
#include "server/redis_fields.h"

namespace yiyuan {

struct PointsStoreOptions {
  // Approximate cap on each district's event stream (XADD MAXLEN ~).
  int64_t event_stream_max_len = 1000000;
  // Most ledger entries or catalog items one List call looks at in Redis.
  int list_scan_budget = 2000;
};

// Input of a redemption, validated (see PointsService).
struct RedeemInput {
  std::string district;
  std::string idempotency_key;
  std::string volunteer_id;
  std::string kiosk_id;
  std::string item_id;
  int quantity = 0;
  int64_t expected_price_points = 0;  // 0: not checked.
  std::string actor;
};

struct ReverseInput {
  std::string district;
  std::string idempotency_key;
  std::string entry_id;
  std::string reason;
  bool restock = false;
  std::string actor;
  // A KIOSK caller's kiosk: only its own redemptions may be reversed. Empty otherwise.
  std::string only_kiosk;
};

struct AdjustInput {
  std::string district;
  std::string idempotency_key;
  std::string volunteer_id;  // Empty for a fund top-up.
  int64_t delta = 0;
  std::string reason;
  bool fund_top_up = false;
  std::string actor;
};

// A catalog change: every field (create or replace) or only those set.
struct CatalogEdit {
  std::string district;
  std::string kiosk_id;
  std::string item_id;
  bool all_fields = false;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<int64_t> price_points;
  std::optional<int64_t> stock;
  std::optional<bool> active;
  int64_t stock_delta = 0;
  std::string actor;
};

struct LedgerFilter {
  std::string district;
  std::string account;  // Empty: every entry.
  std::vector<LedgerKind> kinds;  // Empty: every kind.
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};

// The result of a ledger write, as first written (a replay returns the same).
struct PointsWrite {
  bool replayed = false;
  LedgerEntry entry;
  // The volunteer's (or for a top-up the fund's) balance right after the write.
  PointsBalance balance;
  std::optional<CatalogItem> item;  // The item redeemed or reversed, as it is now.
  int64_t remaining_stock = -1;     // Right after the write; -1 for no item.
  std::string volunteer_name;
};

// The points ledger and kiosk catalogs in Redis (layout and rules: the header of
// lua/points_lib.lua). Every write is one Lua script: it checks, moves points, writes
// the entry and its event, and remembers its idempotency key, atomically. Thread-safe.
//
// Errors are those of RedisClient, plus: NOT_FOUND for an unknown volunteer, kiosk,
// item or entry; FAILED_PRECONDITION for too few points, too little stock, an inactive
// item, a changed price, or an entry already reversed; INVALID_ARGUMENT "request_id"
// for a key used before with another body; PERMISSION_DENIED when a kiosk reverses
// another kiosk's redemption.
class PointsStore {
 public:
  PointsStore(RedisClient* redis, PointsStoreOptions options = {});

  absl::StatusOr<PointsWrite> Redeem(const RedeemInput& in, absl::Time deadline);
  absl::StatusOr<PointsWrite> Reverse(const ReverseInput& in, absl::Time deadline);
  absl::StatusOr<PointsWrite> Adjust(const AdjustInput& in, absl::Time deadline);
  // The item after the change, and whether it was created.
  absl::StatusOr<std::pair<CatalogItem, bool>> Upsert(const CatalogEdit& edit, absl::Time deadline);

  // NOT_FOUND for a volunteer or kiosk that does not exist; the fund always exists.
  absl::StatusOr<PointsBalance> Balance(absl::string_view district, const PointsAccount& account,
                                        absl::Time deadline);
  // Newest first; the cursor is the entry number to continue below.
  absl::StatusOr<Page<LedgerEntry>> ListLedger(const LedgerFilter& filter,
                                               std::optional<int64_t> cursor, int page_size,
                                               absl::Time deadline);
  // In item id order; the cursor is a position in the catalog.
  absl::StatusOr<Page<CatalogItem>> ListCatalog(absl::string_view district,
                                                absl::string_view kiosk_id, bool include_inactive,
                                                std::optional<int64_t> cursor, int page_size,
                                                absl::Time deadline);

 private:
  std::vector<std::string> Args(absl::string_view district) const;
  absl::StatusOr<PointsWrite> Write(const LuaScript& script, absl::string_view district,
                                    std::vector<std::string> args, absl::Time deadline);

  RedisClient* const redis_;
  const PointsStoreOptions options_;
  const LuaScript redeem_;
  const LuaScript reverse_;
  const LuaScript adjust_;
  const LuaScript upsert_;
  const LuaScript list_ledger_;
  const LuaScript list_catalog_;
};

// Decoders of the stored hashes, exposed for tests and tools.
absl::StatusOr<LedgerEntry> LedgerEntryFromFields(absl::string_view district, const HashFields& f);
absl::StatusOr<CatalogItem> CatalogItemFromFields(absl::string_view district, const HashFields& f);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_POINTS_STORE_H_
