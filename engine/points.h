#ifndef YIYUAN_ENGINE_POINTS_H_
#define YIYUAN_ENGINE_POINTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/help_request.h"

// Volunteers' reward points (DESIGN.md section 3): the ledger's domain types, the rule
// that turns a completed assignment into points, and the checks on points input. The
// ledger itself lives in Redis (server/lua/points_lib.lua); nothing here touches it.
namespace yiyuan {

// An account of a district's ledger: "fund", "volunteer:<id>", "kiosk:<id>", or
// "external" (where funding comes from; it has no balance).
struct PointsAccount {
  enum class Kind { kFund, kVolunteer, kKiosk, kExternal };
  Kind kind = Kind::kFund;
  std::string id;  // The volunteer or kiosk id; empty for the fund and external.

  static PointsAccount Fund() { return {Kind::kFund, ""}; }
  static PointsAccount Volunteer(absl::string_view id) { return {Kind::kVolunteer, std::string(id)}; }
  static PointsAccount Kiosk(absl::string_view id) { return {Kind::kKiosk, std::string(id)}; }
  // "fund", "volunteer:<id>", "kiosk:<id>" or "external".
  std::string Name() const;
};

// Parses an account name given in `field`. Volunteer ids must belong to `district`.
// INVALID_ARGUMENT naming `field` otherwise; "external" is refused (it has no balance).
absl::StatusOr<PointsAccount> ParsePointsAccount(absl::string_view field, absl::string_view name,
                                                 absl::string_view district);

// Kinds of ledger entries; numbers match the API's LedgerKind.
enum class LedgerKind { kUnspecified = 0, kEarn, kRedeem, kAdjust, kReversal, kFund };
// "EARN", "REDEEM", ... ("" for kUnspecified).
absl::string_view Name(LedgerKind k);
LedgerKind ParseLedgerKind(absl::string_view name);

// One immutable ledger entry.
struct LedgerEntry {
  std::string entry_id;  // "<district>-e<n>".
  int64_t seq = 0;       // n.
  std::string district;
  LedgerKind kind = LedgerKind::kUnspecified;
  std::string from_account;
  std::string to_account;
  int64_t amount = 0;
  std::string request_id;  // EARN: the request completed.
  std::string item_id;     // REDEEM (and its REVERSAL): the item.
  int quantity = 0;
  int64_t unit_price_points = 0;
  std::string reverses_entry_id;
  std::string reversed_by_entry_id;
  std::string reason;
  std::string idempotency_key;
  std::string actor;
  int64_t time_ms = 0;
};

// An account's balance as read or as it was right after a write.
struct PointsBalance {
  std::string account;
  std::string district;
  int64_t balance = 0;
  int64_t pending = 0;
  std::string last_entry_id;
  int64_t update_time_ms = 0;
};

// What a kiosk offers for points.
struct CatalogItem {
  std::string kiosk_id;
  std::string item_id;
  std::string district;
  std::string name;
  std::string description;
  int64_t price_points = 0;
  int64_t stock = 0;
  bool active = false;
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
};

// How a completed assignment earns points: base + per minute served (up to a cap) +
// a bonus by urgency, rounded down. Only volunteers earn; units do not.
struct PointsRule {
  int64_t base = 10;
  // Points per minute served, in thousandths (200 = 0.2 points a minute).
  int64_t per_minute_milli = 200;
  int64_t routine_bonus = 0;
  int64_t urgent_bonus = 5;
  int64_t crisis_bonus = 10;
  // Minutes beyond this are not paid (a mistyped "6000 minutes" earns 8 hours).
  int max_minutes = 480;

  // What `minutes` of service at `urgency` earns.
  int64_t Amount(int minutes, Urgency urgency) const;
  // How that amount came about, e.g. "base 10 + 45 min × 0.2 + urgent 5"; stored as the
  // EARN entry's reason so every point can be traced.
  std::string Explain(int minutes, Urgency urgency) const;
};

// Parses "--points-rule" text: comma-separated name=value pairs over `base`, names
// base, per_minute (a decimal with at most 3 places), routine, urgent, crisis (the
// bonuses) and max_minutes; all ≥ 0. INVALID_ARGUMENT naming the bad pair.
absl::StatusOr<PointsRule> ParsePointsRule(absl::string_view spec, PointsRule base = {});

// Checks of points input; each returns INVALID_ARGUMENT naming the field.
// A client-chosen idempotency key: 8..64 letters, digits, '-' and '_'.
absl::Status ValidateIdempotencyKey(absl::string_view field, absl::string_view key);
// A kiosk or catalog item id: 1..64 letters, digits, '-' and '_'.
absl::Status ValidatePointsId(absl::string_view field, absl::string_view id, bool required);
// A reason: 1..500 characters of text.
absl::Status ValidateReason(absl::string_view field, absl::string_view reason);
// A catalog item's editable fields (name, description, price_points, stock) under
// "<prefix>.".
absl::Status ValidateCatalogFields(absl::string_view prefix, const CatalogItem& item);

// Limits of the API.
inline constexpr int kMaxRedeemQuantity = 99;
inline constexpr int64_t kMaxPricePoints = 1000000;
inline constexpr int64_t kMaxAdjustPoints = 1000000;

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_POINTS_H_
