#include "server/redis_fields.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace yiyuan {

HashFields::HashFields(const std::vector<RedisValue>& v, size_t begin, size_t end) {
  for (size_t i = begin; i + 1 < end && i + 1 < v.size(); i += 2) m_[v[i].str] = v[i + 1].str;
}

const std::string& HashFields::str(absl::string_view k) const {
  static const std::string* const kEmpty = new std::string();
  auto it = m_.find(k);
  return it == m_.end() ? *kEmpty : it->second;
}

int64_t HashFields::integer(absl::string_view k) const {
  int64_t n = 0;
  if (!absl::SimpleAtoi(str(k), &n)) return 0;
  return n;
}

double HashFields::number(absl::string_view k) const {
  double d = 0;
  if (!absl::SimpleAtod(str(k), &d)) return 0;
  return d;
}

std::vector<std::string> HashFields::list(absl::string_view k) const {
  return absl::StrSplit(str(k), ',', absl::SkipEmpty());
}

std::string ExactDouble(double d) { return absl::StrFormat("%.17g", d); }

std::string CommaList(const std::vector<std::string>& items) {
  std::string out = ",";
  for (const std::string& s : items) {
    out += s;
    out += ',';
  }
  return out;
}

absl::StatusOr<std::pair<std::string, HashFields>> OutcomeAndFields(const RedisValue& v) {
  if (!v.is_array() || v.elements.empty()) {
    return absl::InternalError("unexpected reply from a Redis script");
  }
  return std::make_pair(v.elements[0].str, HashFields(v.elements, 1, v.elements.size()));
}

absl::StatusOr<ScanPage> ScanPageOf(const RedisValue& v) {
  const std::vector<RedisValue>& e = v.elements;
  if (!v.is_array() || e.size() < 2)
    return absl::InternalError("unexpected reply from a list script");
  ScanPage page;
  page.next_cursor = e[0].str;
  size_t i = 2;
  for (int64_t n = 0; n < e[1].integer && i < e.size(); ++n) {
    size_t count = static_cast<size_t>(e[i].integer);
    page.records.emplace_back(e, i + 1, i + 1 + count);
    i += 1 + count;
  }
  return page;
}

}  // namespace yiyuan
