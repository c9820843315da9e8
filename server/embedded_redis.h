#ifndef YIYUAN_SERVER_EMBEDDED_REDIS_H_
#define YIYUAN_SERVER_EMBEDDED_REDIS_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace yiyuan {

struct EmbeddedRedisOptions {
  // Where the data (AOF), the socket, the config and the log live. Must exist.
  std::string data_dir;
  // The redis-server program (looked up on PATH when it has no '/').
  std::string redis_server = "redis-server";
  // Base configuration (deploy/redis-embedded.conf, embedded in the binary); dir,
  // unixsocket, pidfile and logfile are added on the command line.
  std::string config;
  // Longest wait for redis-server to accept connections at start.
  absl::Duration start_timeout = absl::Seconds(30);
  // How long Stop() lets redis-server finish its shutdown after SIGTERM before it kills
  // it (every acknowledged write is already in the fsynced AOF).
  absl::Duration stop_timeout = absl::Seconds(15);
};

// A redis-server child that dispatchd starts, restarts if it dies, and stops.
//
// It listens only on a unix socket inside the data dir (no TCP port). The child gets
// SIGTERM if dispatchd dies, so a killed dispatchd does not leave it behind; a
// redis-server left over from a dispatchd killed earlier on the same data dir is
// stopped before a new one starts. Thread-safe.
class EmbeddedRedis {
 public:
  // Starts redis-server and waits until it accepts connections. Errors: FAILED_PRECONDITION
  // when the socket path is too long; UNAVAILABLE when redis-server does not come up
  // (its log is named in the message).
  static absl::StatusOr<std::unique_ptr<EmbeddedRedis>> Start(EmbeddedRedisOptions options);
  ~EmbeddedRedis();  // Stops it.

  // "unix:///.../redis.sock"
  std::string url() const { return "unix://" + socket_path_; }
  // The pid of the current child (for tests and logs).
  pid_t pid() const;
  // How many times it was restarted after dying.
  int restarts() const { return restarts_.load(); }
  // Sends SIGTERM, waits for it to exit (AOF is flushed), stops supervising. Idempotent.
  void Stop();

 private:
  EmbeddedRedis(EmbeddedRedisOptions options, std::string socket_path);
  absl::Status Spawn();
  void Supervise();

  const EmbeddedRedisOptions options_;
  const std::string socket_path_;
  mutable absl::Mutex mu_;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = -1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> restarts_{0};
  std::thread supervisor_;
};

// An exclusive lock on a data dir, held while the process lives.
class DataDirLock {
 public:
  // Creates `dir` if needed and locks `<dir>/dispatchd.lock`. FAILED_PRECONDITION naming
  // the holder's pid when another process holds it.
  static absl::StatusOr<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_EMBEDDED_REDIS_H_
