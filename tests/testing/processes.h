#ifndef YIYUAN_TESTS_TESTING_PROCESSES_H_
#define YIYUAN_TESTS_TESTING_PROCESSES_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace yiyuan::testing {

// A fresh temporary directory, removed (recursively) on destruction. Short paths, so
// unix sockets inside fit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process. Destruction kills it (SIGKILL) if it still runs.
class Child {
 public:
  // Starts `argv` with stdout+stderr appended to `log_path`.
  Child(const std::vector<std::string>& argv, const std::string& log_path);
  ~Child();
  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` and waits up to `timeout` for the exit; returns the wait status or -1.
  int Signal(int sig, absl::Duration timeout = absl::Seconds(20));
  // Waits for the exit; returns the wait status or -1 on timeout.
  int Wait(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// A real redis-server on a unix socket in its own temp dir (no TCP port), with AOF and
// appendfsync always. Restart() brings it back on the same socket and data.
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  std::string url() const { return "unix://" + socket_; }
  const std::string& socket() const { return socket_; }
  void Start();
  // SIGKILL: no chance to flush anything beyond what appendfsync always already did.
  void Kill();
  void Restart() {
    Kill();
    Start();
  }

 private:
  TempDir dir_;
  std::string socket_;
  std::unique_ptr<Child> child_;
};

// The real dispatchd binary, started with --listen=127.0.0.1:0 and a ready file.
class Dispatchd {
 public:
  // `data_dir` must outlive this; `extra` are more flags (e.g. "--redis=unix://...").
  Dispatchd(std::string data_dir, std::vector<std::string> extra = {});
  ~Dispatchd();
  // Starts it and waits until it serves. Returns false (and keeps the log) if it exits
  // or does not come up within `timeout`.
  bool Start(absl::Duration timeout = absl::Seconds(30));
  // SIGTERM and wait; returns the wait status.
  int Stop();
  // SIGKILL.
  void Kill();
  const std::string& address() const { return address_; }
  std::string admin_token() const;
  std::string log() const;
  Child* child() { return child_.get(); }

 private:
  std::string data_dir_;
  std::vector<std::string> extra_;
  std::string address_;
  std::unique_ptr<Child> child_;
};

// The path of the dispatchd binary under test.
std::string DispatchdPath();
// Reads a whole file ("" if missing).
std::string ReadFile(const std::string& path);

}  // namespace yiyuan::testing

#endif  // YIYUAN_TESTS_TESTING_PROCESSES_H_
