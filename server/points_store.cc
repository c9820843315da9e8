#include "server/points_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/keys.h"

namespace yiyuan {
namespace {

// Scripts that write share the dispatch library (prefix, clock, events) and the
// points library (accounts, entries, idempotency).
LuaScript PointsScript(absl::string_view file_name) {
  return LuaScript::WithLibraries({"dispatch_lib.lua", "points_lib.lua"}, file_name);
}

absl::Status Malformed(absl::string_view script) {
  return absl::InternalError(absl::StrCat("unexpected reply from ", script));
}

int64_t IntegerOf(const RedisValue& v) {
  if (v.type == RedisValue::Type::kInteger) return v.integer;
  int64_t n = 0;
  (void)absl::SimpleAtoi(v.str, &n);
  return n;
}

std::string NameInDoc(const std::string& doc) {
  nlohmann::json j = nlohmann::json::parse(doc, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  auto it = j.find("name");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<LedgerEntry> LedgerEntryFromFields(absl::string_view district, const HashFields& f) {
  LedgerEntry e;
  e.entry_id = f.str("id");
  if (e.entry_id.empty()) return absl::NotFoundError("no such ledger entry");
  size_t at = e.entry_id.rfind("-e");
  if (at != std::string::npos) (void)absl::SimpleAtoi(e.entry_id.substr(at + 2), &e.seq);
  e.district = std::string(district);
  e.kind = ParseLedgerKind(f.str("kind"));
  e.from_account = f.str("from");
  e.to_account = f.str("to");
  e.amount = f.integer("amount");
  e.request_id = f.str("req");
  e.item_id = f.str("item");
  e.quantity = static_cast<int>(f.integer("qty"));
  e.unit_price_points = f.integer("price");
  e.reverses_entry_id = f.str("rev");
  e.reversed_by_entry_id = f.str("revby");
  e.reason = f.str("reason");
  e.idempotency_key = f.str("key");
  e.actor = f.str("actor");
  e.time_ms = f.integer("ms");
  return e;
}

absl::StatusOr<CatalogItem> CatalogItemFromFields(absl::string_view district, const HashFields& f) {
  CatalogItem item;
  item.item_id = f.str("item");
  if (item.item_id.empty()) return absl::NotFoundError("no such catalog item");
  item.kiosk_id = f.str("kiosk");
  item.district = std::string(district);
  item.name = f.str("name");
  item.description = f.str("desc");
  item.price_points = f.integer("price");
  item.stock = f.integer("stock");
  item.active = f.str("active") == "1";
  item.create_time_ms = f.integer("create_ms");
  item.update_time_ms = f.integer("update_ms");
  return item;
}

PointsStore::PointsStore(RedisClient* redis, PointsStoreOptions options)
    : redis_(redis),
      options_(options),
      redeem_(PointsScript("redeem.lua")),
      reverse_(PointsScript("reverse_redemption.lua")),
      adjust_(PointsScript("adjust_points.lua")),
      upsert_(PointsScript("upsert_catalog_item.lua")),
      list_ledger_(LuaScript::Embedded("list_ledger.lua")),
      list_catalog_(LuaScript::Embedded("list_catalog.lua")) {}

std::vector<std::string> PointsStore::Args(absl::string_view district) const {
  return {keys::District(district), std::to_string(options_.event_stream_max_len), ""};
}

absl::StatusOr<PointsWrite> PointsStore::Write(const LuaScript& script, absl::string_view district,
                                               std::vector<std::string> args,
                                               absl::Time deadline) {
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(script, {keys::Ledger(district)}, args, deadline);
  if (!reply.ok()) return reply.status();
  // {outcome, entry fields, account, balance, pending, stock, item fields, volunteer doc}
  const std::vector<RedisValue>& e = reply->elements;
  if (e.size() != 8) return Malformed(script.name());
  PointsWrite out;
  out.replayed = e[0].str == "replayed";
  absl::StatusOr<LedgerEntry> entry = LedgerEntryFromFields(district, HashFields(e[1]));
  if (!entry.ok()) return entry.status();
  out.entry = *std::move(entry);
  out.balance.account = e[2].str;
  out.balance.district = std::string(district);
  out.balance.balance = IntegerOf(e[3]);
  out.balance.pending = IntegerOf(e[4]);
  out.balance.last_entry_id = out.entry.entry_id;
  out.balance.update_time_ms = out.entry.time_ms;
  out.remaining_stock = IntegerOf(e[5]);
  if (!e[6].elements.empty()) {
    absl::StatusOr<CatalogItem> item = CatalogItemFromFields(district, HashFields(e[6]));
    if (item.ok()) out.item = *std::move(item);
  }
  out.volunteer_name = NameInDoc(e[7].str);
  return out;
}

absl::StatusOr<PointsWrite> PointsStore::Redeem(const RedeemInput& in, absl::Time deadline) {
  std::vector<std::string> args = Args(in.district);
  args.insert(args.end(), {in.idempotency_key, in.volunteer_id, in.kiosk_id, in.item_id,
                           std::to_string(in.quantity), std::to_string(in.expected_price_points),
                           in.actor});
  return Write(redeem_, in.district, std::move(args), deadline);
}

absl::StatusOr<PointsWrite> PointsStore::Reverse(const ReverseInput& in, absl::Time deadline) {
  std::vector<std::string> args = Args(in.district);
  args.insert(args.end(), {in.idempotency_key, in.entry_id, in.reason, in.restock ? "1" : "0",
                           in.actor, in.only_kiosk});
  return Write(reverse_, in.district, std::move(args), deadline);
}

absl::StatusOr<PointsWrite> PointsStore::Adjust(const AdjustInput& in, absl::Time deadline) {
  std::vector<std::string> args = Args(in.district);
  args.insert(args.end(), {in.idempotency_key, in.volunteer_id, std::to_string(in.delta),
                           in.reason, in.fund_top_up ? "1" : "0", in.actor});
  return Write(adjust_, in.district, std::move(args), deadline);
}

absl::StatusOr<std::pair<CatalogItem, bool>> PointsStore::Upsert(const CatalogEdit& edit,
                                                                 absl::Time deadline) {
  std::vector<std::string> args = Args(edit.district);
  args.insert(args.end(), {edit.kiosk_id, edit.item_id, edit.all_fields ? "all" : "some",
                           std::to_string(edit.stock_delta), edit.actor});
  if (edit.name.has_value()) args.insert(args.end(), {"name", *edit.name});
  if (edit.description.has_value()) args.insert(args.end(), {"desc", *edit.description});
  if (edit.price_points.has_value()) {
    args.insert(args.end(), {"price", std::to_string(*edit.price_points)});
  }
  if (edit.stock.has_value()) args.insert(args.end(), {"stock", std::to_string(*edit.stock)});
  if (edit.active.has_value()) args.insert(args.end(), {"active", *edit.active ? "1" : "0"});
  absl::StatusOr<RedisValue> reply =
      redis_->Eval(upsert_, {keys::Catalog(edit.district, edit.kiosk_id)}, args, deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::pair<std::string, HashFields>> of = OutcomeAndFields(*reply);
  if (!of.ok()) return of.status();
  absl::StatusOr<CatalogItem> item = CatalogItemFromFields(edit.district, of->second);
  if (!item.ok()) return item.status();
  return std::make_pair(*std::move(item), of->first == "created");
}

absl::StatusOr<PointsBalance> PointsStore::Balance(absl::string_view district,
                                                   const PointsAccount& account,
                                                   absl::Time deadline) {
  std::string name = account.Name();
  std::string key = keys::PointsAccount(district, name);
  std::vector<std::vector<std::string>> commands = {
      {"HMGET", key, "points", "points_pending", "points_last", "points_ms"}};
  if (account.kind == PointsAccount::Kind::kVolunteer) {
    commands.push_back({"EXISTS", key});
  } else if (account.kind == PointsAccount::Kind::kKiosk) {
    commands.push_back({"SISMEMBER", keys::Kiosks(district), account.id});
  }
  absl::StatusOr<std::vector<RedisValue>> replies = redis_->Pipeline(commands, deadline);
  if (!replies.ok()) return replies.status();
  if (replies->size() == 2 && (*replies)[1].integer == 0) {
    return absl::NotFoundError(absl::StrCat("no such account: ", name));
  }
  const std::vector<RedisValue>& f = (*replies)[0].elements;
  if (f.size() != 4) return Malformed("HMGET");
  PointsBalance b;
  b.account = name;
  b.district = std::string(district);
  b.balance = IntegerOf(f[0]);
  b.pending = IntegerOf(f[1]);
  b.last_entry_id = f[2].str;
  b.update_time_ms = IntegerOf(f[3]);
  return b;
}

absl::StatusOr<Page<LedgerEntry>> PointsStore::ListLedger(const LedgerFilter& filter,
                                                          std::optional<int64_t> cursor,
                                                          int page_size, absl::Time deadline) {
  std::string kinds;
  if (!filter.kinds.empty()) {
    kinds = ",";
    for (LedgerKind k : filter.kinds) absl::StrAppend(&kinds, Name(k), ",");
  }
  std::string index = filter.account.empty() ? keys::Ledger(filter.district)
                                             : keys::AccountLedger(filter.district, filter.account);
  absl::StatusOr<RedisValue> reply = redis_->Eval(
      list_ledger_, {index},
      {keys::District(filter.district), cursor.has_value() ? std::to_string(*cursor) : "+inf",
       std::to_string(page_size), std::to_string(std::max(options_.list_scan_budget, page_size)),
       kinds, std::to_string(filter.start_ms), std::to_string(filter.end_ms)},
      deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<ScanPage> scan = ScanPageOf(*reply);
  if (!scan.ok()) return scan.status();
  return PageFromScan<LedgerEntry>(*scan, [&](const HashFields& f) {
    return LedgerEntryFromFields(filter.district, f);
  });
}

absl::StatusOr<Page<CatalogItem>> PointsStore::ListCatalog(absl::string_view district,
                                                           absl::string_view kiosk_id,
                                                           bool include_inactive,
                                                           std::optional<int64_t> cursor,
                                                           int page_size, absl::Time deadline) {
  absl::StatusOr<RedisValue> reply = redis_->Eval(
      list_catalog_, {keys::Catalog(district, kiosk_id)},
      {keys::CatalogItemPrefix(district, kiosk_id), std::to_string(cursor.value_or(0)),
       std::to_string(page_size), std::to_string(std::max(options_.list_scan_budget, page_size)),
       include_inactive ? "1" : "0"},
      deadline);
  if (!reply.ok()) return reply.status();
  absl::StatusOr<ScanPage> scan = ScanPageOf(*reply);
  if (!scan.ok()) return scan.status();
  return PageFromScan<CatalogItem>(
      *scan, [&](const HashFields& f) { return CatalogItemFromFields(district, f); });
}

}  // namespace yiyuan
