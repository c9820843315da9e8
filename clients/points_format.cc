#include "clients/points_format.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "clients/api_format.h"

namespace yiyuan {
namespace {

// The id after "<kind>:" in `account`, or empty when the account is of another kind.
std::string AccountId(absl::string_view account, absl::string_view kind) {
  if (!absl::ConsumePrefix(&account, kind) || !absl::ConsumePrefix(&account, ":")) return "";
  return std::string(account);
}

// "name (id)", or whichever of the two is known.
std::string NameAndId(absl::string_view name, absl::string_view id) {
  if (name.empty()) return std::string(id);
  if (id.empty()) return std::string(name);
  return absl::StrCat(name, " (", id, ")");
}

std::string Points(int64_t n) { return absl::StrCat(n, n == 1 ? " point" : " points"); }

std::string KindName(v1::LedgerKind kind) { return EnumName(*v1::LedgerKind_descriptor(), kind); }

}  // namespace

absl::StatusOr<std::string> ParseAccount(absl::string_view what, absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": is empty"));
  if (absl::EqualsIgnoreCase(text, "fund")) return std::string("fund");
  size_t colon = text.find(':');
  if (colon == absl::string_view::npos) return absl::StrCat("volunteer:", text);
  std::string kind = absl::AsciiStrToLower(text.substr(0, colon));
  absl::string_view id = text.substr(colon + 1);
  if (kind != "volunteer" && kind != "kiosk") {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": \"", text, "\" is not an account; use fund, volunteer:ID or kiosk:ID"));
  }
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": \"", text, "\" names no ", kind));
  }
  return absl::StrCat(kind, ":", id);
}

std::vector<Field> BalanceFields(const v1::Balance& b) {
  return {
      {"account", b.account()},
      {"district", b.district()},
      {"balance", absl::StrCat(b.balance())},
      {"pending", b.pending() == 0 ? "" : absl::StrCat(b.pending())},
      {"last entry", b.last_entry_id()},
      {"updated", LocalTime(b.update_time_ms(), /*with_seconds=*/true)},
  };
}

std::string LedgerTable(const google::protobuf::RepeatedPtrField<v1::LedgerEntry>& entries) {
  std::vector<std::vector<std::string>> rows;
  for (const v1::LedgerEntry& e : entries) {
    std::string item;
    if (!e.item_id().empty()) {
      item = absl::StrCat(e.item_id(), " x", e.quantity(), " @", e.unit_price_points());
    } else if (!e.request_id().empty()) {
      item = absl::StrCat("request ", e.request_id());
    }
    std::vector<std::string> notes;
    if (!e.reverses_entry_id().empty()) notes.push_back("reverses " + e.reverses_entry_id());
    if (!e.reversed_by_entry_id().empty()) {
      notes.push_back("reversed by " + e.reversed_by_entry_id());
    }
    if (!e.reason().empty()) notes.push_back(e.reason());
    rows.push_back({e.entry_id(), LocalTime(e.time_ms(), /*with_seconds=*/true), KindName(e.kind()),
                    e.from_account(), e.to_account(), absl::StrCat(e.amount()), item,
                    e.idempotency_key(), absl::StrJoin(notes, "; ")});
  }
  return FormatTable({"ENTRY", "TIME", "KIND", "FROM", "TO", "AMOUNT", "ITEM", "KEY", "NOTE"},
                     rows);
}

std::vector<Field> LedgerEntryFields(const v1::LedgerEntry& e) {
  return {
      {"entry", e.entry_id()},
      {"district", e.district()},
      {"kind", KindName(e.kind())},
      {"from", e.from_account()},
      {"to", e.to_account()},
      {"amount", absl::StrCat(e.amount())},
      {"request", e.request_id()},
      {"item", e.item_id()},
      {"quantity", e.quantity() == 0 ? "" : absl::StrCat(e.quantity())},
      {"unit price", e.unit_price_points() == 0 ? "" : absl::StrCat(e.unit_price_points())},
      {"reverses", e.reverses_entry_id()},
      {"reversed by", e.reversed_by_entry_id()},
      {"reason", e.reason()},
      {"key", e.idempotency_key()},
      {"actor", e.actor()},
      {"time", LocalTime(e.time_ms(), /*with_seconds=*/true)},
  };
}

std::string CatalogTable(const google::protobuf::RepeatedPtrField<v1::CatalogItem>& items,
                         bool numbered) {
  std::vector<std::string> header = {"ITEM", "NAME", "PRICE", "STOCK", "STATUS"};
  if (numbered) header.insert(header.begin(), "#");
  std::vector<std::vector<std::string>> rows;
  for (const v1::CatalogItem& item : items) {
    std::string status = !item.active()      ? "inactive"
                         : item.stock() <= 0 ? "out of stock"
                                             : "active";
    std::vector<std::string> row = {item.item_id(), item.name(), absl::StrCat(item.price_points()),
                                    absl::StrCat(item.stock()), status};
    if (numbered) row.insert(row.begin(), absl::StrCat(rows.size() + 1));
    rows.push_back(std::move(row));
  }
  return FormatTable(header, rows);
}

std::vector<Field> CatalogItemFields(const v1::CatalogItem& item) {
  return {
      {"kiosk", item.kiosk_id()},
      {"item", item.item_id()},
      {"district", item.district()},
      {"name", item.name()},
      {"description", item.description()},
      {"price", Points(item.price_points())},
      {"stock", absl::StrCat(item.stock())},
      {"status", item.active() ? "active" : "inactive"},
      {"created", LocalTime(item.create_time_ms(), /*with_seconds=*/true)},
      {"updated", LocalTime(item.update_time_ms(), /*with_seconds=*/true)},
  };
}

std::vector<Field> RedemptionFields(const v1::Redemption& r) {
  const v1::LedgerEntry& e = r.entry();
  const bool reversal = e.kind() == v1::LEDGER_REVERSAL;
  std::string volunteer = AccountId(r.balance().account(), "volunteer");
  if (volunteer.empty()) {
    volunteer = AccountId(reversal ? e.to_account() : e.from_account(), "volunteer");
  }
  std::string kiosk = r.item().kiosk_id();
  if (kiosk.empty()) kiosk = AccountId(reversal ? e.from_account() : e.to_account(), "kiosk");
  const int64_t unit_price =
      e.unit_price_points() != 0 ? e.unit_price_points() : r.item().price_points();
  std::vector<Field> out = {
      {"entry", e.entry_id()},
      {"kind", KindName(e.kind())},
      {"reverses", e.reverses_entry_id()},
      {"volunteer", NameAndId(r.volunteer_name(), volunteer)},
      {"kiosk", kiosk},
      {"item",
       NameAndId(r.item().name(), r.item().item_id().empty() ? e.item_id() : r.item().item_id())},
      {"quantity", e.quantity() == 0 ? "" : absl::StrCat(e.quantity())},
      {"unit price", reversal || unit_price == 0 ? "" : Points(unit_price)},
      {reversal ? "returned" : "total", Points(e.amount())},
      {"balance after", Points(r.balance().balance())},
      {"pending", r.balance().pending() == 0 ? "" : Points(r.balance().pending())},
      {"stock left", absl::StrCat(r.remaining_stock())},
      {"reason", e.reason()},
      {"receipt no.", e.idempotency_key()},
      {"time", LocalTime(e.time_ms(), /*with_seconds=*/true)},
  };
  return out;
}

}  // namespace yiyuan
