#ifndef YIYUAN_SERVER_REDIS_FIELDS_H_
#define YIYUAN_SERVER_REDIS_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/redis_client.h"

// Reading Redis hashes and the replies of the store's scripts.
namespace yiyuan {

// The fields of a hash as HGETALL returns them.
class HashFields {
 public:
  HashFields() = default;
  // From alternating names and values in v[begin, end).
  HashFields(const std::vector<RedisValue>& v, size_t begin, size_t end);
  explicit HashFields(const RedisValue& hgetall)
      : HashFields(hgetall.elements, 0, hgetall.elements.size()) {}

  bool empty() const { return m_.empty(); }
  bool has(absl::string_view k) const { return m_.contains(k); }
  // The value, or "" when absent.
  const std::string& str(absl::string_view k) const;
  // The value as an integer, or 0 when absent or not a number.
  int64_t integer(absl::string_view k) const;
  // The value as a double, or 0 when absent or not a number.
  double number(absl::string_view k) const;
  // The items of a ",a,b," list, in order.
  std::vector<std::string> list(absl::string_view k) const;
  // Every field.
  const absl::flat_hash_map<std::string, std::string>& map() const { return m_; }

 private:
  absl::flat_hash_map<std::string, std::string> m_;
};

// ",a,b," — the form scripts test membership in with string.find.
std::string CommaList(const std::vector<std::string>& items);

// A script reply {outcome, hash fields...}: the outcome and the fields.
absl::StatusOr<std::pair<std::string, HashFields>> OutcomeAndFields(const RedisValue& v);

// A list_scan.lua (or list_requests.lua) reply: {next cursor or "", n, n x (count,
// fields...)}.
struct ScanPage {
  std::vector<HashFields> records;
  std::string next_cursor;  // Empty at the end.
};
absl::StatusOr<ScanPage> ScanPageOf(const RedisValue& v);

// A double as text that reads back to exactly the same value (coordinates must not
// lose precision on their way through Redis).
std::string ExactDouble(double d);

// One page of a List call's records.
template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<int64_t> next_cursor;  // Continue after this sequence number.
};

// The records of `scan` made by `from_fields` (HashFields -> StatusOr<T>), with the
// cursor parsed.
template <typename T, typename F>
absl::StatusOr<Page<T>> PageFromScan(const ScanPage& scan, F from_fields) {
  Page<T> page;
  int64_t next = 0;
  if (absl::SimpleAtoi(scan.next_cursor, &next)) page.next_cursor = next;
  for (const HashFields& fields : scan.records) {
    absl::StatusOr<T> t = from_fields(fields);
    if (!t.ok()) return t.status();
    page.items.push_back(*std::move(t));
  }
  return page;
}

// The hashes at `keys`, read in one pipeline and made by `from_fields`; keys that hold
// nothing are left out.
template <typename T, typename F>
absl::StatusOr<std::vector<T>> FetchRecords(RedisClient* redis,
                                            const std::vector<std::string>& keys, F from_fields,
                                            absl::Time deadline) {
  std::vector<T> out;
  if (keys.empty()) return out;
  std::vector<std::vector<std::string>> commands;
  commands.reserve(keys.size());
  for (const std::string& k : keys) commands.push_back({"HGETALL", k});
  absl::StatusOr<std::vector<RedisValue>> replies = redis->Pipeline(commands, deadline);
  if (!replies.ok()) return replies.status();
  for (const RedisValue& r : *replies) {
    HashFields fields(r);
    if (fields.empty()) continue;
    absl::StatusOr<T> t = from_fields(fields);
    if (!t.ok()) return t.status();
    out.push_back(*std::move(t));
  }
  return out;
}

// Milliseconds since the epoch as a decimal string.
inline std::string MsString(int64_t ms) { return std::to_string(ms); }

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_REDIS_FIELDS_H_
