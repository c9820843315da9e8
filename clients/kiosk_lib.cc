#include "clients/kiosk_lib.h"

#include <vector>

#include "absl/random/distributions.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clients/points_format.h"
#include "clients/text_table.h"

namespace yiyuan {
namespace {

constexpr absl::string_view kQrPrefix = "yiyuan:";
constexpr absl::string_view kQrVolunteer = "volunteer:";
constexpr absl::string_view kQrFormat = "yiyuan:volunteer:<district>:<id>";
// No 0, O, 1 or I: a receipt number is read aloud and typed back.
constexpr absl::string_view kReceiptAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
constexpr absl::string_view kNothingRedeemed = "Nothing was redeemed.\n";
constexpr absl::string_view kRule = "------------------------------------------------\n";

bool IsIdChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_'; }

// 1..64 letters, digits, '-' and '_'.
bool IsId(absl::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

bool ConsumePrefixIgnoringCase(absl::string_view* text, absl::string_view prefix) {
  if (!absl::StartsWithIgnoreCase(*text, prefix)) return false;
  text->remove_prefix(prefix.size());
  return true;
}

absl::StatusOr<VolunteerQuery> ParseQr(absl::string_view rest) {
  if (!ConsumePrefixIgnoringCase(&rest, kQrVolunteer)) {
    return absl::InvalidArgumentError(
        absl::StrCat("QR code: not a volunteer card (expected ", kQrFormat, ")"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(rest, ':');
  if (parts.size() != 2 || !IsId(parts[0]) || !IsId(parts[1])) {
    return absl::InvalidArgumentError(
        absl::StrCat("QR code: unreadable volunteer card (expected ", kQrFormat, ")"));
  }
  VolunteerQuery out;
  out.kind = VolunteerQuery::Kind::kId;
  out.district = std::string(parts[0]);
  out.value = std::string(parts[1]);
  return out;
}

// "host/.../v/<id>", the scheme already removed.
absl::StatusOr<VolunteerQuery> ParseLink(absl::string_view rest) {
  rest = rest.substr(0, rest.find_first_of("?#"));
  std::vector<absl::string_view> segments = absl::StrSplit(rest, '/', absl::SkipEmpty());
  // segments[0] is the host.
  size_t n = segments.size();
  if (n < 3 || segments[n - 2] != "v" || !IsId(segments[n - 1])) {
    return absl::InvalidArgumentError(
        "link: not a volunteer card link (expected https://<host>/v/<id>)");
  }
  VolunteerQuery out;
  out.kind = VolunteerQuery::Kind::kId;
  out.value = std::string(segments[n - 1]);
  return out;
}

// True when `text` has only what people type in a phone number: digits, spaces, dashes
// and a leading '+'.
bool LooksLikePhone(absl::string_view text) {
  bool digit = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (absl::ascii_isdigit(c)) {
      digit = true;
    } else if (c != ' ' && c != '-' && !(c == '+' && i == 0)) {
      return false;
    }
  }
  return digit;
}

absl::StatusOr<VolunteerQuery> ParsePhone(absl::string_view text) {
  std::string digits;
  for (char c : text) {
    if (absl::ascii_isdigit(c) || c == '+') digits.push_back(c);
  }
  absl::string_view number = digits;
  if (!absl::ConsumePrefix(&number, "+86")) absl::ConsumePrefix(&number, "0086");
  if (number.size() != 11 || number[0] != '1' || absl::StrContains(number, '+')) {
    return absl::InvalidArgumentError(
        "phone: a volunteer's mobile number has 11 digits and starts with 1");
  }
  VolunteerQuery out;
  out.kind = VolunteerQuery::Kind::kPhone;
  out.value = std::string(number);
  return out;
}

std::string Points(int64_t n) { return absl::StrCat(n, n == 1 ? " point" : " points"); }

// The code and message as the server sent them, indented, for the line after an
// explanation.
std::string ServerSaid(const absl::Status& status) {
  return absl::StrCat("  (server: ", absl::StatusCodeToString(status.code()), ": ",
                      status.message(), ")\n");
}

bool Offline(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

// Which FAILED_PRECONDITION it was, from the facts read back, else from the message.
RedeemProblem PreconditionProblem(const absl::Status& status, const v1::RedeemRequest& request,
                                  int64_t total, const RedeemFacts& now) {
  if (absl::optional<absl::Cord> reason = status.GetPayload(kErrorReasonPayload)) {
    if (*reason == "INSUFFICIENT_POINTS") return RedeemProblem::kInsufficientPoints;
    if (*reason == "OUT_OF_STOCK") return RedeemProblem::kOutOfStock;
    if (*reason == "PRICE_CHANGED") return RedeemProblem::kPriceChanged;
    if (*reason == "ITEM_INACTIVE") return RedeemProblem::kInactiveItem;
  }
  if (now.item.has_value()) {
    const v1::CatalogItem& item = *now.item;
    if (!item.active()) return RedeemProblem::kInactiveItem;
    if (request.expected_price_points() != 0 &&
        item.price_points() != request.expected_price_points()) {
      return RedeemProblem::kPriceChanged;
    }
    if (item.stock() < request.quantity()) return RedeemProblem::kOutOfStock;
  }
  if (now.balance.has_value() && *now.balance < total) return RedeemProblem::kInsufficientPoints;
  std::string words = absl::AsciiStrToLower(status.message());
  if (absl::StrContains(words, "inactive") || absl::StrContains(words, "not active") ||
      absl::StrContains(words, "not available")) {
    return RedeemProblem::kInactiveItem;
  }
  if (absl::StrContains(words, "price")) return RedeemProblem::kPriceChanged;
  if (absl::StrContains(words, "stock")) return RedeemProblem::kOutOfStock;
  if (absl::StrContains(words, "insufficient") || absl::StrContains(words, "not enough") ||
      absl::StrContains(words, "balance") || absl::StrContains(words, "points")) {
    return RedeemProblem::kInsufficientPoints;
  }
  return RedeemProblem::kRefused;
}

// What the attendant reads about `problem` (not kOffline); `item` is the item as shown, `now` what
// was read back, `status` the server's answer if there was one.
std::string ProblemMessage(RedeemProblem problem, const v1::RedeemRequest& request,
                           const v1::CatalogItem& item, absl::string_view volunteer_name,
                           const RedeemFacts& now, const absl::Status& status = absl::OkStatus()) {
  const int64_t price =
      request.expected_price_points() != 0 ? request.expected_price_points() : item.price_points();
  const int64_t total = price * request.quantity();
  const std::string name = item.name().empty() ? request.item_id() : item.name();
  const std::string who =
      volunteer_name.empty() ? request.volunteer_id() : std::string(volunteer_name);
  std::string out;
  switch (problem) {
    case RedeemProblem::kInsufficientPoints:
      out = now.balance.has_value()
                ? absl::StrCat("Not enough points: ", who, " has ", Points(*now.balance),
                               ", needs ", Points(total), " (", request.quantity(), " x ", name,
                               " at ", price, ").\n")
                : absl::StrCat("Not enough points: ", who, " needs ", Points(total), " (",
                               request.quantity(), " x ", name, " at ", price,
                               "); the balance could not be read.\n");
      break;
    case RedeemProblem::kOutOfStock:
      out = !now.item.has_value() ? absl::StrCat("Out of stock: ", name, ".\n")
            : now.item->stock() <= 0
                ? absl::StrCat("Out of stock: no ", name, " left.\n")
                : absl::StrCat("Out of stock: only ", now.item->stock(), " x ", name,
                               " left, asked for ", request.quantity(), ".\n");
      break;
    case RedeemProblem::kPriceChanged:
      out = now.item.has_value()
                ? absl::StrCat("Price changed: ", name, " now costs ",
                               Points(now.item->price_points()), " (", Points(price),
                               " when shown).\n")
                : absl::StrCat("Price changed: ", name, " no longer costs ", Points(price), ".\n");
      break;
    case RedeemProblem::kInactiveItem:
      out = absl::StrCat(name, " is no longer offered at this kiosk.\n");
      break;
    case RedeemProblem::kNotFound:
      out = absl::StrCat("Not found: volunteer ", request.volunteer_id(), ", kiosk ",
                         request.kiosk_id(), " or item ", request.item_id(),
                         " is unknown to the server.\n");
      break;
    case RedeemProblem::kWrongKiosk:
      out = absl::StrCat("Not allowed: this kiosk's token may not redeem at kiosk ",
                         request.kiosk_id(),
                         " (it belongs to another kiosk or district; check --kiosk-id).\n");
      break;
    case RedeemProblem::kRefused:
      if (absl::IsInvalidArgument(status) && absl::StrContains(status.message(), "request_id")) {
        out = absl::StrCat("Refused: receipt number ", request.request_id(),
                           " was already used for a different redemption.\n");
      } else if (absl::IsUnauthenticated(status)) {
        out =
            "Refused: the kiosk's token is not accepted; ask an administrator for a valid "
            "KIOSK token.\n";
      } else {
        out = "Refused by the server.\n";
      }
      break;
    case RedeemProblem::kOffline:
      break;
  }
  return out;
}

}  // namespace

absl::StatusOr<VolunteerQuery> ParseVolunteerQuery(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) {
    return absl::InvalidArgumentError("nothing to look up: scan the card or type an id or phone");
  }
  absl::string_view rest = text;
  if (ConsumePrefixIgnoringCase(&rest, kQrPrefix)) return ParseQr(rest);
  if (ConsumePrefixIgnoringCase(&rest, "https://") || ConsumePrefixIgnoringCase(&rest, "http://")) {
    return ParseLink(rest);
  }
  if (ConsumePrefixIgnoringCase(&rest, "ext:")) {
    if (!IsId(rest)) {
      return absl::InvalidArgumentError(
          "external id: 1..64 letters, digits, '-' and '_' after \"ext:\"");
    }
    VolunteerQuery out;
    out.kind = VolunteerQuery::Kind::kExternalId;
    out.value = std::string(rest);
    return out;
  }
  if (LooksLikePhone(text)) return ParsePhone(text);
  if (!IsId(text)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\" is not a volunteer id, phone number, \"ext:<id>\" or volunteer QR code"));
  }
  VolunteerQuery out;
  out.kind = VolunteerQuery::Kind::kId;
  out.value = std::string(text);
  return out;
}

std::string VolunteerQrText(absl::string_view district, absl::string_view volunteer_id) {
  return absl::StrCat(kQrPrefix, kQrVolunteer, district, ":", volunteer_id);
}

std::string NewReceiptNumber(absl::BitGenRef gen) {
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(kReceiptAlphabet[absl::Uniform<size_t>(gen, 0, kReceiptAlphabet.size())]);
  }
  return out;
}

bool IsValidRequestId(absl::string_view key) {
  if (key.size() < 8 || key.size() > 64) return false;
  for (char c : key) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

absl::StatusOr<int> ParseQuantity(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  int n = 0;
  if (!absl::SimpleAtoi(text, &n) || n < 1 || n > 99) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity: \"", text, "\" is not a whole number from 1 to 99"));
  }
  return n;
}

bool IsYes(absl::string_view answer) {
  answer = absl::StripAsciiWhitespace(answer);
  return absl::EqualsIgnoreCase(answer, "y") || absl::EqualsIgnoreCase(answer, "yes");
}

absl::StatusOr<v1::CatalogItem> ResolveItem(
    absl::string_view text, const google::protobuf::RepeatedPtrField<v1::CatalogItem>& shown) {
  text = absl::StripAsciiWhitespace(text);
  int row = 0;
  if (absl::SimpleAtoi(text, &row)) {
    if (row >= 1 && row <= shown.size()) return shown[row - 1];
  }
  for (const v1::CatalogItem& item : shown) {
    if (item.item_id() == text) return item;
  }
  for (const v1::CatalogItem& item : shown) {
    if (absl::EqualsIgnoreCase(item.item_id(), text)) return item;
  }
  return absl::NotFoundError(absl::StrCat("no item \"", text, "\" in the catalog shown"));
}

std::string ReceiptText(const v1::Redemption& redemption, absl::string_view kiosk_id) {
  const bool reversal = redemption.entry().kind() == v1::LEDGER_REVERSAL;
  std::string out = absl::StrCat(kRule, "  Yiyuan love shop, kiosk ", kiosk_id, "\n  ",
                                 reversal ? "REVERSAL RECEIPT" : "REDEMPTION RECEIPT", "\n", kRule);
  if (redemption.replayed()) {
    absl::StrAppend(&out, "  ALREADY RECORDED: this ", reversal ? "reversal" : "redemption",
                    " was recorded earlier\n  under this receipt number; nothing was ",
                    reversal ? "returned" : "charged", " twice.\n", kRule);
  }
  // The receipt number and time first; kind and kiosk are in the heading already.
  std::vector<Field> fields = RedemptionFields(redemption);
  std::vector<Field> shown;
  for (absl::string_view first : {"receipt no.", "time"}) {
    for (const Field& f : fields) {
      if (f.first == first) shown.push_back(f);
    }
  }
  for (Field& f : fields) {
    if (f.first != "receipt no." && f.first != "time" && f.first != "kind" && f.first != "kiosk") {
      shown.push_back(std::move(f));
    }
  }
  absl::StrAppend(&out, FormatFields(shown), kRule);
  return out;
}

absl::optional<RedeemFailure> CheckRedeem(const v1::RedeemRequest& request,
                                          const v1::CatalogItem& item, int64_t balance,
                                          absl::string_view volunteer_name) {
  RedeemFacts now;
  now.item = item;
  now.balance = balance;
  const int64_t total = item.price_points() * request.quantity();
  RedeemFailure out;
  if (!item.active()) {
    out.problem = RedeemProblem::kInactiveItem;
  } else if (item.stock() < request.quantity()) {
    out.problem = RedeemProblem::kOutOfStock;
  } else if (balance < total) {
    out.problem = RedeemProblem::kInsufficientPoints;
  } else {
    return absl::nullopt;
  }
  out.message = absl::StrCat(ProblemMessage(out.problem, request, item, volunteer_name, now),
                             kNothingRedeemed);
  return out;
}

RedeemFailure DescribeRedeemFailure(const absl::Status& status, const v1::RedeemRequest& request,
                                    const v1::CatalogItem& item, absl::string_view volunteer_name,
                                    const RedeemFacts& now) {
  RedeemFailure out;
  if (Offline(status)) {
    out.problem = RedeemProblem::kOffline;
    out.message = absl::StrCat(
        "No answer from the server (", absl::StatusCodeToString(status.code()), ": ",
        status.message(), ").\nThe redemption may or may not have been recorded. A retry sends ",
        "the same receipt number ", request.request_id(), ",\nso it can never be charged twice.\n");
    return out;
  }
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition: {
      const int64_t price = request.expected_price_points() != 0 ? request.expected_price_points()
                                                                 : item.price_points();
      out.problem = PreconditionProblem(status, request, price * request.quantity(), now);
      break;
    }
    case absl::StatusCode::kNotFound:
      out.problem = RedeemProblem::kNotFound;
      break;
    case absl::StatusCode::kPermissionDenied:
      out.problem = RedeemProblem::kWrongKiosk;
      break;
    default:
      out.problem = RedeemProblem::kRefused;
      break;
  }
  if (out.problem == RedeemProblem::kPriceChanged && now.item.has_value()) {
    out.new_price = now.item->price_points();
  }
  out.message =
      absl::StrCat(ProblemMessage(out.problem, request, item, volunteer_name, now, status),
                   ServerSaid(status), kNothingRedeemed);
  return out;
}

std::string DescribeFailure(absl::string_view what, const absl::Status& status) {
  std::string meaning;
  if (Offline(status)) {
    meaning = "no answer from the server";
  } else if (absl::IsPermissionDenied(status)) {
    meaning = "not allowed for this kiosk";
  } else if (absl::IsNotFound(status)) {
    meaning = "not found";
  } else if (absl::IsUnauthenticated(status)) {
    meaning = "the kiosk's token is not accepted";
  } else if (absl::IsInvalidArgument(status)) {
    meaning = "the server refused the input";
  } else {
    meaning = "refused by the server";
  }
  return absl::StrCat("Cannot ", what, ": ", meaning, ".\n", ServerSaid(status));
}

}  // namespace yiyuan
