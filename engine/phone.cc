#include "engine/phone.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace yiyuan {

std::optional<std::string> NormalizePhone(absl::string_view raw) {
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      digits.push_back(c);
    } else if (c == '+' && i == 0) {
      plus = true;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
      return std::nullopt;
    }
    if (digits.size() > 16) return std::nullopt;
  }
  bool international = false;
  if (absl::StartsWith(digits, "0086")) {
    digits.erase(0, 4);
    international = true;
  } else if (plus) {
    if (!absl::StartsWith(digits, "86")) return std::nullopt;  // Not a mainland number.
    digits.erase(0, 2);
    international = true;
  } else if (digits.size() == 13 && absl::StartsWith(digits, "861")) {
    digits.erase(0, 2);
  }
  // In international form a landline drops its trunk 0: +86 572 1234567.
  if (international && !digits.empty() && digits[0] != '1' && digits[0] != '0') {
    digits.insert(digits.begin(), '0');
  }
  if (digits.size() < 2) return std::nullopt;
  if (digits.size() == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9') {
    return digits;
  }
  if (digits.size() >= 10 && digits.size() <= 12 && digits[0] == '0' && digits[1] != '0') {
    return digits;
  }
  return std::nullopt;
}

std::string MaskPhone(absl::string_view p) {
  if (p.size() < 8) return "****";
  size_t head = p[0] == '0' ? (p.size() >= 12 ? 4 : 3) : 3;
  return absl::StrCat(p.substr(0, head), "****", p.substr(p.size() - 4));
}

}  // namespace yiyuan
