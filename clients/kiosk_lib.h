#ifndef YIYUAN_CLIENTS_KIOSK_LIB_H_
#define YIYUAN_CLIENTS_KIOSK_LIB_H_

#include <cstdint>
#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "yiyuan/v1/points.pb.h"

namespace yiyuan {

// The testable part of the kiosk client (clients/kiosk.cc): reading what the attendant
// types or scans, receipt numbers, receipts, and what to tell the attendant when a call
// fails. No I/O here.

// What an attendant typed or scanned to find a volunteer.
struct VolunteerQuery {
  enum class Kind {
    kId,          // a volunteer id, e.g. "wuxing-v12"
    kPhone,       // a mobile number, normalised to its 11 digits
    kExternalId,  // the caller's own id (e.g. the national volunteer platform id)
  };
  Kind kind = Kind::kId;
  std::string value;
  // The district a QR code names; empty when the input did not name one.
  std::string district;
};

// Reads one line of attendant input as a volunteer. Accepted forms, surrounding spaces
// ignored:
//
//   yiyuan:volunteer:<district>:<id>   the QR code on a volunteer card, e.g.
//                                      "yiyuan:volunteer:wuxing:wuxing-v12" (the
//                                      "yiyuan:volunteer:" prefix in any case)
//   http(s)://<host>/.../v/<id>        the same card as a link, e.g.
//                                      "https://yiyuan.example.cn/v/wuxing-v12"; a query
//                                      string or fragment is ignored
//   ext:<external id>                  the volunteer's external id
//   a mobile number                    11 digits starting with 1; spaces, dashes and a
//                                      +86 / 0086 prefix are dropped ("138 1234-5678")
//   <id>                               a volunteer id, e.g. "wuxing-v12"
//
// Ids (volunteer, external, district) are 1..64 letters, digits, '-' and '_'.
// INVALID_ARGUMENT saying what was wrong otherwise (e.g. a QR code of another kind).
absl::StatusOr<VolunteerQuery> ParseVolunteerQuery(absl::string_view text);

// The QR text printed on a volunteer's card: "yiyuan:volunteer:<district>:<id>".
std::string VolunteerQrText(absl::string_view district, absl::string_view volunteer_id);

// A fresh receipt number, used as the idempotency key (request_id) of one redemption or
// reversal: four groups of four characters from an alphabet without look-alikes (no 0,
// O, 1, I), e.g. "7KQM-2XD9-FHTW-C4PB": 80 random bits, easy to read out over the
// phone. Always a valid request_id.
std::string NewReceiptNumber(absl::BitGenRef gen);

// Whether `key` is a valid request_id: 8..64 letters, digits, '-' and '_'.
bool IsValidRequestId(absl::string_view key);

// Reads a quantity: a whole number 1..99. INVALID_ARGUMENT otherwise.
absl::StatusOr<int> ParseQuantity(absl::string_view text);

// Whether an answer to a y/N question is yes: "y" or "yes" in any case, spaces ignored.
// Anything else, including an empty line, is no.
bool IsYes(absl::string_view answer);

// Picks the item the attendant means from `shown`, the catalog as last shown: its row
// number ("2", counting from 1) or its item id (exact, else ignoring case).
// NOT_FOUND naming the input when there is no such row or item.
absl::StatusOr<v1::CatalogItem> ResolveItem(
    absl::string_view text, const google::protobuf::RepeatedPtrField<v1::CatalogItem>& shown);

// A receipt to print for a redemption or a reversal at `kiosk_id`: a framed block with
// the receipt number, time, volunteer, item, quantity, unit price, total, balance after,
// entry id and stock left. When `redemption.replayed` the receipt says that the
// redemption had been recorded before under this receipt number and nothing was charged
// again. Ends in '\n'.
std::string ReceiptText(const v1::Redemption& redemption, absl::string_view kiosk_id);

// The absl::Status payload under which a client keeps the reason of a google.rpc.ErrorInfo
// detail (e.g. "OUT_OF_STOCK"), so that refusals are told apart without reading messages.
inline constexpr absl::string_view kErrorReasonPayload = "type.yiyuan.dev/yiyuan.ErrorReason";

// What went wrong with a redemption, from the attendant's point of view.
enum class RedeemProblem {
  kInsufficientPoints,  // the volunteer's balance is below the total
  kOutOfStock,          // fewer items in stock than asked for
  kPriceChanged,        // the price is no longer the one shown
  kInactiveItem,        // the item is no longer offered
  kNotFound,            // unknown volunteer, kiosk or item
  kWrongKiosk,          // PERMISSION_DENIED: the token belongs to another kiosk (or district)
  kOffline,             // UNAVAILABLE or DEADLINE_EXCEEDED: unknown whether it was recorded
  kRefused,             // anything else (INVALID_ARGUMENT, UNAUTHENTICATED, ...)
};

// What the kiosk found when it read the item and the balance again after a
// FAILED_PRECONDITION. Unset when it could not read them.
struct RedeemFacts {
  absl::optional<v1::CatalogItem> item;  // the item now
  absl::optional<int64_t> balance;       // the volunteer's balance now, points
};

// The attendant's view of a failed Redeem.
struct RedeemFailure {
  RedeemProblem problem = RedeemProblem::kRefused;
  // One or more lines to print, ending in '\n'.
  std::string message;
  // kPriceChanged: the current price, when known (0 otherwise).
  int64_t new_price = 0;
};

// Checks `request` against the item and the volunteer's balance as just read, before the
// attendant is asked to confirm, so that a redemption bound to fail is not offered: the
// problem (inactive item, out of stock, insufficient points — with the balance against
// the points needed) and its message, or nullopt when it looks redeemable. The server
// decides in the end; this only saves the attendant a pointless confirmation.
absl::optional<RedeemFailure> CheckRedeem(const v1::RedeemRequest& request,
                                          const v1::CatalogItem& item, int64_t balance,
                                          absl::string_view volunteer_name);

// Explains `status`, the failure of `request`, for the attendant; `item` is the catalog
// item as shown when the attendant confirmed (its name and price), `volunteer_name` the
// volunteer's. A FAILED_PRECONDITION is told apart by its ErrorInfo reason (payload
// kErrorReasonPayload) when the server sent one; else by `now` (what the kiosk read back):
// an inactive item, then a price different from request.expected_price_points, then
// stock below the quantity, then a balance below the total; failing those, by the
// words of the server's message. The message for kInsufficientPoints shows the balance
// against the points needed; for kOffline it says the redemption may or may not have been
// recorded and that a retry reuses the receipt number, so it can never be charged twice.
RedeemFailure DescribeRedeemFailure(const absl::Status& status, const v1::RedeemRequest& request,
                                    const v1::CatalogItem& item, absl::string_view volunteer_name,
                                    const RedeemFacts& now);

// Explains the failure of any other call (look-ups, reversals, the ledger) in one or two
// lines ending in '\n': what it means at a kiosk ("the server cannot be reached", "this
// token may not ...") followed by the server's code and message. `what` says what was
// attempted, e.g. "reverse wuxing-e17".
std::string DescribeFailure(absl::string_view what, const absl::Status& status);

}  // namespace yiyuan

#endif  // YIYUAN_CLIENTS_KIOSK_LIB_H_
