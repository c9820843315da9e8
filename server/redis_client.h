#ifndef YIYUAN_SERVER_REDIS_CLIENT_H_
#define YIYUAN_SERVER_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace yiyuan {

// Where Redis listens.
struct RedisEndpoint {
  std::string host;       // TCP host; empty when unix_path is set.
  int port = 0;           // TCP port.
  std::string unix_path;  // Unix socket path.
  std::string ToString() const;
};

// Parses "redis://host:port", "redis://host" (port 6379) or "unix:///path/to/socket".
// INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url,
                                            absl::string_view field = "--redis");

// An owned copy of one Redis reply.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;                   // kString and kStatus.
  std::vector<RedisValue> elements;  // kArray.

  bool is_nil() const { return type == Type::kNil; }
  bool is_array() const { return type == Type::kArray; }
};

// A Lua script kept as a file beside the store and embedded at build time.
class LuaScript {
 public:
  // The embedded script `file_name` (e.g. "submit_request.lua"). The program aborts at
  // start if no such file was embedded — that is a build error, not a runtime one.
  static LuaScript Embedded(absl::string_view file_name);
  // The embedded script `file_name` with the embedded `library` (e.g.
  // "dispatch_lib.lua") prepended: scripts that share rules stay one atomic EVALSHA.
  static LuaScript WithLibrary(absl::string_view library, absl::string_view file_name);
  // The same with several libraries, prepended in the order given.
  static LuaScript WithLibraries(std::initializer_list<absl::string_view> libraries,
                                 absl::string_view file_name);
  const std::string& name() const { return name_; }
  const std::string& body() const { return body_; }
  const std::string& sha1() const { return sha1_; }

 private:
  LuaScript(std::string name, std::string body);
  std::string name_;
  std::string body_;
  std::string sha1_;
};

struct RedisClientOptions {
  // Where to connect.
  RedisEndpoint endpoint;
  // Most connections open at once; callers beyond that wait (until their deadline).
  int pool_size = 32;
  // Longest wait for a new connection.
  absl::Duration connect_timeout = absl::Milliseconds(250);
  // Longest wait for any one reply, shortened by the caller's deadline.
  absl::Duration command_timeout = absl::Seconds(1);
};

// Counters, for metrics and benchmarks.
struct RedisClientStats {
  int64_t round_trips = 0;  // Commands sent and answered (or failed), pipelines count once.
  int64_t errors = 0;       // Connection errors and timeouts.
  int64_t connects = 0;     // Connections opened.
  int open = 0;             // Connections open now.
  int idle = 0;             // Of which idle in the pool.
};

// A bounded pool of hiredis connections. The only code that speaks to Redis.
//
// Thread-safe: any number of threads may call at once; each call borrows one
// connection, which only that thread uses until it is returned. A connection that saw
// an error or a timeout is closed, never reused; the next call opens a fresh one, so the
// client recovers by itself when Redis comes back.
//
// Errors: UNAVAILABLE when Redis cannot be reached, times out, or is loading / read-only
// (retryable); DEADLINE_EXCEEDED when the caller's deadline passed first; errors raised
// by a script as "<CODE> <message>" (CODE an absl status code name such as
// FAILED_PRECONDITION) come back with that code and message; INVALID_ARGUMENT messages of
// the form "<field>: <why>" carry a field violation. Any other Redis error is INTERNAL.
class RedisClient {
 public:
  explicit RedisClient(RedisClientOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command and returns its reply. Error replies become statuses.
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& argv,
                                     absl::Time deadline = absl::InfiniteFuture());

  // Runs `script` by EVALSHA; if Redis does not have it (NOSCRIPT), sends it with EVAL,
  // which also caches it. All `keys` must share one hash tag.
  absl::StatusOr<RedisValue> Eval(const LuaScript& script, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args,
                                  absl::Time deadline = absl::InfiniteFuture());

  // Sends all commands in one write and reads all replies (one round trip). The result
  // holds one entry per command; an error reply fails the whole call.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands,
      absl::Time deadline = absl::InfiniteFuture());

  // Runs `script` once per element of `calls` (its keys and args), all EVALSHAs in one
  // write (one round trip; a script Redis does not have yet costs one more). The outer
  // status fails only when the first exchange failed; each call has its own status,
  // mapped as for Eval. Each call is atomic, the batch is not: when an exchange fails
  // partway, some calls may have run although their status is the failure (callers
  // rely on their scripts' own guards, e.g. expected rounds, to make a retry safe).
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> EvalMany(
      const LuaScript& script, const std::vector<ScriptCall>& calls,
      absl::Time deadline = absl::InfiniteFuture());

  // PING. OK when Redis answers and is not loading.
  absl::Status Ping(absl::Time deadline);

  RedisClientStats stats() const;
  const RedisClientOptions& options() const { return options_; }

  // Round trips made so far on the calling thread, by every RedisClient, counted as in
  // stats() (a pipeline counts once); for attributing round trips to one call's work.
  static int64_t ThreadRoundTrips();

 private:
  struct Conn;

  absl::StatusOr<std::unique_ptr<Conn>> Acquire(absl::Time deadline);
  void Release(std::unique_ptr<Conn> conn, bool healthy);
  absl::StatusOr<std::vector<RedisValue>> RunOnce(
      const std::vector<std::vector<std::string>>& commands, absl::Time deadline);
  // Like RunOnce, but each command's error reply is its own status (NOSCRIPT as
  // NOT_FOUND "NOSCRIPT").
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> RunOnceEach(
      const std::vector<std::vector<std::string>>& commands, absl::Time deadline);

  const RedisClientOptions options_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> round_trips_{0};
  std::atomic<int64_t> errors_{0};
  std::atomic<int64_t> connects_{0};
};

// The error text of a reply-level Redis error mapped to a status (see RedisClient).
// Exposed for tests.
absl::Status StatusFromRedisError(absl::string_view error);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_REDIS_CLIENT_H_
