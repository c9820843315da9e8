#ifndef YIYUAN_TESTS_TESTING_REDIS_COUNTS_H_
#define YIYUAN_TESTS_TESTING_REDIS_COUNTS_H_

#include <cstdint>

#include "server/redis_client.h"

namespace yiyuan::testing {

// Keys in Redis, not counting each district's leader lease and its token counter:
// the dispatch loop takes those by itself at any time, so tests that check "nothing
// was written" leave them out.
inline int64_t DataKeyCount(RedisClient& redis) {
  absl::StatusOr<RedisValue> n = redis.Command(
      {"EVAL",
       "local n = 0 for _, k in ipairs(redis.call('KEYS', '*')) do "
       "if not (k:match(':lease$') or k:match(':fence$')) then n = n + 1 end end return n",
       "0"});
  return n.ok() ? n->integer : -1;
}

}  // namespace yiyuan::testing

#endif  // YIYUAN_TESTS_TESTING_REDIS_COUNTS_H_
