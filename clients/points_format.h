#ifndef YIYUAN_CLIENTS_POINTS_FORMAT_H_
#define YIYUAN_CLIENTS_POINTS_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/text_table.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "yiyuan/v1/points.pb.h"

namespace yiyuan {

// PointsService messages as people read them (the points side of api_format.h): ledger
// kinds show as their short upper-case names ("REDEEM"), amounts as plain numbers of
// points, times in the local time zone.

// An account as typed on a command line: "fund", "volunteer:ID", "kiosk:ID", or a bare
// volunteer id ("wuxing-v12" is "volunteer:wuxing-v12"). The kind is accepted in any
// case and comes back lower case. INVALID_ARGUMENT naming `what` (e.g. "account") when
// the text is empty, the kind is unknown or the id is missing.
absl::StatusOr<std::string> ParseAccount(absl::string_view what, absl::string_view text);

// A balance as a "key: value" block: account, district, balance, pending (when not 0),
// last entry, updated.
std::vector<Field> BalanceFields(const v1::Balance& balance);

// Ledger entries as a table, in the order given (the server's: newest first): ENTRY,
// TIME, KIND, FROM, TO, AMOUNT, ITEM ("rice-5kg x2 @50" for a redemption), KEY (the
// idempotency key: a kiosk's receipt number), NOTE ("reverses E", "reversed by E", and
// the reason).
std::string LedgerTable(const google::protobuf::RepeatedPtrField<v1::LedgerEntry>& entries);

// One ledger entry as a "key: value" block, every field the server returned.
std::vector<Field> LedgerEntryFields(const v1::LedgerEntry& entry);

// Catalog items as a table, in the order given: ITEM, NAME, PRICE, STOCK, STATUS
// ("active", "out of stock" for an active item with no stock, "inactive"). With
// `numbered`, a first column "#" counts the rows from 1 (what a kiosk attendant types to
// choose one).
std::string CatalogTable(const google::protobuf::RepeatedPtrField<v1::CatalogItem>& items,
                         bool numbered = false);

// A catalog item as a "key: value" block.
std::vector<Field> CatalogItemFields(const v1::CatalogItem& item);

// A redemption or its reversal as a "key: value" block: the entry, kind, volunteer (name
// and id), kiosk, item (name and id), quantity, unit price, total, the volunteer's
// balance and pending points afterwards, stock left, receipt (the idempotency key) and
// time; for a reversal also the entry it reverses and the reason.
std::vector<Field> RedemptionFields(const v1::Redemption& redemption);

}  // namespace yiyuan

#endif  // YIYUAN_CLIENTS_POINTS_FORMAT_H_
