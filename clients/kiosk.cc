// kiosk: the terminal program of a point-redemption kiosk in a community "love shop".
//
//   kiosk [--server=ADDR] [--token=SECRET] [--kiosk-id=ID] [--district=NAME]
//   kiosk [flags] find VOLUNTEER
//   kiosk [flags] catalog
//   kiosk [flags] ledger [--limit=N]
//   kiosk [flags] redeem --volunteer=VOLUNTEER --item=ITEM [--quantity=N] [--yes]
//                        [--request-id=KEY]
//   kiosk [flags] reverse ENTRY_ID --reason=TEXT [--restock]
//
// Without a command it runs a session for the attendant: it reads one command or answer
// per line from stdin and writes prompts and results to stdout, so it works the same on
// a terminal and with piped input (tests, the demo); with piped input each line read is
// echoed after its prompt, so the output reads like a transcript. At the "kiosk>"
// prompt:
//
//   VOLUNTEER            look the volunteer up (same as "find VOLUNTEER")
//   find VOLUNTEER       show name, masked phone, balance (and pending points) and the
//                        kiosk's catalog
//   redeem [ITEM [QTY]]  redeem for that volunteer: ITEM is the row number (#) in the
//                        catalog shown or the item id; shows the total and the balance
//                        after, asks for confirmation (y/N), prints a receipt
//   catalog, balance     show the catalog, the volunteer's balance again
//   retry                resend the last redemption or reversal that got no answer, with
//                        the same receipt number (never charged twice)
//   reverse [ENTRY_ID]   reverse a redemption made at this kiosk (asks for a reason and
//                        whether the goods go back into stock)
//   ledger [N]           the kiosk's last N ledger entries (default 10)
//   next                 done with this volunteer
//   help, quit           (end of input also quits)
//
// VOLUNTEER is what ParseVolunteerQuery (clients/kiosk_lib.h) reads: a volunteer id
// ("wuxing-v12"), a mobile number ("138 1234 5678"; several volunteers sharing it are
// listed to choose from), "ext:<external id>", or the text of the QR code on a volunteer
// card, "yiyuan:volunteer:<district>:<id>" (or its link form "https://<host>/v/<id>"),
// which a scanner types followed by Enter.
//
// Every redemption and reversal carries a fresh receipt number (NewReceiptNumber) as its
// idempotency key, and the price shown as expected_price_points, so nobody pays a price
// they did not see and a retry after a lost answer is never charged twice.
//
// The kiosk is the token's: a KIOSK token names it and the server says which (GetBalance
// of the token's own account); other tokens need --kiosk-id. Exit status: 0 success
// (a session ends with 0); 1 nothing was done (a call failed, the attendant answered no,
// or the kiosk could not be identified); 2 the command line is wrong.

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "clients/env.h"
#include "clients/kiosk_lib.h"
#include "clients/points_format.h"
#include "clients/text_table.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/flag_names.h"
#include "yiyuan/v1/points.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

using yiyuan::EnvOr;

ABSL_FLAG(std::string, server, EnvOr("YIYUAN_SERVER", "127.0.0.1:50051"),
          "dispatchd's gRPC address (default: $YIYUAN_SERVER, else 127.0.0.1:50051)");
ABSL_FLAG(std::string, token, "", "the kiosk's bearer token (default: $YIYUAN_TOKEN)");
ABSL_FLAG(std::string, kiosk_id, "",
          "the kiosk (default: the KIOSK token's own; required with other tokens)");
ABSL_FLAG(std::string, district, "", "district (default: the token's district)");
ABSL_FLAG(int, timeout_ms, 5000, "deadline of each call in milliseconds");
ABSL_FLAG(std::string, volunteer, "",
          "redeem: the volunteer (an id, a phone, ext:<external id> or the card's QR text)");
ABSL_FLAG(std::string, item, "", "redeem: the catalog item id");
ABSL_FLAG(int, quantity, 1, "redeem: how many, 1..99");
ABSL_FLAG(bool, yes, false, "redeem: do not ask for confirmation");
ABSL_FLAG(std::string, request_id, "",
          "redeem, reverse: the receipt number (idempotency key), 8..64 of [A-Za-z0-9_-]; "
          "give the one printed earlier to retry safely (default: a new one)");
ABSL_FLAG(std::string, reason, "", "reverse: why, 1..500 characters");
ABSL_FLAG(bool, restock, false, "reverse: the goods came back; put them into stock again");
ABSL_FLAG(int, limit, 10, "ledger: how many entries, newest first (at most 500)");

namespace yiyuan {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitCallFailed = 1;
constexpr int kExitUsage = 2;

constexpr absl::string_view kUsage =
    "kiosk: the terminal program of a point-redemption kiosk.\n"
    "\n"
    "Usage:\n"
    "  kiosk [--server=ADDR] [--token=SECRET] [--kiosk-id=ID] [--district=NAME]\n"
    "      an attendant's session, one command per line (\"help\" lists them)\n"
    "  kiosk [flags] find VOLUNTEER\n"
    "  kiosk [flags] catalog\n"
    "  kiosk [flags] ledger [--limit=N]\n"
    "  kiosk [flags] redeem --volunteer=VOLUNTEER --item=ITEM [--quantity=N] [--yes]\n"
    "                       [--request-id=KEY]\n"
    "  kiosk [flags] reverse ENTRY_ID --reason=TEXT [--restock] [--request-id=KEY]\n"
    "\n"
    "VOLUNTEER: an id (wuxing-v12), a mobile number, ext:<external id>, or the QR text of a\n"
    "volunteer card, yiyuan:volunteer:<district>:<id> (or https://<host>/v/<id>).\n"
    "The token comes from --token or $YIYUAN_TOKEN; the server from --server or\n"
    "$YIYUAN_SERVER. Exit status: 0 ok, 1 a call failed, 2 usage error.\n";

constexpr absl::string_view kSessionHelp =
    "Commands:\n"
    "  VOLUNTEER            scan the card's QR code, or type an id, a phone or ext:<id>\n"
    "  find VOLUNTEER       the same\n"
    "  redeem [ITEM [QTY]]  redeem for the volunteer (ITEM: # or id from the catalog)\n"
    "  catalog              show the kiosk's catalog\n"
    "  balance              show the volunteer's balance\n"
    "  retry                resend the last unanswered redemption or reversal (same receipt\n"
    "                       number: never charged twice)\n"
    "  reverse [ENTRY_ID]   reverse a redemption made at this kiosk\n"
    "  ledger [N]           the kiosk's last N ledger entries (default 10)\n"
    "  next                 done with this volunteer\n"
    "  help, quit\n";

void Print(absl::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::string Points(int64_t n) { return absl::StrCat(n, n == 1 ? " point" : " points"); }

// A gRPC status as an absl::Status, with the field violations of an attached
// google.rpc.BadRequest appended to the message ("...; quantity: must be 1..99") and the
// reason of a google.rpc.ErrorInfo kept as the kErrorReasonPayload payload.
absl::Status FromGrpc(const grpc::Status& status) {
  std::string message = status.error_message();
  std::string reason;
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) reason = info.reason();
      google::rpc::BadRequest bad_request;
      if (!any.UnpackTo(&bad_request)) continue;
      for (const auto& v : bad_request.field_violations()) {
        absl::StrAppend(&message, "; ", v.field(), ": ", v.description());
      }
    }
  }
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), message);
  if (!reason.empty()) out.SetPayload(kErrorReasonPayload, absl::Cord(reason));
  return out;
}

// The channel to dispatchd and the credentials every call carries.
class Connection {
 public:
  Connection(std::string address, std::string token, absl::Duration timeout)
      : address_(std::move(address)),
        token_(std::move(token)),
        timeout_(timeout),
        channel_(grpc::CreateChannel(address_, grpc::InsecureChannelCredentials())),
        points_(v1::PointsService::NewStub(channel_)),
        volunteer_(v1::VolunteerService::NewStub(channel_)) {}

  const std::string& address() const { return address_; }
  v1::PointsService::Stub& points() { return *points_; }
  v1::VolunteerService::Stub& volunteer() { return *volunteer_; }

  // A context for one call, with the bearer token and the deadline set.
  std::unique_ptr<grpc::ClientContext> NewCall() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
    return context;
  }

 private:
  const std::string address_;
  const std::string token_;
  const absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::PointsService::Stub> points_;
  std::unique_ptr<v1::VolunteerService::Stub> volunteer_;
};

// The attendant's side: prompts on stdout, answers from stdin, one per line.
class Console {
 public:
  Console() : echo_(!isatty(STDIN_FILENO)) {}

  // Shows `prompt` and reads a line; nullopt at the end of input. With piped input the
  // line is echoed, so that the output reads like a transcript.
  absl::optional<std::string> Ask(absl::string_view prompt) {
    Print(prompt);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) {
      Print("\n");
      return absl::nullopt;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (echo_) Print(absl::StrCat(line, "\n"));
    return line;
  }

  // A y/N question: true only for yes; the end of input is no.
  bool Confirm(absl::string_view question) {
    absl::optional<std::string> answer = Ask(absl::StrCat(question, " [y/N] "));
    return answer.has_value() && IsYes(*answer);
  }

 private:
  const bool echo_;
};

// Which kiosk this is and in which district.
struct KioskIdentity {
  std::string kiosk_id;
  std::string district;
};

// Finds out which kiosk the token belongs to: GetBalance with no account returns a KIOSK
// token's own account ("kiosk:<id>"), and ListCatalog with no kiosk lists its items;
// `kiosk_flag` overrides both. Fails when the kiosk cannot be known.
absl::StatusOr<KioskIdentity> Identify(Connection& conn, const std::string& kiosk_flag,
                                       const std::string& district_flag) {
  KioskIdentity out{kiosk_flag, district_flag};
  v1::GetBalanceRequest request;
  request.set_district(district_flag);
  if (!kiosk_flag.empty()) request.set_account(absl::StrCat("kiosk:", kiosk_flag));
  v1::Balance balance;
  grpc::Status status = conn.points().GetBalance(conn.NewCall().get(), request, &balance);
  absl::string_view account = balance.account();
  if (status.ok() && absl::ConsumePrefix(&account, "kiosk:") && !account.empty()) {
    if (out.kiosk_id.empty()) out.kiosk_id = std::string(account);
    if (out.district.empty()) out.district = balance.district();
    return out;
  }
  if (!kiosk_flag.empty()) {
    // A kiosk's balance is only a courtesy here: the kiosk may be new, or the token may
    // belong to another kiosk, which the server will say when it matters.
    if (!status.ok()) {
      Print(
          DescribeFailure(absl::StrCat("read kiosk ", kiosk_flag, "'s balance"), FromGrpc(status)));
    }
    return out;
  }
  absl::Status why =
      status.ok()
          ? absl::InvalidArgumentError(absl::StrCat("the token's account is ", balance.account()))
          : FromGrpc(status);
  if (absl::IsUnavailable(why) || absl::IsDeadlineExceeded(why) || absl::IsUnauthenticated(why)) {
    return why;
  }
  v1::ListCatalogRequest catalog_request;
  catalog_request.set_district(district_flag);
  catalog_request.set_page_size(1);
  v1::ListCatalogResponse catalog;
  if (conn.points().ListCatalog(conn.NewCall().get(), catalog_request, &catalog).ok() &&
      catalog.items_size() > 0) {
    out.kiosk_id = catalog.items(0).kiosk_id();
    if (out.district.empty()) out.district = catalog.items(0).district();
    return out;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--kiosk-id is required: the server did not say which kiosk this token belongs to (",
      absl::StatusCodeToString(why.code()), ": ", why.message(), ")"));
}

// A redemption that got no answer, kept to be resent as it was.
struct PendingRedeem {
  v1::RedeemRequest request;
  v1::CatalogItem item;  // as shown when confirmed
  std::string volunteer_name;
};

// One kiosk's work: look-ups, catalog, redemptions, reversals, ledger.
class Kiosk {
 public:
  Kiosk(Connection& conn, Console& console, KioskIdentity identity)
      : conn_(conn), console_(console), identity_(std::move(identity)) {}

  // The attendant's session, until "quit" or the end of input. Returns the exit status.
  int RunSession() {
    Print(
        absl::StrCat("Yiyuan kiosk ", identity_.kiosk_id,
                     identity_.district.empty() ? "" : absl::StrCat(" (", identity_.district, ")"),
                     ", server ", conn_.address(),
                     "\nScan a volunteer's QR code, or type their id or phone number; \"help\" "
                     "lists the commands.\n"));
    while (true) {
      absl::optional<std::string> line = console_.Ask(
          volunteer_.has_value() ? absl::StrCat("\nkiosk ", volunteer_->id(), "> ") : "\nkiosk> ");
      if (!line.has_value()) break;
      if (!Dispatch(*line)) break;
    }
    Print("Bye.\n");
    return kExitOk;
  }

  // One-shot commands. Each returns the exit status.
  int RunFind(absl::string_view text) { return Find(text) ? kExitOk : kExitCallFailed; }

  int RunCatalog() { return ShowCatalog() ? kExitOk : kExitCallFailed; }

  int RunLedger(int limit) { return ShowLedger(limit) ? kExitOk : kExitCallFailed; }

  int RunRedeem(absl::string_view volunteer, absl::string_view item, int quantity,
                const std::string& request_id, bool assume_yes) {
    assume_yes_ = assume_yes;
    if (!Find(volunteer)) return kExitCallFailed;
    return Redeem(item, quantity, request_id) == Outcome::kDone ? kExitOk : kExitCallFailed;
  }

  int RunReverse(const std::string& entry_id, const std::string& reason, bool restock,
                 const std::string& request_id) {
    assume_yes_ = true;  // nothing to ask: the flags say it all
    v1::ReverseRedemptionRequest request;
    request.set_request_id(request_id.empty() ? NewReceiptNumber(gen_) : request_id);
    request.set_district(identity_.district);
    request.set_entry_id(entry_id);
    request.set_reason(reason);
    request.set_restock(restock);
    return SendReverse(std::move(request)) == Outcome::kDone ? kExitOk : kExitCallFailed;
  }

 private:
  enum class Outcome { kDone, kCancelled, kFailed };

  // Runs one line of the session; false to end it.
  bool Dispatch(absl::string_view line) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) return true;
    std::pair<absl::string_view, absl::string_view> command_rest =
        absl::StrSplit(line, absl::MaxSplits(absl::ByAnyChar(" \t"), 1));
    const std::string command = absl::AsciiStrToLower(command_rest.first);
    const absl::string_view rest = absl::StripAsciiWhitespace(command_rest.second);
    std::vector<std::string> words =
        absl::StrSplit(rest, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (command == "quit" || command == "exit" || command == "q") return false;
    if (command == "help" || command == "?") {
      Print(kSessionHelp);
    } else if (command == "find") {
      if (rest.empty()) {
        Print("find what? Scan the card or type an id or phone number.\n");
      } else {
        Find(rest);
      }
    } else if (command == "redeem" || command == "r") {
      if (words.size() > 2) {
        Print("usage: redeem [ITEM [QUANTITY]]\n");
      } else {
        RedeemFromSession(words);
      }
    } else if (command == "catalog" || command == "c") {
      ShowCatalog();
    } else if (command == "balance" || command == "b") {
      if (!volunteer_.has_value()) {
        Print(kNoVolunteer);
      } else {
        ShowVolunteer();
      }
    } else if (command == "retry") {
      Retry();
    } else if (command == "reverse") {
      ReverseFromSession(words.empty() ? "" : words[0]);
    } else if (command == "ledger" || command == "l") {
      int limit = 10;
      if (!words.empty() && (!absl::SimpleAtoi(words[0], &limit) || limit < 1 || limit > 500)) {
        Print("usage: ledger [N], N from 1 to 500\n");
      } else {
        ShowLedger(limit);
      }
    } else if (command == "next" || command == "done") {
      if (volunteer_.has_value()) Print(absl::StrCat("Done with ", volunteer_->name(), ".\n"));
      volunteer_.reset();
      balance_.reset();
    } else {
      Find(line);
    }
    return true;
  }

  static constexpr absl::string_view kNoVolunteer =
      "No volunteer yet: scan their QR code, or type their id or phone number.\n";

  // --- Look-ups ------------------------------------------------------------------------

  // Looks the volunteer up and shows them with their balance and the catalog. False
  // when nobody was found (or the attendant chose nobody).
  bool Find(absl::string_view text) {
    absl::StatusOr<VolunteerQuery> query = ParseVolunteerQuery(text);
    if (!query.ok()) {
      Print(absl::StrCat(query.status().message(), "\n"));
      return false;
    }
    if (!query->district.empty() && !identity_.district.empty() &&
        query->district != identity_.district) {
      Print(absl::StrCat("This card is from district ", query->district, "; this kiosk serves ",
                         identity_.district, ".\n"));
      return false;
    }
    absl::optional<v1::Volunteer> found;
    if (query->kind == VolunteerQuery::Kind::kId) {
      v1::GetVolunteerRequest request;
      request.set_id(query->value);
      v1::Volunteer volunteer;
      grpc::Status status =
          conn_.volunteer().GetVolunteer(conn_.NewCall().get(), request, &volunteer);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
        Print(absl::StrCat("No volunteer ", query->value, ".\n"));
        return false;
      }
      if (!status.ok()) {
        Print(DescribeFailure(absl::StrCat("look up ", query->value), FromGrpc(status)));
        return false;
      }
      found = std::move(volunteer);
    } else {
      found = FindByFilter(*query);
      if (!found.has_value()) return false;
    }
    volunteer_ = std::move(found);
    balance_.reset();
    ShowVolunteer();
    ShowCatalog();
    return true;
  }

  // ListVolunteers by phone or external id; lets the attendant choose among several.
  absl::optional<v1::Volunteer> FindByFilter(const VolunteerQuery& query) {
    const bool by_phone = query.kind == VolunteerQuery::Kind::kPhone;
    const std::string shown = by_phone ? absl::StrCat("phone ", query.value.substr(0, 3), "****",
                                                      query.value.substr(query.value.size() - 4))
                                       : absl::StrCat("external id ", query.value);
    v1::ListVolunteersRequest request;
    request.set_district(identity_.district);
    if (by_phone) {
      request.set_phone(query.value);
    } else {
      request.set_external_id(query.value);
    }
    request.set_page_size(50);
    v1::ListVolunteersResponse response;
    grpc::Status status =
        conn_.volunteer().ListVolunteers(conn_.NewCall().get(), request, &response);
    if (!status.ok()) {
      Print(DescribeFailure(absl::StrCat("look up ", shown), FromGrpc(status)));
      return absl::nullopt;
    }
    if (response.volunteers_size() == 0) {
      Print(absl::StrCat("No volunteer with ", shown, ".\n"));
      return absl::nullopt;
    }
    if (response.volunteers_size() == 1) return response.volunteers(0);
    std::vector<std::vector<std::string>> rows;
    for (const v1::Volunteer& v : response.volunteers()) {
      rows.push_back({absl::StrCat(rows.size() + 1), v.id(), v.name(), v.phone()});
    }
    Print(absl::StrCat(response.volunteers_size(), " volunteers have ", shown, ":\n",
                       FormatTable({"#", "ID", "NAME", "PHONE"}, rows)));
    while (true) {
      absl::optional<std::string> answer = console_.Ask("Which one (#, empty to cancel)? ");
      if (!answer.has_value() || absl::StripAsciiWhitespace(*answer).empty()) {
        Print("Cancelled.\n");
        return absl::nullopt;
      }
      int row = 0;
      if (absl::SimpleAtoi(*answer, &row) && row >= 1 && row <= response.volunteers_size()) {
        return response.volunteers(row - 1);
      }
      Print(absl::StrCat("Type a number from 1 to ", response.volunteers_size(), ".\n"));
    }
  }

  // Reads the current volunteer's balance; nullopt (and says why) when it cannot.
  absl::optional<v1::Balance> ReadBalance() {
    v1::GetBalanceRequest request;
    request.set_district(identity_.district);
    request.set_account(absl::StrCat("volunteer:", volunteer_->id()));
    v1::Balance balance;
    grpc::Status status = conn_.points().GetBalance(conn_.NewCall().get(), request, &balance);
    if (!status.ok()) {
      Print(
          DescribeFailure(absl::StrCat("read ", volunteer_->id(), "'s balance"), FromGrpc(status)));
      return absl::nullopt;
    }
    return balance;
  }

  void ShowVolunteer() {
    balance_ = ReadBalance();
    std::vector<Field> fields = {
        {"volunteer", absl::StrCat(volunteer_->name(), " (", volunteer_->id(), ")")},
        {"phone", volunteer_->phone()},
    };
    if (balance_.has_value()) {
      fields.push_back({"balance", Points(balance_->balance())});
      if (balance_->pending() > 0) {
        fields.push_back({"pending", absl::StrCat(Points(balance_->pending()),
                                                  " (paid when the fund is topped up)")});
      }
    } else {
      fields.push_back(
          {"balance", absl::StrCat(Points(volunteer_->points_balance()), " (from the profile)")});
    }
    Print(absl::StrCat("\n", FormatFields(fields)));
  }

  // Every item of the kiosk (all pages), inactive ones too when `include_inactive`.
  absl::StatusOr<google::protobuf::RepeatedPtrField<v1::CatalogItem>> ReadCatalog(
      bool include_inactive) {
    google::protobuf::RepeatedPtrField<v1::CatalogItem> out;
    v1::ListCatalogRequest request;
    request.set_district(identity_.district);
    request.set_kiosk_id(identity_.kiosk_id);
    request.set_include_inactive(include_inactive);
    request.set_page_size(500);
    do {
      v1::ListCatalogResponse page;
      grpc::Status status = conn_.points().ListCatalog(conn_.NewCall().get(), request, &page);
      if (!status.ok()) return FromGrpc(status);
      for (v1::CatalogItem& item : *page.mutable_items()) *out.Add() = std::move(item);
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
    return out;
  }

  // Shows the active items, numbered; they become what "redeem #" refers to.
  bool ShowCatalog() {
    absl::StatusOr<google::protobuf::RepeatedPtrField<v1::CatalogItem>> items =
        ReadCatalog(/*include_inactive=*/false);
    if (!items.ok()) {
      Print(DescribeFailure(absl::StrCat("read kiosk ", identity_.kiosk_id, "'s catalog"),
                            items.status()));
      return false;
    }
    shown_.Clear();
    for (v1::CatalogItem& item : *items) {
      if (item.active()) *shown_.Add() = std::move(item);
    }
    if (shown_.empty()) {
      Print(absl::StrCat("\nKiosk ", identity_.kiosk_id, " offers nothing at the moment.\n"));
    } else {
      Print(absl::StrCat("\nCatalog of kiosk ", identity_.kiosk_id, " (prices in points):\n",
                         CatalogTable(shown_, /*numbered=*/true)));
    }
    return true;
  }

  bool ShowLedger(int limit) {
    v1::ListLedgerRequest request;
    request.set_district(identity_.district);
    request.set_account(absl::StrCat("kiosk:", identity_.kiosk_id));
    request.set_page_size(limit);
    v1::ListLedgerResponse response;
    grpc::Status status = conn_.points().ListLedger(conn_.NewCall().get(), request, &response);
    if (!status.ok()) {
      Print(DescribeFailure(absl::StrCat("read kiosk ", identity_.kiosk_id, "'s ledger"),
                            FromGrpc(status)));
      return false;
    }
    if (response.entries_size() == 0) {
      Print(absl::StrCat("No ledger entries for kiosk ", identity_.kiosk_id, " yet.\n"));
    } else {
      Print(absl::StrCat("Ledger of kiosk ", identity_.kiosk_id, ", newest first:\n",
                         LedgerTable(response.entries())));
    }
    return true;
  }

  // --- Redemptions ---------------------------------------------------------------------

  // "redeem [ITEM [QTY]]": asks for what is missing.
  void RedeemFromSession(const std::vector<std::string>& words) {
    if (!volunteer_.has_value()) {
      Print(kNoVolunteer);
      return;
    }
    if (shown_.empty() && !ShowCatalog()) return;
    std::string item = words.empty() ? "" : words[0];
    if (item.empty()) {
      absl::optional<std::string> answer = console_.Ask("Item (# or id)? ");
      if (!answer.has_value()) return;
      item = std::string(absl::StripAsciiWhitespace(*answer));
      if (item.empty()) {
        Print("Cancelled; nothing was redeemed.\n");
        return;
      }
    }
    std::string quantity_text = words.size() > 1 ? words[1] : "";
    if (words.size() < 2) {
      absl::optional<std::string> answer = console_.Ask("Quantity [1]? ");
      if (!answer.has_value()) return;
      quantity_text = std::string(absl::StripAsciiWhitespace(*answer));
      if (quantity_text.empty()) quantity_text = "1";
    }
    absl::StatusOr<int> quantity = ParseQuantity(quantity_text);
    if (!quantity.ok()) {
      Print(absl::StrCat(quantity.status().message(), "\n"));
      return;
    }
    Redeem(item, *quantity, "");
  }

  // Redeems `quantity` of `item_text` (# or id of the catalog shown) for the current
  // volunteer: reads the item and balance afresh, refuses what is bound to fail, shows
  // the total and the balance after, asks, and sends with `request_id` (a new receipt
  // number when empty).
  Outcome Redeem(absl::string_view item_text, int quantity, const std::string& request_id) {
    if (shown_.empty() && !ShowCatalog()) return Outcome::kFailed;
    absl::StatusOr<v1::CatalogItem> chosen = ResolveItem(item_text, shown_);
    if (!chosen.ok()) {
      Print(absl::StrCat("No item \"", item_text, "\" in kiosk ", identity_.kiosk_id,
                         "'s catalog; type its # or id from the list.\n"));
      return Outcome::kFailed;
    }
    // Fresh figures for the confirmation: the price shown there is the price paid.
    absl::StatusOr<google::protobuf::RepeatedPtrField<v1::CatalogItem>> items =
        ReadCatalog(/*include_inactive=*/false);
    if (!items.ok()) {
      Print(DescribeFailure(absl::StrCat("read kiosk ", identity_.kiosk_id, "'s catalog"),
                            items.status()));
      return Outcome::kFailed;
    }
    absl::optional<v1::CatalogItem> item;
    for (const v1::CatalogItem& i : *items) {
      if (i.item_id() == chosen->item_id()) item = i;
    }
    if (!item.has_value() || !item->active()) {
      Print(absl::StrCat(chosen->name(), " (", chosen->item_id(),
                         ") is no longer offered at this kiosk.\n"));
      return Outcome::kFailed;
    }
    balance_ = ReadBalance();
    if (!balance_.has_value()) return Outcome::kFailed;
    v1::RedeemRequest request;
    request.set_request_id(request_id.empty() ? NewReceiptNumber(gen_) : request_id);
    request.set_district(identity_.district);
    request.set_volunteer_id(volunteer_->id());
    request.set_kiosk_id(identity_.kiosk_id);
    request.set_item_id(item->item_id());
    request.set_quantity(quantity);
    request.set_expected_price_points(item->price_points());
    // With a receipt number given, this may retry a redemption already recorded: the
    // balance and stock may show it, so they prove nothing; the server answers for the
    // receipt number.
    if (request_id.empty()) {
      absl::optional<RedeemFailure> problem =
          CheckRedeem(request, *item, balance_->balance(), volunteer_->name());
      if (problem.has_value()) {
        Print(problem->message);
        return Outcome::kFailed;
      }
    }
    const int64_t total = item->price_points() * quantity;
    Print(absl::StrCat(
        "\nRedeem ", quantity, " x ", item->name(), " (", item->item_id(), ") at ",
        Points(item->price_points()), " each = ", Points(total), " for ", volunteer_->name(), ".\n",
        request_id.empty() ? absl::StrCat("Balance ", balance_->balance(), " -> ",
                                          Points(balance_->balance() - total), " after.\n")
                           : absl::StrCat("Receipt number ", request_id,
                                          " given: if it was recorded before, its receipt comes "
                                          "back and nothing is charged again.\n")));
    if (!assume_yes_ && !console_.Confirm("Confirm?")) {
      Print("Cancelled; nothing was redeemed.\n");
      return Outcome::kCancelled;
    }
    return SendRedeem(PendingRedeem{std::move(request), *std::move(item), volunteer_->name()});
  }

  // Sends a confirmed redemption and handles the answer: the receipt; or what went
  // wrong, offering a retry with the same receipt number when the answer was lost, and
  // a new redemption at the new price when the price changed.
  Outcome SendRedeem(PendingRedeem redeem) {
    while (true) {
      v1::Redemption result;
      grpc::Status status = conn_.points().Redeem(conn_.NewCall().get(), redeem.request, &result);
      if (status.ok()) {
        pending_redeem_.reset();
        Print(absl::StrCat("\n", ReceiptText(result, identity_.kiosk_id)));
        AfterRedemption(result);
        return Outcome::kDone;
      }
      absl::Status error = FromGrpc(status);
      RedeemFacts facts;
      if (absl::IsFailedPrecondition(error)) facts = ReadFacts(redeem.request);
      RedeemFailure failure =
          DescribeRedeemFailure(error, redeem.request, redeem.item, redeem.volunteer_name, facts);
      Print(failure.message);
      if (failure.problem == RedeemProblem::kOffline) {
        pending_redeem_ = redeem;
        pending_reverse_.reset();
        if (assume_yes_) {
          Print(absl::StrCat("Retry with --request-id=", redeem.request.request_id(),
                             " (the same receipt number).\n"));
          return Outcome::kFailed;
        }
        if (console_.Confirm("Retry now with the same receipt number?")) continue;
        Print(absl::StrCat("Not retried. Type \"retry\" to send receipt number ",
                           redeem.request.request_id(), " again.\n"));
        return Outcome::kFailed;
      }
      if (failure.problem == RedeemProblem::kPriceChanged && failure.new_price > 0 &&
          !assume_yes_) {
        const int64_t total = failure.new_price * redeem.request.quantity();
        if (facts.balance.has_value() && *facts.balance < total) {
          Print(absl::StrCat("At the new price ", redeem.volunteer_name, " would need ",
                             Points(total), " and has ", Points(*facts.balance), ".\n"));
          return Outcome::kFailed;
        }
        std::string after = facts.balance.has_value()
                                ? absl::StrCat(", balance after ", Points(*facts.balance - total))
                                : "";
        if (!console_.Confirm(absl::StrCat("Redeem ", redeem.request.quantity(), " x ",
                                           redeem.item.name(), " at the new price, ", Points(total),
                                           " in all", after, "?"))) {
          return Outcome::kCancelled;
        }
        // A different body needs a new idempotency key.
        redeem.request.set_request_id(NewReceiptNumber(gen_));
        redeem.request.set_expected_price_points(failure.new_price);
        redeem.item = *facts.item;
        continue;
      }
      return Outcome::kFailed;
    }
  }

  // The item and the volunteer's balance as they are now, to explain a refusal.
  RedeemFacts ReadFacts(const v1::RedeemRequest& request) {
    RedeemFacts facts;
    // Inactive items are listed only when asked for; should the server not list them
    // to a kiosk, the active ones still tell price and stock.
    absl::StatusOr<google::protobuf::RepeatedPtrField<v1::CatalogItem>> items =
        ReadCatalog(/*include_inactive=*/true);
    if (!items.ok()) items = ReadCatalog(/*include_inactive=*/false);
    if (items.ok()) {
      for (const v1::CatalogItem& item : *items) {
        if (item.item_id() == request.item_id()) facts.item = item;
      }
    }
    v1::GetBalanceRequest balance_request;
    balance_request.set_district(request.district());
    balance_request.set_account(absl::StrCat("volunteer:", request.volunteer_id()));
    v1::Balance balance;
    if (conn_.points().GetBalance(conn_.NewCall().get(), balance_request, &balance).ok()) {
      facts.balance = balance.balance();
    }
    return facts;
  }

  // Keeps the balance and the stock shown up to date after a redemption or reversal.
  void AfterRedemption(const v1::Redemption& result) {
    if (volunteer_.has_value() &&
        result.balance().account() == absl::StrCat("volunteer:", volunteer_->id())) {
      balance_ = result.balance();
    }
    for (v1::CatalogItem& item : shown_) {
      if (item.item_id() == result.item().item_id()) item.set_stock(result.remaining_stock());
    }
  }

  // --- Retries and reversals -----------------------------------------------------------

  void Retry() {
    if (pending_redeem_.has_value()) {
      PendingRedeem redeem = *pending_redeem_;
      Print(absl::StrCat("Resending receipt number ", redeem.request.request_id(), ": ",
                         redeem.request.quantity(), " x ", redeem.item.name(), " for ",
                         redeem.volunteer_name, ".\n"));
      SendRedeem(std::move(redeem));
    } else if (pending_reverse_.has_value()) {
      v1::ReverseRedemptionRequest request = *pending_reverse_;
      Print(absl::StrCat("Resending receipt number ", request.request_id(), ": reversal of ",
                         request.entry_id(), ".\n"));
      SendReverse(std::move(request));
    } else {
      Print("Nothing to retry: every redemption and reversal got its answer.\n");
    }
  }

  // "reverse [ENTRY_ID]": asks for the entry, a reason and whether to restock.
  void ReverseFromSession(std::string entry_id) {
    if (entry_id.empty()) {
      absl::optional<std::string> answer = console_.Ask("Entry id of the redemption? ");
      if (!answer.has_value()) return;
      entry_id = std::string(absl::StripAsciiWhitespace(*answer));
      if (entry_id.empty()) {
        Print("Cancelled; nothing was reversed.\n");
        return;
      }
    }
    absl::optional<std::string> reason = console_.Ask("Reason? ");
    if (!reason.has_value()) return;
    if (absl::StripAsciiWhitespace(*reason).empty()) {
      Print("A reason is required; nothing was reversed.\n");
      return;
    }
    const bool restock = console_.Confirm("Put the goods back into stock?");
    v1::ReverseRedemptionRequest request;
    request.set_request_id(NewReceiptNumber(gen_));
    request.set_district(identity_.district);
    request.set_entry_id(entry_id);
    request.set_reason(std::string(absl::StripAsciiWhitespace(*reason)));
    request.set_restock(restock);
    SendReverse(std::move(request));
  }

  Outcome SendReverse(v1::ReverseRedemptionRequest request) {
    while (true) {
      v1::Redemption result;
      grpc::Status status =
          conn_.points().ReverseRedemption(conn_.NewCall().get(), request, &result);
      if (status.ok()) {
        pending_reverse_.reset();
        Print(absl::StrCat("\n", ReceiptText(result, identity_.kiosk_id)));
        AfterRedemption(result);
        return Outcome::kDone;
      }
      absl::Status error = FromGrpc(status);
      Print(DescribeFailure(absl::StrCat("reverse ", request.entry_id()), error));
      if (!absl::IsUnavailable(error) && !absl::IsDeadlineExceeded(error)) {
        Print("Nothing was reversed.\n");
        return Outcome::kFailed;
      }
      pending_reverse_ = request;
      pending_redeem_.reset();
      Print(
          absl::StrCat("The reversal may or may not have been recorded; a retry sends the same "
                       "receipt number ",
                       request.request_id(), ", so it is never done twice.\n"));
      if (assume_yes_) {
        Print(absl::StrCat("Retry with --request-id=", request.request_id(), ".\n"));
        return Outcome::kFailed;
      }
      if (console_.Confirm("Retry now with the same receipt number?")) continue;
      Print(absl::StrCat("Not retried. Type \"retry\" to send receipt number ",
                         request.request_id(), " again.\n"));
      return Outcome::kFailed;
    }
  }

  Connection& conn_;
  Console& console_;
  const KioskIdentity identity_;
  absl::BitGen gen_;
  bool assume_yes_ = false;                                    // one-shot --yes: never ask
  absl::optional<v1::Volunteer> volunteer_;                    // the volunteer being served
  absl::optional<v1::Balance> balance_;                        // their balance as last read
  google::protobuf::RepeatedPtrField<v1::CatalogItem> shown_;  // the catalog as last shown
  absl::optional<PendingRedeem> pending_redeem_;               // unanswered, for "retry"
  absl::optional<v1::ReverseRedemptionRequest> pending_reverse_;
};

int UsageError(absl::string_view message) {
  std::fprintf(stderr, "kiosk: %s\nRun 'kiosk help' for usage.\n", std::string(message).c_str());
  return kExitUsage;
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "the terminal program of a point-redemption kiosk; see 'kiosk help'");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> argv_view = ArgvOf(args);
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), argv_view.data());
  std::vector<std::string> words(positional.begin() + 1, positional.end());
  const std::string command = words.empty() ? "" : words[0];
  if (command == "help") {
    Print(kUsage);
    return kExitOk;
  }
  if (!command.empty() && command != "find" && command != "catalog" && command != "ledger" &&
      command != "redeem" && command != "reverse") {
    return UsageError(absl::StrCat("unknown command \"", command,
                                   "\"; commands: find, catalog, ledger, redeem, reverse"));
  }
  const size_t want = command == "find" || command == "reverse" ? 2 : words.empty() ? 0 : 1;
  if (words.size() != want) {
    return UsageError(command == "find"      ? "usage: kiosk find VOLUNTEER"
                      : command == "reverse" ? "usage: kiosk reverse ENTRY_ID --reason=TEXT"
                                             : absl::StrCat("usage: kiosk ", command, " [flags]"));
  }
  const int timeout_ms = absl::GetFlag(FLAGS_timeout_ms);
  if (timeout_ms <= 0) return UsageError("--timeout-ms must be positive");
  const std::string request_id = absl::GetFlag(FLAGS_request_id);
  if (!request_id.empty() && !IsValidRequestId(request_id)) {
    return UsageError("--request-id: 8..64 letters, digits, '-' and '_'");
  }
  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) token = EnvOr("YIYUAN_TOKEN", "");
  if (token.empty()) return UsageError("no token: pass --token or set YIYUAN_TOKEN");

  Connection conn(absl::GetFlag(FLAGS_server), token, absl::Milliseconds(timeout_ms));
  absl::StatusOr<KioskIdentity> identity =
      Identify(conn, absl::GetFlag(FLAGS_kiosk_id), absl::GetFlag(FLAGS_district));
  if (!identity.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "kiosk: cannot start: %s: %s\n",
                 absl::StatusCodeToString(identity.status().code()).c_str(),
                 std::string(identity.status().message()).c_str());
    return absl::IsInvalidArgument(identity.status()) ? kExitUsage : kExitCallFailed;
  }
  Console console;
  Kiosk kiosk(conn, console, *std::move(identity));
  if (command.empty()) return kiosk.RunSession();
  if (command == "find") return kiosk.RunFind(words[1]);
  if (command == "catalog") return kiosk.RunCatalog();
  if (command == "ledger") {
    const int limit = absl::GetFlag(FLAGS_limit);
    if (limit < 1 || limit > 500) return UsageError("--limit: from 1 to 500");
    return kiosk.RunLedger(limit);
  }
  if (command == "redeem") {
    const std::string volunteer = absl::GetFlag(FLAGS_volunteer);
    const std::string item = absl::GetFlag(FLAGS_item);
    const int quantity = absl::GetFlag(FLAGS_quantity);
    if (volunteer.empty() || item.empty()) {
      return UsageError("redeem needs --volunteer and --item");
    }
    if (quantity < 1 || quantity > 99) return UsageError("--quantity: from 1 to 99");
    return kiosk.RunRedeem(volunteer, item, quantity, request_id, absl::GetFlag(FLAGS_yes));
  }
  const std::string reason = absl::GetFlag(FLAGS_reason);
  if (reason.empty()) return UsageError("reverse needs --reason=TEXT");
  return kiosk.RunReverse(words[1], reason, absl::GetFlag(FLAGS_restock), request_id);
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Main(argc, argv); }
