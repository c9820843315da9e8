#include "tests/testing/processes.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace yiyuan::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/yy.XXXXXX";
  path_ = mkdtemp(tmpl);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<std::string> args = argv;
  std::vector<char*> raw;
  for (std::string& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    setpgid(0, 0);
    execvp(raw[0], raw.data());
    _exit(127);
  }
}

Child::~Child() {
  if (running()) Signal(SIGKILL);
}

bool Child::running() {
  if (pid_ <= 0 || status_ != -1) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    status_ = st;
    return false;
  }
  return r == 0;
}

int Child::Wait(absl::Duration timeout) {
  absl::Time until = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() > until) return -1;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return status_;
}

int Child::Signal(int sig, absl::Duration timeout) {
  if (running()) kill(pid_, sig);
  return Wait(timeout);
}

namespace {

// True once Redis answers PING with PONG (not LOADING).
bool AnswersPing(const std::string& socket_path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            write(fd, "PING\r\n", 6) == 6;
  char buf[64] = {};
  ok = ok && read(fd, buf, sizeof(buf) - 1) > 0 && std::strncmp(buf, "+PONG", 5) == 0;
  close(fd);
  return ok;
}

}  // namespace

RedisServer::RedisServer() : socket_(dir_.path() + "/redis.sock") { Start(); }

RedisServer::~RedisServer() { Kill(); }

void RedisServer::Start() {
  unlink(socket_.c_str());
  child_ = std::make_unique<Child>(
      std::vector<std::string>{"redis-server", "--port", "0", "--unixsocket", socket_,
                               "--dir", dir_.path(), "--appendonly", "yes", "--appendfsync",
                               "always", "--save", "", "--daemonize", "no"},
      dir_.path() + "/redis.log");
  absl::Time until = absl::Now() + absl::Seconds(20);
  while (!AnswersPing(socket_) && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
}

void RedisServer::Kill() {
  if (child_) child_->Signal(SIGKILL);
  child_.reset();
}

std::string DispatchdPath() {
  if (const char* p = getenv("DISPATCHD")) return p;
  return YIYUAN_DISPATCHD_PATH;
}

Dispatchd::Dispatchd(std::string data_dir, std::vector<std::string> extra)
    : data_dir_(std::move(data_dir)), extra_(std::move(extra)) {}

Dispatchd::~Dispatchd() {
  if (child_ && child_->running()) Stop();
}

bool Dispatchd::Start(absl::Duration timeout) {
  static std::atomic<int> instances{0};
  std::string ready = absl::StrCat(data_dir_, ".ready", ++instances);
  std::vector<std::string> argv = {DispatchdPath(), "--listen=127.0.0.1:0",
                                   "--data-dir=" + data_dir_, "--metrics-listen=",
                                   "--ready-file=" + ready, "--drain-timeout-ms=2000"};
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  child_ = std::make_unique<Child>(argv, data_dir_ + ".log");
  absl::Time until = absl::Now() + timeout;
  while (absl::Now() < until) {
    std::string addr(absl::StripAsciiWhitespace(ReadFile(ready)));
    if (!addr.empty()) {
      address_ = addr;
      return true;
    }
    if (!child_->running()) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

int Dispatchd::Stop() { return child_ ? child_->Signal(SIGTERM) : -1; }

void Dispatchd::Kill() {
  if (child_) child_->Signal(SIGKILL);
}

std::string Dispatchd::admin_token() const {
  return std::string(absl::StripAsciiWhitespace(ReadFile(data_dir_ + "/admin.token")));
}

std::string Dispatchd::log() const { return ReadFile(data_dir_ + ".log"); }

}  // namespace yiyuan::testing
