#include "server/redis_client.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/field_violations.h"
#include "server/embedded_files.h"

namespace yiyuan {

struct RedisClient::Conn {
  struct Free {
    void operator()(redisContext* c) const { redisFree(c); }
  };
  std::unique_ptr<redisContext, Free> ctx;
  // The socket timeout last set on ctx; set again only when it changes (a setsockopt
  // per call showed up in profiles).
  absl::Duration timeout = absl::ZeroDuration();
};

namespace {

struct FreeReply {
  void operator()(void* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, FreeReply>;

// RunOnce does the exchange on the calling thread, so this counts the thread's own trips.
thread_local int64_t thread_round_trips = 0;

// One reply as read off the wire: a value, or the text of an error reply.
struct RawReply {
  RedisValue value;
  bool is_error = false;
  std::string error;
};

RedisValue Convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kStatus;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(Convert(r->element[i]));
      break;
    default:
      break;
  }
  return v;
}

timeval TimevalFor(absl::Duration d) {
  if (d < absl::Milliseconds(1)) d = absl::Milliseconds(1);
  return absl::ToTimeval(d);
}

// False when Redis has closed the idle connection `c` (it restarted or timed the client
// out): a non-blocking peek sees end-of-file or an error instead of "nothing to read".
bool PeerStillThere(const redisContext* c) {
  char byte;
  ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

std::string Sha1Hex(absl::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  hex.reserve(2 * SHA_DIGEST_LENGTH);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

struct CodeName {
  absl::string_view name;
  absl::StatusCode code;
};
constexpr CodeName kScriptCodes[] = {
    {"INVALID_ARGUMENT", absl::StatusCode::kInvalidArgument},
    {"NOT_FOUND", absl::StatusCode::kNotFound},
    {"ALREADY_EXISTS", absl::StatusCode::kAlreadyExists},
    {"FAILED_PRECONDITION", absl::StatusCode::kFailedPrecondition},
    {"PERMISSION_DENIED", absl::StatusCode::kPermissionDenied},
    {"RESOURCE_EXHAUSTED", absl::StatusCode::kResourceExhausted},
    {"ABORTED", absl::StatusCode::kAborted},
};

// Redis errors that mean "try again soon".
constexpr absl::string_view kRetryable[] = {"LOADING",  "BUSY",        "READONLY", "MASTERDOWN",
                                            "TRYAGAIN", "CLUSTERDOWN", "OOM"};

}  // namespace

std::string RedisEndpoint::ToString() const {
  return unix_path.empty() ? absl::StrCat("redis://", host, ":", port)
                           : absl::StrCat("unix://", unix_path);
}

absl::StatusOr<RedisEndpoint> ParseRedisUrl(absl::string_view url, absl::string_view field) {
  RedisEndpoint e;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "unix://")) {
    if (rest.empty() || rest[0] != '/') {
      return InvalidField(field, "a unix socket URL needs an absolute path: unix:///path");
    }
    e.unix_path = std::string(rest);
    return e;
  }
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return InvalidField(field, "must be redis://host:port or unix:///path");
  }
  rest = absl::StripSuffix(rest, "/");
  size_t colon = rest.rfind(':');
  e.host = std::string(rest.substr(0, colon));
  e.port = 6379;
  if (colon != absl::string_view::npos &&
      (!absl::SimpleAtoi(rest.substr(colon + 1), &e.port) || e.port <= 0 || e.port > 65535)) {
    return InvalidField(field, "has a bad port");
  }
  if (e.host.empty()) return InvalidField(field, "has no host");
  return e;
}

LuaScript::LuaScript(std::string name, std::string body)
    : name_(std::move(name)), body_(std::move(body)), sha1_(Sha1Hex(body_)) {}

LuaScript LuaScript::Embedded(absl::string_view file_name) {
  std::string_view raw_body = lua_files::Get(std::string_view(file_name.data(), file_name.size()));
  absl::string_view body(raw_body.data(), raw_body.size());
  if (body.empty()) {
    std::fprintf(stderr, "fatal: Lua script %s was not embedded in this build\n",
                 std::string(file_name).c_str());
    std::abort();
  }
  return LuaScript(std::string(file_name), std::string(body));
}

LuaScript LuaScript::WithLibrary(absl::string_view library, absl::string_view file_name) {
  return WithLibraries({library}, file_name);
}

LuaScript LuaScript::WithLibraries(std::initializer_list<absl::string_view> libraries,
                                   absl::string_view file_name) {
  std::string body;
  for (absl::string_view library : libraries)
    absl::StrAppend(&body, Embedded(library).body(), "\n");
  LuaScript script = Embedded(file_name);
  return LuaScript(script.name(), absl::StrCat(body, script.body()));
}

absl::Status StatusFromRedisError(absl::string_view error) {
  for (const CodeName& c : kScriptCodes) {
    absl::string_view rest = error;
    if (absl::ConsumePrefix(&rest, c.name) && absl::ConsumePrefix(&rest, " ")) {
      if (c.code == absl::StatusCode::kInvalidArgument) {
        size_t colon = rest.find(": ");
        if (colon != absl::string_view::npos) {
          return InvalidField(rest.substr(0, colon), rest.substr(colon + 2));
        }
      }
      // "{REASON} message": a machine-readable reason for the refusal.
      if (absl::ConsumePrefix(&rest, "{")) {
        size_t close = rest.find("} ");
        if (close != absl::string_view::npos) {
          return WithReason(absl::Status(c.code, rest.substr(close + 2)), rest.substr(0, close));
        }
      }
      return absl::Status(c.code, rest);
    }
  }
  for (absl::string_view prefix : kRetryable) {
    if (absl::StartsWith(error, prefix)) {
      return absl::UnavailableError(absl::StrCat("redis: ", error));
    }
  }
  return absl::InternalError(absl::StrCat("redis: ", error));
}

RedisClient::RedisClient(RedisClientOptions options) : options_(std::move(options)) {
  // hiredis writes with write(2): a peer that went away must give EPIPE, not kill us.
  signal(SIGPIPE, SIG_IGN);
}

RedisClient::~RedisClient() = default;

absl::StatusOr<std::unique_ptr<RedisClient::Conn>> RedisClient::Acquire(absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.pool_size;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&available), deadline)) {
      return absl::DeadlineExceededError("timed out waiting for a Redis connection");
    }
    while (!idle_.empty()) {
      std::unique_ptr<Conn> c = std::move(idle_.back());
      idle_.pop_back();
      if (PeerStillThere(c->ctx.get())) return c;
      --open_;  // Redis closed it (restart, timeout): drop it rather than fail a call.
    }
    ++open_;  // Reserve a slot; connect outside the lock.
  }
  absl::Duration timeout =
      std::min(options_.connect_timeout, std::max(deadline - absl::Now(), absl::ZeroDuration()));
  timeval tv = TimevalFor(timeout);
  const RedisEndpoint& e = options_.endpoint;
  redisContext* raw = e.unix_path.empty() ? redisConnectWithTimeout(e.host.c_str(), e.port, tv)
                                          : redisConnectUnixWithTimeout(e.unix_path.c_str(), tv);
  auto conn = std::make_unique<Conn>();
  conn->ctx.reset(raw);
  if (raw == nullptr || raw->err != 0) {
    std::string why = raw == nullptr ? "out of memory" : raw->errstr;
    {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    errors_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to Redis at ", e.ToString(), ": ", why));
  }
  connects_.fetch_add(1, std::memory_order_relaxed);
  return conn;
}

void RedisClient::Release(std::unique_ptr<Conn> conn, bool healthy) {
  absl::MutexLock lock(&mu_);
  if (healthy) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
}

namespace {

// Sends `commands` on `ctx` and reads one reply per command. Returns UNAVAILABLE (and
// the connection must be dropped) on any I/O error or timeout.
absl::StatusOr<std::vector<RawReply>> Exchange(
    redisContext* ctx, const std::vector<std::vector<std::string>>& commands) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const std::string& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      return absl::UnavailableError(absl::StrCat("redis: ", ctx->errstr));
    }
  }
  std::vector<RawReply> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx, &raw) != REDIS_OK || raw == nullptr) {
      bool timeout = ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
      return absl::UnavailableError(
          absl::StrCat("redis: ", timeout ? "timed out waiting for a reply" : ctx->errstr));
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    RawReply r;
    if (reply->type == REDIS_REPLY_ERROR) {
      r.is_error = true;
      r.error.assign(reply->str, reply->len);
    } else {
      r.value = Convert(reply.get());
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<RedisValue>> RedisClient::RunOnce(
    const std::vector<std::vector<std::string>>& commands, absl::Time deadline) {
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> each = RunOnceEach(commands, deadline);
  if (!each.ok()) return each.status();
  std::vector<RedisValue> values;
  values.reserve(each->size());
  for (absl::StatusOr<RedisValue>& v : *each) {
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  return values;
}

// Runs commands on one borrowed connection.
absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> RedisClient::RunOnceEach(
    const std::vector<std::vector<std::string>>& commands, absl::Time deadline) {
  absl::Time now = absl::Now();
  if (deadline <= now) return absl::DeadlineExceededError("deadline passed before calling Redis");
  absl::StatusOr<std::unique_ptr<Conn>> conn = Acquire(deadline);
  if (!conn.ok()) return conn.status();
  // Rounded up to 10 ms so that calls with similar deadlines share one setting.
  absl::Duration timeout = absl::Ceil(std::min(options_.command_timeout, deadline - absl::Now()),
                                      absl::Milliseconds(10));
  redisContext* ctx = (*conn)->ctx.get();
  absl::StatusOr<std::vector<RawReply>> replies;
  bool same_timeout = (*conn)->timeout == timeout;
  (*conn)->timeout = timeout;
  if (!same_timeout && redisSetTimeout(ctx, TimevalFor(timeout)) != REDIS_OK) {
    replies = absl::UnavailableError("redis: cannot set timeout");
  } else {
    replies = Exchange(ctx, commands);
  }
  round_trips_.fetch_add(1, std::memory_order_relaxed);
  ++thread_round_trips;
  if (!replies.ok()) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    Release(std::move(*conn), /*healthy=*/false);
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("deadline exceeded waiting for Redis (", replies.status().message(), ")"));
    }
    return replies.status();
  }
  Release(std::move(*conn), /*healthy=*/true);
  std::vector<absl::StatusOr<RedisValue>> values;
  values.reserve(replies->size());
  for (RawReply& r : *replies) {
    if (!r.is_error) {
      values.push_back(std::move(r.value));
    } else if (absl::StartsWith(r.error, "NOSCRIPT")) {
      values.push_back(absl::NotFoundError("NOSCRIPT"));  // Distinguishable for Eval.
    } else {
      values.push_back(StatusFromRedisError(r.error));
    }
  }
  return values;
}

namespace {

bool IsNoScript(const absl::Status& s) {
  return absl::IsNotFound(s) && s.message() == "NOSCRIPT";
}

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> RedisClient::EvalMany(
    const LuaScript& script, const std::vector<ScriptCall>& calls, absl::Time deadline) {
  std::vector<std::vector<std::string>> commands;
  commands.reserve(calls.size());
  for (const ScriptCall& c : calls) {
    std::vector<std::string> argv;
    argv.reserve(3 + c.keys.size() + c.args.size());
    argv.push_back("EVALSHA");
    argv.push_back(script.sha1());
    argv.push_back(std::to_string(c.keys.size()));
    argv.insert(argv.end(), c.keys.begin(), c.keys.end());
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    commands.push_back(std::move(argv));
  }
  if (commands.empty()) return std::vector<absl::StatusOr<RedisValue>>{};
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> r = RunOnceEach(commands, deadline);
  if (!r.ok()) return r.status();
  // Redis did not have the script: one more write sends EVAL for the first of those calls
  // (it caches the script) and EVALSHA for the rest, which Redis runs after it.
  std::vector<size_t> missing;
  for (size_t i = 0; i < r->size(); ++i) {
    if (IsNoScript((*r)[i].status())) missing.push_back(i);
  }
  if (missing.empty()) return r;
  std::vector<std::vector<std::string>> again;
  for (size_t i : missing) again.push_back(commands[i]);
  again[0][0] = "EVAL";
  again[0][1] = script.body();
  absl::StatusOr<std::vector<absl::StatusOr<RedisValue>>> rest = RunOnceEach(again, deadline);
  for (size_t k = 0; k < missing.size(); ++k) {
    absl::StatusOr<RedisValue>& slot = (*r)[missing[k]];
    if (!rest.ok()) {
      slot = rest.status();  // The calls that did run keep their own answers.
    } else if (IsNoScript((*rest)[k].status())) {
      // Flushed again in between: retryable, and not to be read as "not found".
      slot = absl::UnavailableError("redis: the script cache was flushed; retry");
    } else {
      slot = std::move((*rest)[k]);
    }
  }
  return r;
}

absl::StatusOr<RedisValue> RedisClient::Command(const std::vector<std::string>& argv,
                                                absl::Time deadline) {
  absl::StatusOr<std::vector<RedisValue>> r = RunOnce({argv}, deadline);
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

absl::StatusOr<std::vector<RedisValue>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands, absl::Time deadline) {
  if (commands.empty()) return std::vector<RedisValue>{};
  return RunOnce(commands, deadline);
}

absl::StatusOr<RedisValue> RedisClient::Eval(const LuaScript& script,
                                             const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args,
                                             absl::Time deadline) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(std::to_string(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<std::vector<RedisValue>> r = RunOnce({argv}, deadline);
  if (!r.ok() && absl::IsNotFound(r.status()) && r.status().message() == "NOSCRIPT") {
    argv[0] = "EVAL";
    argv[1] = script.body();
    r = RunOnce({argv}, deadline);
  }
  if (!r.ok()) return r.status();
  return std::move(r->front());
}

absl::Status RedisClient::Ping(absl::Time deadline) {
  absl::StatusOr<RedisValue> r = Command({"PING"}, deadline);
  return r.status();
}

int64_t RedisClient::ThreadRoundTrips() { return thread_round_trips; }

RedisClientStats RedisClient::stats() const {
  RedisClientStats s;
  s.round_trips = round_trips_.load(std::memory_order_relaxed);
  s.errors = errors_.load(std::memory_order_relaxed);
  s.connects = connects_.load(std::memory_order_relaxed);
  absl::MutexLock lock(&mu_);
  s.open = open_;
  s.idle = static_cast<int>(idle_.size());
  return s;
}

}  // namespace yiyuan
