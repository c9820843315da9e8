#ifndef YIYUAN_SERVER_CRYPTO_H_
#define YIYUAN_SERVER_CRYPTO_H_

#include <string>

#include "absl/strings/string_view.h"

namespace yiyuan {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// `bytes` bytes from the operating system's CSPRNG, URL-safe base64 without padding.
std::string RandomUrlSafe(int bytes);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_CRYPTO_H_
