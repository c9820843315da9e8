// dispatchd: the Yiyuan Dispatch gRPC service.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "engine/clock.h"
#include "server/admin_service.h"
#include "server/auth.h"
#include "server/crypto.h"
#include "server/dispatch_service.h"
#include "server/dispatch_store.h"
#include "server/points_service.h"
#include "server/points_store.h"
#include "server/dispatcher.h"
#include "server/embedded_files.h"
#include "server/embedded_redis.h"
#include "server/flag_names.h"
#include "server/intake_service.h"
#include "server/roster.h"
#include "server/stream_hub.h"
#include "server/unit_service.h"
#include "server/unit_store.h"
#include "server/volunteer_service.h"
#include "server/volunteer_store.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/redis_client.h"
#include "server/request_store.h"
#include "yiyuan/v1/dispatch.grpc.pb.h"
#include "yiyuan/v1/points.grpc.pb.h"
#include "yiyuan/v1/unit.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC address; port 0 picks a free port (see --ready-file)");
ABSL_FLAG(std::string, data_dir, "./var",
          "where the embedded Redis keeps its data and admin.token is written");
ABSL_FLAG(std::string, redis, "",
          "external Redis (redis://host:port or unix:///path); empty starts an embedded "
          "redis-server under --data-dir");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics address; empty disables it");
ABSL_FLAG(std::string, config, "",
          "file of flag=value lines (# comments); flags given on the command line win");
ABSL_FLAG(std::string, default_district, "wuxing",
          "district for callers whose token covers every district and who name none");
ABSL_FLAG(std::string, redis_server, "redis-server", "redis-server program for embedded mode");
ABSL_FLAG(int, redis_pool_size, 32, "most Redis connections open at once");
ABSL_FLAG(int, redis_timeout_ms, 1000, "longest wait for one Redis reply");
ABSL_FLAG(int, max_call_ms, 5000, "longest any call waits on Redis, whatever its deadline");
ABSL_FLAG(int, drain_timeout_ms, 10000,
          "on SIGTERM/SIGINT, how long in-flight calls may finish before they are cancelled");
ABSL_FLAG(int, max_threads, 64, "most gRPC handler threads");
ABSL_FLAG(int, min_pollers, 2, "gRPC handler threads kept waiting for calls");
ABSL_FLAG(int, max_pollers, 16,
          "most idle gRPC handler threads kept; more idle ones exit (too few makes "
          "threads start and stop with every burst of calls)");
ABSL_FLAG(std::string, ready_file, "",
          "once serving, write the gRPC address (host:port) here (for scripts and tests)");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error");
ABSL_FLAG(std::string, instance_id, "",
          "Names this instance in leader leases; default <hostname>:<pid>:<random>");
ABSL_FLAG(std::string, dispatch_policy, "",
          "Overrides of the dispatch policy by urgency, e.g. "
          "\"crisis.offer_ttl=30s,urgent.max_rounds=3\"");
ABSL_FLAG(int, batch_interval_ms, 5000,
          "ROUTINE requests are pooled and assigned together by the min-cost solver this "
          "often (ms); 0 offers them one at a time at once, like URGENT");
ABSL_FLAG(std::string, score_weights, "",
          "Overrides of the matching cost weights, e.g. \"travel_time=1,continuity=30\" "
          "(names: travel_time, preferred_skill_fit, continuity, fairness, reliability, urgency)");
ABSL_FLAG(std::string, batch_policy, "optimal",
          "How batch cycles assign pooled ROUTINE requests: optimal (the exact min-cost "
          "solver) or greedy (oldest first, each taking its cheapest free candidates; a "
          "baseline for comparisons)");
ABSL_FLAG(std::string, points_rule, "",
          "What a volunteer earns for a completed assignment, overriding the default "
          "\"base=10,per_minute=0.2,routine=0,urgent=5,crisis=10,max_minutes=480\": "
          "base + minutes served (up to max_minutes) x per_minute + the urgency's bonus");

namespace yiyuan {
namespace {

// Applies --config: each "name=value" line sets a flag not given on the command line.
absl::Status ApplyConfigFile(const std::string& path, int argc, char** argv) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --config file ", path));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    absl::ConsumePrefix(&l, "--");
    std::pair<std::string, std::string> kv = absl::StrSplit(l, absl::MaxSplits('=', 1));
    std::string name(absl::StripAsciiWhitespace(kv.first));
    std::replace(name.begin(), name.end(), '-', '_');
    std::string value(absl::StripAsciiWhitespace(kv.second));
    bool on_command_line = false;
    for (int i = 1; i < argc; ++i) {
      absl::string_view a = argv[i];
      if (absl::ConsumePrefix(&a, "--") || absl::ConsumePrefix(&a, "-")) {
        if (absl::StartsWith(a, name + "=") || a == name) on_command_line = true;
      }
    }
    if (on_command_line) continue;
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string error;
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": unknown flag ", name));
    }
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", n, ": ", name, ": ", error));
    }
  }
  return absl::OkStatus();
}

// Makes sure <data-dir>/admin.token holds an ADMIN token that Redis knows.
absl::Status BootstrapAdminToken(TokenStore& tokens, const std::string& data_dir) {
  std::string path = absl::StrCat(data_dir, "/admin.token");
  std::string secret;
  {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    secret = std::string(absl::StripAsciiWhitespace(ss.str()));
  }
  bool fresh = secret.empty();
  if (fresh) secret = NewTokenSecret();
  Principal admin;
  admin.name = "bootstrap admin (admin.token)";
  admin.role = Role::kAdmin;
  admin.district = "*";
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  absl::StatusOr<TokenRecord> r;
  do {
    r = tokens.Register(secret, admin, absl::Now() + absl::Seconds(2));
    if (r.ok() || !absl::IsUnavailable(r.status())) break;
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < give_up);
  if (!r.ok()) return r.status();
  if (fresh) {
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      chmod(tmp.c_str(), 0600);
      out << secret << "\n";
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
    chmod(tmp.c_str(), 0600);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot write ", path));
    }
    Log(LogLevel::kInfo, "wrote a new ADMIN token", {{"path", path}});
  }
  return absl::OkStatus();
}

// Keeps grpc.health.v1 in step with Redis: SERVING only while Redis answers PING.
class HealthMonitor {
 public:
  HealthMonitor(RedisClient* redis, grpc::HealthCheckServiceInterface* health)
      : redis_(redis), health_(health), thread_([this] { Run(); }) {}
  ~HealthMonitor() { Stop(); }
  bool serving() const { return serving_.load(); }
  // Marks NOT_SERVING for good (shutdown) and stops probing.
  void Stop() {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    if (thread_.joinable()) thread_.join();
    health_->SetServingStatus(false);
  }

 private:
  void Run() {
    bool last = false;
    bool first = true;
    do {
      bool up = redis_->Ping(absl::Now() + absl::Milliseconds(500)).ok();
      if (up != last || first) {
        health_->SetServingStatus(up);
        serving_.store(up);
        Log(up ? LogLevel::kInfo : LogLevel::kWarning,
            up ? "redis reachable: SERVING" : "redis unreachable: NOT_SERVING");
        last = up;
        first = false;
      }
    } while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(250)));
  }

  RedisClient* const redis_;
  grpc::HealthCheckServiceInterface* const health_;
  std::atomic<bool> serving_{false};
  absl::Notification stop_;
  std::thread thread_;
};

int Run(int argc, char** argv) {
  // Signals are taken by one thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Debian's Abseil is built with mutex deadlock detection on; it showed up in profiles
  // (graph-cycle bookkeeping on every lock). Lock order is checked in tests instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::SetProgramUsageMessage(
      "Yiyuan Dispatch service.\n  dispatchd [--listen=127.0.0.1:50051] [--data-dir=./var] "
      "[--redis=redis://host:port] [--metrics-listen=127.0.0.1:9464] [--config=file]");
  std::vector<std::string> args = NormalizeFlagNames(argc, argv);
  std::vector<char*> args_view = ArgvOf(args);
  absl::ParseCommandLine(static_cast<int>(args.size()), args_view.data());
  if (std::string config = absl::GetFlag(FLAGS_config); !config.empty()) {
    if (absl::Status s = ApplyConfigFile(config, static_cast<int>(args.size()), args_view.data());
        !s.ok()) {
      std::fprintf(stderr, "dispatchd: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  std::string level = absl::GetFlag(FLAGS_log_level);
  SetLogLevel(level == "debug" ? LogLevel::kDebug
              : level == "warning" ? LogLevel::kWarning
              : level == "error"   ? LogLevel::kError
                                   : LogLevel::kInfo);
  auto fail = [](const absl::Status& s) {
    Log(LogLevel::kError, "dispatchd cannot start", {{"error", s.ToString()}});
    std::fprintf(stderr, "dispatchd: %s\n", std::string(s.message()).c_str());
    return 1;
  };

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  absl::StatusOr<std::unique_ptr<DataDirLock>> lock = DataDirLock::Acquire(data_dir);
  if (!lock.ok()) return fail(lock.status());

  std::unique_ptr<EmbeddedRedis> embedded;
  std::string redis_url = absl::GetFlag(FLAGS_redis);
  if (redis_url.empty()) {
    EmbeddedRedisOptions eo;
    eo.data_dir = data_dir;
    eo.redis_server = absl::GetFlag(FLAGS_redis_server);
    eo.config = std::string(deploy_files::Get("redis-embedded.conf"));
    absl::StatusOr<std::unique_ptr<EmbeddedRedis>> e = EmbeddedRedis::Start(eo);
    if (!e.ok()) return fail(e.status());
    embedded = *std::move(e);
    redis_url = embedded->url();
  }
  absl::StatusOr<RedisEndpoint> endpoint = ParseRedisUrl(redis_url);
  if (!endpoint.ok()) return fail(endpoint.status());

  RedisClientOptions ro;
  ro.endpoint = *endpoint;
  ro.pool_size = absl::GetFlag(FLAGS_redis_pool_size);
  ro.command_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_redis_timeout_ms));
  RedisClient redis(ro);
  RedisClientOptions health_options = ro;
  health_options.pool_size = 1;
  RedisClient health_redis(health_options);

  TokenStore tokens(&redis);
  if (absl::Status s = BootstrapAdminToken(tokens, data_dir); !s.ok()) return fail(s);
  RequestStoreOptions request_options;
  request_options.batch_interval = absl::Milliseconds(absl::GetFlag(FLAGS_batch_interval_ms));
  RequestStore requests(&redis, request_options);
  VolunteerStore volunteer_store(&redis);
  UnitStore unit_store(&redis);
  // The roster follows the event streams on its own connections, so a blocking read
  // never holds one that handlers need.
  RedisClientOptions roster_options = ro;
  roster_options.pool_size = 2;
  RedisClient roster_redis(roster_options);
  Roster roster(&roster_redis, &SystemClock::Get());
  DispatchStoreOptions dispatch_store_options;
  if (std::string r = absl::GetFlag(FLAGS_points_rule); !r.empty()) {
    absl::StatusOr<PointsRule> rule = ParsePointsRule(r);
    if (!rule.ok()) return fail(rule.status());
    dispatch_store_options.points_rule = *rule;
  }
  DispatchStore dispatch_store(&redis, dispatch_store_options);
  PointsStore points_store(&redis);
  StreamHub hub(&dispatch_store);
  roster.SetEventObserver([&hub](const std::string& district, const std::string& id,
                                 const HashFields& f) { hub.OnEvent(district, id, f); });
  if (absl::Status s = roster.Start(absl::Now() + absl::Seconds(30)); !s.ok()) return fail(s);
  DispatcherOptions dispatcher_options;
  dispatcher_options.instance_id = absl::GetFlag(FLAGS_instance_id);
  if (dispatcher_options.instance_id.empty()) {
    char hostname[256] = {0};
    gethostname(hostname, sizeof(hostname) - 1);
    dispatcher_options.instance_id = absl::StrCat(hostname, ":", getpid(), ":", RandomUrlSafe(4));
  }
  if (std::string p = absl::GetFlag(FLAGS_dispatch_policy); !p.empty()) {
    absl::StatusOr<DispatchPolicyOptions> policy = ParseDispatchPolicy(p);
    if (!policy.ok()) return fail(policy.status());
    dispatcher_options.policy = *policy;
  }
  if (std::string w = absl::GetFlag(FLAGS_score_weights); !w.empty()) {
    absl::StatusOr<ScoreWeights> weights = ParseScoreWeights(w);
    if (!weights.ok()) return fail(weights.status());
    dispatcher_options.scorer.weights = *weights;
  }
  dispatcher_options.batch_interval = absl::Milliseconds(absl::GetFlag(FLAGS_batch_interval_ms));
  if (std::string bp = absl::GetFlag(FLAGS_batch_policy); bp == "greedy") {
    dispatcher_options.batch_policy = DispatcherOptions::BatchPolicy::kGreedy;
  } else if (bp != "optimal") {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("--batch-policy: \"", bp, "\" is not optimal or greedy")));
  }
  Dispatcher dispatcher(&dispatch_store, &roster, &SystemClock::Get(), dispatcher_options);
  dispatcher.Start();

  ServiceEnv env;
  env.tokens = &tokens;
  env.clock = &SystemClock::Get();
  env.default_district = absl::GetFlag(FLAGS_default_district);
  env.max_call_time = absl::Milliseconds(absl::GetFlag(FLAGS_max_call_ms));

  IntakeService intake(&env, &requests, &dispatcher);
  AdminService admin(&env);
  VolunteerService volunteers(&env, &volunteer_store, &unit_store, &roster,
                              OfferServices{&dispatch_store, &dispatcher, &hub, &requests});
  UnitService units(&env, &unit_store, &volunteer_store, &roster);
  DispatchService dispatch(&env, DispatchServices{&dispatch_store, &dispatcher, &hub, &requests,
                                                  &volunteer_store, &unit_store});
  PointsService points(&env, &points_store);

  Metrics metrics(&redis);
  metrics.AddSource([&roster] { return roster.MetricsText(); });
  metrics.AddSource([&dispatcher] { return dispatcher.MetricsText(); });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  grpc::ResourceQuota quota("dispatchd");
  quota.SetMaxThreads(absl::GetFlag(FLAGS_max_threads));
  builder.SetResourceQuota(quota);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS,
                              absl::GetFlag(FLAGS_min_pollers));
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              absl::GetFlag(FLAGS_max_pollers));
  builder.experimental().SetInterceptorCreators(metrics.InterceptorCreators());
  builder.RegisterService(&intake);
  builder.RegisterService(&admin);
  builder.RegisterService(&volunteers);
  builder.RegisterService(&units);
  builder.RegisterService(&dispatch);
  builder.RegisterService(&points);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return fail(absl::UnavailableError(
        absl::StrCat("cannot listen on ", absl::GetFlag(FLAGS_listen), " (in use?)")));
  }
  std::string host = absl::GetFlag(FLAGS_listen);
  host = host.substr(0, host.rfind(':'));
  std::string address = absl::StrCat(host, ":", port);

  HealthMonitor monitor(&health_redis, server->GetHealthCheckService());
  if (std::string m = absl::GetFlag(FLAGS_metrics_listen); !m.empty()) {
    if (absl::Status s = metrics.Serve(m); !s.ok()) return fail(s);
  }
  if (std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    std::ofstream out(ready + ".tmp", std::ios::trunc);
    out << address << "\n";
    out.close();
    std::rename((ready + ".tmp").c_str(), ready.c_str());
  }
  Log(LogLevel::kInfo, "dispatchd serving",
      {{"listen", address}, {"redis", endpoint->ToString()},
       {"mode", embedded ? "embedded" : "external"}, {"metrics", metrics.address()}});

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    absl::Duration drain = absl::Milliseconds(absl::GetFlag(FLAGS_drain_timeout_ms));
    Log(LogLevel::kInfo, "shutting down: draining in-flight calls",
        {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
         {"drain_timeout", absl::FormatDuration(drain)}});
    monitor.Stop();
    hub.Shutdown();
    server->Shutdown(absl::ToChronoTime(absl::Now() + drain));
  });
  server->Wait();
  waiter.join();
  dispatcher.Stop();
  roster.Stop();
  metrics.Stop();
  if (embedded) embedded->Stop();
  Log(LogLevel::kInfo, "dispatchd stopped");
  return 0;
}

}  // namespace
}  // namespace yiyuan

int main(int argc, char** argv) { return yiyuan::Run(argc, argv); }
