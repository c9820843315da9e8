#ifndef YIYUAN_SERVER_REDIS_FIELDS_H_
#define YIYUAN_SERVER_REDIS_FIELDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

// Milliseconds since the epoch as a decimal string.
inline std::string MsString(int64_t ms) { return std::to_string(ms); }

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_REDIS_FIELDS_H_
