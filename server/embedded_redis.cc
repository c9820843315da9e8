#include "server/embedded_redis.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/log.h"

namespace yiyuan {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::trunc);
  out << data;
  return static_cast<bool>(out);
}

// Finds `program` on PATH unless it already names a path.
std::string ResolveProgram(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

bool CanConnect(const std::string& socket_path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool Alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

// Stops a redis-server left behind on this data dir by a dispatchd that was killed
// before it could stop its child.
void StopLeftover(const std::string& pidfile, const std::string& socket_path) {
  int pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(pidfile)), &pid) || !Alive(pid)) {
    return;
  }
  std::string cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  if (cmdline.find("redis-server") == std::string::npos &&
      cmdline.find(socket_path) == std::string::npos) {
    return;  // The pid was reused by something else.
  }
  Log(LogLevel::kWarning, "stopping a redis-server left over on this data dir",
      {{"pid", std::to_string(pid)}});
  kill(pid, SIGTERM);
  for (int i = 0; i < 200 && Alive(pid); ++i) absl::SleepFor(absl::Milliseconds(50));
  if (Alive(pid)) kill(pid, SIGKILL);
}

}  // namespace

EmbeddedRedis::EmbeddedRedis(EmbeddedRedisOptions options, std::string socket_path)
    : options_(std::move(options)), socket_path_(std::move(socket_path)) {}

absl::StatusOr<std::unique_ptr<EmbeddedRedis>> EmbeddedRedis::Start(EmbeddedRedisOptions options) {
  char real[PATH_MAX];
  if (realpath(options.data_dir.c_str(), real) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", options.data_dir, ": ", std::strerror(errno)));
  }
  options.data_dir = real;
  std::string socket_path = absl::StrCat(options.data_dir, "/redis.sock");
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data dir path is too long for a unix socket (", socket_path.size(),
        " characters; at most ", sizeof(sockaddr_un::sun_path) - 1,
        "): use a shorter --data-dir or an external --redis"));
  }
  std::string redis_dir = absl::StrCat(options.data_dir, "/redis");
  if (mkdir(redis_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", redis_dir, ": ",
                                                      std::strerror(errno)));
  }
  std::string conf = absl::StrCat(options.data_dir, "/redis.conf");
  if (!WriteFile(conf, options.config)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", conf));
  }
  StopLeftover(absl::StrCat(options.data_dir, "/redis.pid"), socket_path);

  std::unique_ptr<EmbeddedRedis> r(new EmbeddedRedis(std::move(options), socket_path));
  r->supervisor_ = std::thread([p = r.get()] { p->Supervise(); });
  absl::Time give_up = absl::Now() + r->options_.start_timeout;
  while (!CanConnect(r->socket_path_)) {
    if (absl::Now() > give_up) {
      std::string log = absl::StrCat(r->options_.data_dir, "/redis.log");
      r->Stop();
      return absl::UnavailableError(absl::StrCat(
          "redis-server did not start within ", absl::FormatDuration(r->options_.start_timeout),
          "; see ", log, " (is redis-server installed? try --redis-server=/path)"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  Log(LogLevel::kInfo, "embedded redis-server is up",
      {{"socket", r->socket_path_}, {"pid", std::to_string(r->pid())}});
  return r;
}

EmbeddedRedis::~EmbeddedRedis() { Stop(); }

pid_t EmbeddedRedis::pid() const {
  absl::MutexLock lock(&mu_);
  return pid_;
}

absl::Status EmbeddedRedis::Spawn() {
  const std::string& d = options_.data_dir;
  std::vector<std::string> args = {
      ResolveProgram(options_.redis_server), absl::StrCat(d, "/redis.conf"),
      "--dir", absl::StrCat(d, "/redis"),
      "--port", "0",
      "--unixsocket", socket_path_,
      "--unixsocketperm", "700",
      "--pidfile", absl::StrCat(d, "/redis.pid"),
      "--logfile", absl::StrCat(d, "/redis.log"),
      "--daemonize", "no"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  absl::MutexLock lock(&mu_);
  pid_ = pid;
  return absl::OkStatus();
}

void EmbeddedRedis::Supervise() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::Time started = absl::Now();
    if (absl::Status s = Spawn(); !s.ok()) {
      Log(LogLevel::kError, "cannot start redis-server", {{"error", std::string(s.message())}});
    } else {
      pid_t pid = this->pid();
      // Wait without reaping, so the pid cannot be reused while Stop() may signal it.
      siginfo_t info{};
      while (waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
      }
      {
        absl::MutexLock lock(&mu_);
        pid_ = -1;
      }
      waitpid(pid, nullptr, 0);
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    if (absl::Now() - started > absl::Seconds(30)) backoff = absl::Milliseconds(100);
    Log(LogLevel::kWarning, "redis-server exited; restarting",
        {{"after", absl::FormatDuration(backoff)}});
    restarts_.fetch_add(1);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

void EmbeddedRedis::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (pid_ > 0) kill(pid_, SIGTERM);
    // A redis-server that cannot finish its shutdown (its data dir deleted, the disk
    // full) would otherwise keep dispatchd from ever exiting.
    auto exited = [](EmbeddedRedis* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
      return r->pid_ <= 0;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(+exited, this), options_.stop_timeout)) {
      Log(LogLevel::kWarning, "redis-server did not stop after SIGTERM; killing it",
          {{"pid", absl::StrCat(pid_)}, {"waited", absl::FormatDuration(options_.stop_timeout)}});
      kill(pid_, SIGKILL);
    }
  }
  if (supervisor_.joinable()) supervisor_.join();
}

absl::StatusOr<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data dir ", dir, ": ", std::strerror(errno)));
  }
  std::string path = absl::StrCat(dir, "/dispatchd.lock");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder(absl::StripAsciiWhitespace(ReadFile(path)));
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "data dir ", dir, " is in use by another dispatchd (pid ", holder.empty() ? "?" : holder,
        "); stop it or start this one with another --data-dir"));
  }
  std::string pid = absl::StrCat(getpid(), "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat("cannot write ", path));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { close(fd_); }

}  // namespace yiyuan
