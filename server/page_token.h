#ifndef YIYUAN_SERVER_PAGE_TOKEN_H_
#define YIYUAN_SERVER_PAGE_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace yiyuan {

// Opaque page tokens for List* methods (AIP-158). A token holds the cursor to continue
// from and a fingerprint of the request's filters, so a token reused with other filters
// is rejected instead of silently skipping results.

// A fingerprint of `request` with its page_token and page_size fields cleared.
std::string FilterFingerprint(const google::protobuf::Message& request);

std::string EncodePageToken(int64_t cursor, const std::string& fingerprint);

// The cursor in `token`. INVALID_ARGUMENT "page_token" when it is malformed or was
// issued for other filters.
absl::StatusOr<int64_t> DecodePageToken(const std::string& token, const std::string& fingerprint);

// The paging of one List call.
struct Paging {
  int page_size = 0;
  std::optional<int64_t> cursor;  // Where to continue; nullopt on the first page.
  std::string fingerprint;
  // The next_page_token for a page that ended at `next` ("" when there is no more).
  std::string NextToken(const std::optional<int64_t>& next) const {
    return next.has_value() ? EncodePageToken(*next, fingerprint) : std::string();
  }
};

// Reads the page_size and page_token fields of a List request whose filters are final
// (the district resolved). page_size 0 means `default_size`; more than `max_size` means
// `max_size`. INVALID_ARGUMENT "page_size" when negative, "page_token" as
// DecodePageToken.
absl::StatusOr<Paging> PagingOf(const google::protobuf::Message& request, int default_size = 50,
                                int max_size = 500);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_PAGE_TOKEN_H_
