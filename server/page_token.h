#ifndef YIYUAN_SERVER_PAGE_TOKEN_H_
#define YIYUAN_SERVER_PAGE_TOKEN_H_

#include <cstdint>
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

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_PAGE_TOKEN_H_
