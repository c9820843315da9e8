#include "server/points_service.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/field_violations.h"
#include "engine/volunteer_validator.h"
#include "server/grpc_status.h"
#include "server/page_token.h"

namespace yiyuan {
namespace {

bool IsStaff(const Principal& p) { return p.role == Role::kOperator || p.role == Role::kAdmin; }

absl::Status OnlyOwnKiosk(const Principal& p) {
  return absl::PermissionDeniedError(
      absl::StrCat("this token acts only at kiosk ", p.kiosk_id));
}

// The account a GetBalance (`listing` false) or ListLedger (`listing` true) call is
// about, checked against the caller's scope; nullopt for "every account" (staff
// listing the whole ledger).
absl::StatusOr<std::optional<PointsAccount>> AccountFor(const Principal& p,
                                                        absl::string_view requested,
                                                        absl::string_view district,
                                                        bool listing) {
  std::string name(requested);
  if (name.empty()) {
    if (p.role == Role::kVolunteerApp && !p.volunteer_id.empty()) {
      name = PointsAccount::Volunteer(p.volunteer_id).Name();
    } else if (p.role == Role::kKiosk) {
      name = PointsAccount::Kiosk(p.kiosk_id).Name();
    } else if (listing && IsStaff(p)) {
      return std::nullopt;
    } else {
      return InvalidField("account", "is required");
    }
  }
  absl::StatusOr<PointsAccount> a = ParsePointsAccount("account", name, district);
  if (!a.ok()) return a.status();
  bool volunteer = a->kind == PointsAccount::Kind::kVolunteer;
  if (p.role == Role::kVolunteerApp) {
    if (!volunteer || (!p.volunteer_id.empty() && p.volunteer_id != a->id)) {
      return absl::PermissionDeniedError("a volunteer app sees only its volunteer's account");
    }
  } else if (p.role == Role::kKiosk) {
    bool own = a->kind == PointsAccount::Kind::kKiosk && a->id == p.kiosk_id;
    if (!own && !(volunteer && !listing)) return OnlyOwnKiosk(p);
  }
  return std::optional<PointsAccount>(*std::move(a));
}

// The kiosk a Redeem names: a KIOSK token's own (by default) and no other.
absl::StatusOr<std::string> KioskFor(const Principal& p, absl::string_view requested) {
  std::string kiosk(requested);
  if (p.role == Role::kKiosk) {
    if (kiosk.empty()) kiosk = p.kiosk_id;
    if (kiosk != p.kiosk_id) return OnlyOwnKiosk(p);
  }
  if (absl::Status s = ValidatePointsId("kiosk_id", kiosk, /*required=*/true); !s.ok()) return s;
  return kiosk;
}

// A volunteer id that must belong to `district`.
void CheckVolunteerId(FieldViolations& v, absl::string_view field, absl::string_view id,
                      absl::string_view district) {
  absl::StatusOr<std::string> d = DistrictOfVolunteerId(field, id);
  if (!d.ok()) {
    v.AddFrom(d.status());
  } else if (*d != district) {
    v.Add(field, absl::StrCat("volunteer ", id, " is not of district ", district));
  }
}

void ToProto(const LedgerEntry& e, v1::LedgerEntry* out) {
  out->set_entry_id(e.entry_id);
  out->set_district(e.district);
  out->set_kind(static_cast<v1::LedgerKind>(e.kind));
  out->set_from_account(e.from_account);
  out->set_to_account(e.to_account);
  out->set_amount(e.amount);
  out->set_request_id(e.request_id);
  out->set_item_id(e.item_id);
  out->set_quantity(e.quantity);
  out->set_unit_price_points(e.unit_price_points);
  out->set_reverses_entry_id(e.reverses_entry_id);
  out->set_reversed_by_entry_id(e.reversed_by_entry_id);
  out->set_reason(e.reason);
  out->set_idempotency_key(e.idempotency_key);
  out->set_actor(e.actor);
  out->set_time_ms(e.time_ms);
}

void ToProto(const PointsBalance& b, v1::Balance* out) {
  out->set_account(b.account);
  out->set_district(b.district);
  out->set_balance(b.balance);
  out->set_pending(b.pending);
  out->set_last_entry_id(b.last_entry_id);
  out->set_update_time_ms(b.update_time_ms);
}

void ToProto(const CatalogItem& item, v1::CatalogItem* out) {
  out->set_kiosk_id(item.kiosk_id);
  out->set_item_id(item.item_id);
  out->set_district(item.district);
  out->set_name(item.name);
  out->set_description(item.description);
  out->set_price_points(item.price_points);
  out->set_stock(item.stock);
  out->set_active(item.active);
  out->set_create_time_ms(item.create_time_ms);
  out->set_update_time_ms(item.update_time_ms);
}

void ToProto(const PointsWrite& w, v1::Redemption* out) {
  ToProto(w.entry, out->mutable_entry());
  ToProto(w.balance, out->mutable_balance());
  if (w.item.has_value()) ToProto(*w.item, out->mutable_item());
  out->set_remaining_stock(std::max<int64_t>(w.remaining_stock, 0));
  out->set_volunteer_name(w.volunteer_name);
  out->set_replayed(w.replayed);
}

// The catalog change an UpsertCatalogItem asks for, validated.
absl::StatusOr<CatalogEdit> EditFromProto(const v1::UpsertCatalogItemRequest& req,
                                          absl::string_view district) {
  const v1::CatalogItem& item = req.item();
  FieldViolations v;
  v.AddFrom(ValidatePointsId("item.kiosk_id", item.kiosk_id(), /*required=*/true));
  v.AddFrom(ValidatePointsId("item.item_id", item.item_id(), /*required=*/true));
  CatalogEdit edit;
  edit.district = std::string(district);
  edit.kiosk_id = item.kiosk_id();
  edit.item_id = item.item_id();
  edit.stock_delta = req.stock_delta();
  // An empty mask means every field, except with a stock_delta alone: a delivery (or a
  // stock count) that changes only the stock of an existing item.
  bool delivery = req.update_mask().paths().empty() && req.stock_delta() != 0;
  edit.all_fields = req.update_mask().paths().empty() && !delivery;
  // Unchanged fields are checked with harmless stand-ins.
  CatalogItem probe;
  probe.name = "-";
  probe.price_points = 1;
  bool stock_named = edit.all_fields;
  for (const std::string& path : req.update_mask().paths()) {
    if (path == "name") {
      edit.name = item.name();
      probe.name = item.name();
    } else if (path == "description") {
      edit.description = item.description();
      probe.description = item.description();
    } else if (path == "price_points") {
      edit.price_points = item.price_points();
      probe.price_points = item.price_points();
    } else if (path == "stock") {
      edit.stock = item.stock();
      probe.stock = item.stock();
      stock_named = true;
    } else if (path == "active") {
      edit.active = item.active();
    } else {
      v.Add("update_mask", absl::StrCat("\"", path,
                                        "\" cannot be changed (changeable: name, description, "
                                        "price_points, stock, active)"));
    }
  }
  if (edit.all_fields) {
    edit.name = item.name();
    edit.description = item.description();
    edit.price_points = item.price_points();
    edit.stock = item.stock();
    edit.active = item.active();
    probe.name = item.name();
    probe.description = item.description();
    probe.price_points = item.price_points();
    probe.stock = item.stock();
  }
  v.AddFrom(ValidateCatalogFields("item", probe));
  if (req.stock_delta() != 0 && stock_named) {
    v.Add("stock_delta", "cannot be combined with setting stock (name the other fields in "
                         "update_mask)");
  } else if (req.stock_delta() > kMaxPricePoints || req.stock_delta() < -kMaxPricePoints) {
    v.Add("stock_delta", absl::StrCat("must be within ±", kMaxPricePoints));
  }
  if (!v.empty()) return v.ToStatus();
  return edit;
}

// What every handler starts from: the call's deadline, the caller (authorized for
// `roles`; empty roles: any authenticated caller) and the district it acts on.
struct CallScope {
  absl::Time deadline;
  Principal caller;
  std::string district;
};

absl::StatusOr<CallScope> BeginCall(const ServiceEnv& env, const grpc::ServerContext& context,
                                    std::initializer_list<Role> roles, absl::string_view method,
                                    absl::string_view requested_district) {
  CallScope scope;
  scope.deadline = CallDeadline(context, env.max_call_time);
  absl::StatusOr<Principal> p =
      roles.size() == 0 ? AuthenticateCall(env, context, scope.deadline)
                        : AuthorizeCall(env, context, scope.deadline, roles, method);
  if (!p.ok()) return p.status();
  scope.caller = *std::move(p);
  absl::StatusOr<std::string> district =
      ResolveDistrict(scope.caller, "district", requested_district, env.default_district);
  if (!district.ok()) return district.status();
  scope.district = *std::move(district);
  return scope;
}

}  // namespace

grpc::Status PointsService::GetBalance(grpc::ServerContext* context,
                                       const v1::GetBalanceRequest* req, v1::Balance* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {Role::kOperator, Role::kAdmin, Role::kVolunteerApp, Role::kKiosk},
                "GetBalance", req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  absl::StatusOr<std::optional<PointsAccount>> account =
      AccountFor(caller, req->account(), district, /*listing=*/false);
  if (!account.ok()) return ToGrpcStatus(account.status());
  absl::StatusOr<PointsBalance> b = points_->Balance(district, **account, deadline);
  if (!b.ok()) return ToGrpcStatus(b.status());
  ToProto(*b, resp);
  return grpc::Status::OK;
}

grpc::Status PointsService::ListLedger(grpc::ServerContext* context,
                                       const v1::ListLedgerRequest* req,
                                       v1::ListLedgerResponse* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {Role::kOperator, Role::kAdmin, Role::kVolunteerApp, Role::kKiosk},
                "ListLedger", req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  absl::StatusOr<std::optional<PointsAccount>> account =
      AccountFor(caller, req->account(), district, /*listing=*/true);
  if (!account.ok()) return ToGrpcStatus(account.status());
  LedgerFilter filter;
  filter.district = district;
  if (account->has_value()) filter.account = (*account)->Name();
  FieldViolations v;
  for (int i = 0; i < req->kinds_size(); ++i) {
    if (req->kinds(i) == v1::LEDGER_KIND_UNSPECIFIED || !v1::LedgerKind_IsValid(req->kinds(i))) {
      v.Add(absl::StrCat("kinds[", i, "]"), "is not a ledger kind");
    } else {
      filter.kinds.push_back(static_cast<LedgerKind>(req->kinds(i)));
    }
  }
  if (req->start_ms() < 0) v.Add("start_ms", "must not be negative");
  if (req->end_ms() < 0) v.Add("end_ms", "must not be negative");
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  filter.start_ms = req->start_ms();
  filter.end_ms = req->end_ms();
  v1::ListLedgerRequest resolved = *req;
  resolved.set_district(district);
  resolved.set_account(filter.account);
  absl::StatusOr<Paging> paging = PagingOf(resolved);
  if (!paging.ok()) return ToGrpcStatus(paging.status());
  absl::StatusOr<Page<LedgerEntry>> page =
      points_->ListLedger(filter, paging->cursor, paging->page_size, deadline);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const LedgerEntry& e : page->items) ToProto(e, resp->add_entries());
  resp->set_next_page_token(paging->NextToken(page->next_cursor));
  return grpc::Status::OK;
}

grpc::Status PointsService::ListCatalog(grpc::ServerContext* context,
                                        const v1::ListCatalogRequest* req,
                                        v1::ListCatalogResponse* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {}, "ListCatalog", req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  std::string kiosk = req->kiosk_id();
  if (kiosk.empty() && caller.role == Role::kKiosk) kiosk = caller.kiosk_id;
  if (absl::Status s = ValidatePointsId("kiosk_id", kiosk, /*required=*/true); !s.ok()) {
    return ToGrpcStatus(s);
  }
  v1::ListCatalogRequest resolved = *req;
  resolved.set_district(district);
  resolved.set_kiosk_id(kiosk);
  absl::StatusOr<Paging> paging = PagingOf(resolved, /*default_size=*/100);
  if (!paging.ok()) return ToGrpcStatus(paging.status());
  absl::StatusOr<Page<CatalogItem>> page = points_->ListCatalog(
      district, kiosk, req->include_inactive(), paging->cursor, paging->page_size, deadline);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const CatalogItem& item : page->items) ToProto(item, resp->add_items());
  resp->set_next_page_token(paging->NextToken(page->next_cursor));
  return grpc::Status::OK;
}

grpc::Status PointsService::UpsertCatalogItem(grpc::ServerContext* context,
                                              const v1::UpsertCatalogItemRequest* req,
                                              v1::CatalogItem* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {Role::kAdmin}, "UpsertCatalogItem", req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  absl::StatusOr<CatalogEdit> edit = EditFromProto(*req, district);
  if (!edit.ok()) return ToGrpcStatus(edit.status());
  edit->actor = caller.token_id;
  absl::StatusOr<std::pair<CatalogItem, bool>> item = points_->Upsert(*edit, deadline);
  if (!item.ok()) return ToGrpcStatus(item.status());
  ToProto(item->first, resp);
  return grpc::Status::OK;
}

grpc::Status PointsService::Redeem(grpc::ServerContext* context, const v1::RedeemRequest* req,
                                   v1::Redemption* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {Role::kKiosk, Role::kOperator, Role::kAdmin}, "Redeem",
                req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  absl::StatusOr<std::string> kiosk = KioskFor(caller, req->kiosk_id());
  if (absl::IsPermissionDenied(kiosk.status())) return ToGrpcStatus(kiosk.status());
  FieldViolations v;
  v.AddFrom(ValidateIdempotencyKey("request_id", req->request_id()));
  CheckVolunteerId(v, "volunteer_id", req->volunteer_id(), district);
  v.AddFrom(kiosk.status());
  v.AddFrom(ValidatePointsId("item_id", req->item_id(), /*required=*/true));
  if (req->quantity() < 1 || req->quantity() > kMaxRedeemQuantity) {
    v.Add("quantity", absl::StrCat("must be from 1 to ", kMaxRedeemQuantity));
  }
  if (req->expected_price_points() < 0 || req->expected_price_points() > kMaxPricePoints) {
    v.Add("expected_price_points", absl::StrCat("must be from 0 to ", kMaxPricePoints));
  }
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  RedeemInput in;
  in.district = district;
  in.idempotency_key = req->request_id();
  in.volunteer_id = req->volunteer_id();
  in.kiosk_id = *kiosk;
  in.item_id = req->item_id();
  in.quantity = req->quantity();
  in.expected_price_points = req->expected_price_points();
  in.actor = caller.token_id;
  absl::StatusOr<PointsWrite> w = points_->Redeem(in, deadline);
  if (!w.ok()) return ToGrpcStatus(w.status());
  ToProto(*w, resp);
  return grpc::Status::OK;
}

grpc::Status PointsService::ReverseRedemption(grpc::ServerContext* context,
                                              const v1::ReverseRedemptionRequest* req,
                                              v1::Redemption* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {Role::kKiosk, Role::kOperator, Role::kAdmin}, "ReverseRedemption",
                req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  FieldViolations v;
  v.AddFrom(ValidateIdempotencyKey("request_id", req->request_id()));
  if (req->entry_id().empty()) {
    v.Add("entry_id", "is required");
  } else if (!absl::StartsWith(req->entry_id(), absl::StrCat(district, "-e"))) {
    v.Add("entry_id", absl::StrCat("must look like ", district, "-e<number>"));
  }
  v.AddFrom(ValidateReason("reason", req->reason()));
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  ReverseInput in;
  in.district = district;
  in.idempotency_key = req->request_id();
  in.entry_id = req->entry_id();
  in.reason = req->reason();
  in.restock = req->restock();
  in.actor = caller.token_id;
  in.only_kiosk = caller.role == Role::kKiosk ? caller.kiosk_id : "";
  absl::StatusOr<PointsWrite> w = points_->Reverse(in, deadline);
  if (!w.ok()) return ToGrpcStatus(w.status());
  ToProto(*w, resp);
  return grpc::Status::OK;
}

grpc::Status PointsService::AdjustPoints(grpc::ServerContext* context,
                                         const v1::AdjustPointsRequest* req,
                                         v1::AdjustPointsResponse* resp) {
  absl::StatusOr<CallScope> call =
      BeginCall(*env_, *context, {Role::kAdmin}, "AdjustPoints", req->district());
  if (!call.ok()) return ToGrpcStatus(call.status());
  const absl::Time deadline = call->deadline;
  const Principal& caller = call->caller;
  const std::string& district = call->district;
  FieldViolations v;
  v.AddFrom(ValidateIdempotencyKey("request_id", req->request_id()));
  if (req->fund_top_up()) {
    if (!req->volunteer_id().empty()) v.Add("volunteer_id", "must be empty for a fund top-up");
    if (req->delta() <= 0) v.Add("delta", "must be positive for a fund top-up");
  } else {
    CheckVolunteerId(v, "volunteer_id", req->volunteer_id(), district);
    if (req->delta() == 0) v.Add("delta", "must not be 0");
  }
  if (req->delta() > kMaxAdjustPoints || req->delta() < -kMaxAdjustPoints) {
    v.Add("delta", absl::StrCat("must be within ±", kMaxAdjustPoints));
  }
  v.AddFrom(ValidateReason("reason", req->reason()));
  if (!v.empty()) return ToGrpcStatus(v.ToStatus());
  AdjustInput in;
  in.district = district;
  in.idempotency_key = req->request_id();
  in.volunteer_id = req->volunteer_id();
  in.delta = req->delta();
  in.reason = req->reason();
  in.fund_top_up = req->fund_top_up();
  in.actor = caller.token_id;
  absl::StatusOr<PointsWrite> w = points_->Adjust(in, deadline);
  if (!w.ok()) return ToGrpcStatus(w.status());
  ToProto(w->entry, resp->mutable_entry());
  ToProto(w->balance, resp->mutable_balance());
  resp->set_replayed(w->replayed);
  return grpc::Status::OK;
}

}  // namespace yiyuan
