#ifndef YIYUAN_ENGINE_PHONE_H_
#define YIYUAN_ENGINE_PHONE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace yiyuan {

// Mainland China phone numbers as residents and volunteers give them.
//
// Accepted: an 11-digit mobile number 1[3-9]xxxxxxxxx, or a landline 0 + area code +
// subscriber number (10..12 digits in all). Spaces, dashes, parentheses and a leading
// "+86" / "0086" / "86" (before a mobile number) are removed.
//
// The normalised number (digits only), or nullopt when `raw` is not a phone number.
std::optional<std::string> NormalizePhone(absl::string_view raw);

// The number with its middle hidden: "13812341234" -> "138****1234",
// "057212345678" -> "0572****5678". Input must be normalised; anything shorter than
// 8 characters becomes "****".
std::string MaskPhone(absl::string_view normalized);

}  // namespace yiyuan

#endif  // YIYUAN_ENGINE_PHONE_H_
