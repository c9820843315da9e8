// The kiosk end to end: the real kiosk binary, its stdin on a pipe, against a real
// dispatchd (embedded redis-server). Every test checks the server's state through gRPC
// (balances, stock, ledger), not only what the kiosk printed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client.h"
#include "tests/testing/processes.h"
#include "yiyuan/v1/points.grpc.pb.h"
#include "yiyuan/v1/volunteer.grpc.pb.h"

namespace yiyuan::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string KioskPath() {
  if (const char* p = getenv("KIOSK")) return p;
  return YIYUAN_KIOSK_PATH;
}

// The kiosk binary with its stdin on a named pipe the test writes to and its stdout and
// stderr in a file the test reads, so that a test can answer a prompt after changing
// something on the server.
class KioskProcess {
 public:
  KioskProcess(const std::string& dir, const std::vector<std::string>& args) {
    static std::atomic<int> serial{0};
    const int n = ++serial;
    fifo_ = absl::StrCat(dir, "/kiosk", n, ".in");
    out_ = absl::StrCat(dir, "/kiosk", n, ".out");
    EXPECT_EQ(mkfifo(fifo_.c_str(), 0600), 0) << fifo_;
    std::vector<std::string> argv = {"/bin/sh", "-c", absl::StrCat("exec \"$0\" \"$@\" < ", fifo_),
                                     KioskPath()};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<Child>(argv, out_);
    // Opening the write end succeeds once the shell has opened the read end.
    absl::Time until = absl::Now() + absl::Seconds(30);
    while ((fd_ = open(fifo_.c_str(), O_WRONLY | O_NONBLOCK)) < 0 && errno == ENXIO &&
           child_->running() && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_GE(fd_, 0) << "the kiosk did not start: " << output();
    if (fd_ >= 0) fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
  }
  ~KioskProcess() {
    if (fd_ >= 0) close(fd_);
  }

  // Types `line` and Enter.
  void Send(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(write(fd_, data.data(), data.size()), static_cast<ssize_t>(data.size()))
        << "the kiosk is gone: " << output();
  }

  // Waits until the output, after what earlier waits consumed, holds `text`; consumes
  // up to its end. False (and nothing consumed) when it does not appear in time.
  bool WaitFor(const std::string& text, absl::Duration timeout = absl::Seconds(30)) {
    absl::Time until = absl::Now() + timeout;
    while (true) {
      std::string out = output();
      size_t at = out.find(text, seen_);
      if (at != std::string::npos) {
        seen_ = at + text.size();
        return true;
      }
      if (absl::Now() > until || !child_->running()) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // Ends the input and waits for the exit; its exit code, or -1.
  int Finish() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    int status = child_->Wait(absl::Seconds(60));
    return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  std::string output() const { return ReadFile(out_); }

 private:
  std::string fifo_;
  std::string out_;
  std::unique_ptr<Child> child_;
  int fd_ = -1;
  size_t seen_ = 0;
};

// A TCP proxy from 127.0.0.1 (port 0) to dispatchd that can lose the server's answers:
// while LoseAnswers(true) the requests still reach the server, which carries them out,
// but nothing comes back, so the kiosk sees DEADLINE_EXCEEDED: the "was it recorded?"
// case a retry with the same receipt number must settle.
class LossyProxy {
 public:
  explicit LossyProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 16), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(pipe(wake_), 0);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~LossyProxy() {
    EXPECT_EQ(write(wake_[1], "x", 1), 1);
    accept_thread_.join();
    CutConnections();
    for (std::thread& t : pumps_) t.join();
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

  // Starts or stops losing answers. Stopping also cuts the connections (a lost answer
  // leaves the HTTP/2 stream in an unknown state), so the client connects anew.
  void LoseAnswers(bool lose) {
    lose_ = lose;
    if (!lose) CutConnections();
  }

 private:
  void AcceptLoop() {
    while (true) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      int client = accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      int upstream = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(upstream_port_);
      if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(client);
        close(upstream);
        continue;
      }
      {
        absl::MutexLock lock(&mu_);
        open_.push_back(client);
        open_.push_back(upstream);
      }
      pumps_.emplace_back([this, client, upstream] { Pump(client, upstream); });
    }
  }

  void Pump(int client, int upstream) {
    char buf[16384];
    while (true) {
      pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      bool done = false;
      for (int i = 0; i < 2 && !done; ++i) {
        if (fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof(buf));
        if (n <= 0) {
          done = true;
          break;
        }
        if (i == 1 && lose_) continue;  // the answer is lost
        int to = i == 0 ? upstream : client;
        for (ssize_t sent = 0; sent < n && !done;) {
          ssize_t w = send(to, buf + sent, n - sent, MSG_NOSIGNAL);
          if (w <= 0) done = true;
          sent += w;
        }
      }
      if (done) break;
    }
    absl::MutexLock lock(&mu_);
    open_.erase(std::remove_if(open_.begin(), open_.end(),
                               [&](int fd) { return fd == client || fd == upstream; }),
                open_.end());
    close(client);
    close(upstream);
  }

  void CutConnections() {
    absl::MutexLock lock(&mu_);
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
  }

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> lose_{false};
  std::thread accept_thread_;
  std::vector<std::thread> pumps_;  // only the accept thread adds, before the destructor joins
  absl::Mutex mu_;
  std::vector<int> open_ ABSL_GUARDED_BY(mu_);
};

class KioskE2ETest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signal(SIGPIPE, SIG_IGN);
    dir_ = new TempDir();
    server_ = new Dispatchd(dir_->path() + "/var");
    ASSERT_TRUE(server_->Start()) << server_->log();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    // Enough in the fund for every test's volunteers.
    v1::AdjustPointsRequest top_up;
    top_up.set_request_id("kiosk-e2e-fund");
    top_up.set_delta(1000000);
    top_up.set_reason("kiosk e2e: the charity federation's grant");
    top_up.set_fund_top_up(true);
    v1::AdjustPointsResponse response;
    grpc::Status s = v1::PointsService::NewStub(*channel_)->AdjustPoints(
        Ctx(server_->admin_token()).get(), top_up, &response);
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }
  static void TearDownTestSuite() {
    delete channel_;
    EXPECT_EQ(server_->Stop(), 0);
    delete server_;
    delete dir_;
  }

  static std::unique_ptr<v1::PointsService::Stub> Points() {
    return v1::PointsService::NewStub(*channel_);
  }
  static std::string Admin() { return server_->admin_token(); }
  static int Serial() {
    static std::atomic<int> n{1};
    return n.fetch_add(1);
  }
  static std::string NextPhone() { return absl::StrCat("1391000", 1000 + Serial()); }
  static std::string NewKiosk() { return absl::StrCat("shop-", Serial()); }

  // Registers a volunteer as ADMIN and gives them `points` from the fund; their id.
  static std::string Volunteer(const std::string& name, const std::string& phone, int64_t points) {
    v1::RegisterVolunteerRequest req;
    req.mutable_volunteer()->set_external_id(absl::StrCat("kiosk-e2e-", Serial()));
    req.mutable_volunteer()->set_name(name);
    req.mutable_volunteer()->set_phone(phone);
    req.mutable_volunteer()->set_home_community_id("wx-aiguo");
    v1::RegisterVolunteerResponse resp;
    grpc::Status s =
        v1::VolunteerService::NewStub(*channel_)->RegisterVolunteer(Ctx(Admin()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (points != 0) Adjust(resp.volunteer().id(), points);
    return resp.volunteer().id();
  }

  static void Adjust(const std::string& volunteer, int64_t delta) {
    v1::AdjustPointsRequest req;
    req.set_request_id(absl::StrCat("kiosk-e2e-adjust-", Serial()));
    req.set_volunteer_id(volunteer);
    req.set_delta(delta);
    req.set_reason("kiosk e2e");
    v1::AdjustPointsResponse resp;
    grpc::Status s = Points()->AdjustPoints(Ctx(Admin()).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }

  // Creates an active item.
  static void AddItem(const std::string& kiosk, const std::string& item, const std::string& name,
                      int64_t price, int64_t stock) {
    v1::UpsertCatalogItemRequest req;
    v1::CatalogItem& i = *req.mutable_item();
    i.set_kiosk_id(kiosk);
    i.set_item_id(item);
    i.set_name(name);
    i.set_price_points(price);
    i.set_stock(stock);
    i.set_active(true);
    v1::CatalogItem resp;
    grpc::Status s = Points()->UpsertCatalogItem(Ctx(Admin()).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }

  // Changes one field of an item: "price_points" or "stock".
  static void SetItem(const std::string& kiosk, const std::string& item, const std::string& path,
                      int64_t value) {
    v1::UpsertCatalogItemRequest req;
    req.mutable_item()->set_kiosk_id(kiosk);
    req.mutable_item()->set_item_id(item);
    if (path == "price_points") req.mutable_item()->set_price_points(value);
    if (path == "stock") req.mutable_item()->set_stock(value);
    req.mutable_update_mask()->add_paths(path);
    v1::CatalogItem resp;
    grpc::Status s = Points()->UpsertCatalogItem(Ctx(Admin()).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();
  }

  static int64_t Balance(const std::string& account) {
    v1::GetBalanceRequest req;
    req.set_account(account);
    v1::Balance resp;
    grpc::Status s = Points()->GetBalance(Ctx(Admin()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << account << ": " << s.error_message();
    return resp.balance();
  }
  static int64_t VolunteerBalance(const std::string& id) {
    return Balance(absl::StrCat("volunteer:", id));
  }

  static v1::CatalogItem Item(const std::string& kiosk, const std::string& item) {
    v1::ListCatalogRequest req;
    req.set_kiosk_id(kiosk);
    req.set_include_inactive(true);
    v1::ListCatalogResponse resp;
    grpc::Status s = Points()->ListCatalog(Ctx(Admin()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::CatalogItem& i : resp.items()) {
      if (i.item_id() == item) return i;
    }
    ADD_FAILURE() << "no item " << kiosk << "/" << item;
    return v1::CatalogItem();
  }

  // The ledger entries of `account`, newest first.
  static std::vector<v1::LedgerEntry> Entries(const std::string& account,
                                              v1::LedgerKind kind = v1::LEDGER_KIND_UNSPECIFIED) {
    v1::ListLedgerRequest req;
    req.set_account(account);
    if (kind != v1::LEDGER_KIND_UNSPECIFIED) req.add_kinds(kind);
    req.set_page_size(500);
    v1::ListLedgerResponse resp;
    grpc::Status s = Points()->ListLedger(Ctx(Admin()).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.entries().begin(), resp.entries().end()};
  }

  static std::string KioskToken(const std::string& kiosk) {
    std::string t = MakeToken(*channel_, Admin(), v1::ROLE_KIOSK, "wuxing", kiosk);
    EXPECT_FALSE(t.empty());
    return t;
  }

  // The kiosk's flags for `token` (and, when given, the kiosk it runs as).
  static std::vector<std::string> Flags(const std::string& token, const std::string& kiosk = "",
                                        const std::string& server = "") {
    std::vector<std::string> f = {
        absl::StrCat("--server=", server.empty() ? server_->address() : server),
        absl::StrCat("--token=", token)};
    if (!kiosk.empty()) f.push_back(absl::StrCat("--kiosk-id=", kiosk));
    return f;
  }

  struct Result {
    int exit_code;
    std::string output;
  };
  // Runs the kiosk with `lines` as its whole input.
  static Result Run(const std::vector<std::string>& args, const std::vector<std::string>& lines) {
    KioskProcess kiosk(dir_->path(), args);
    for (const std::string& line : lines) kiosk.Send(line);
    int code = kiosk.Finish();
    return {code, kiosk.output()};
  }

  // The receipt number printed on the last receipt in `output`.
  static std::string ReceiptNumber(const std::string& output) {
    static const std::regex kReceipt("receipt no\\.:\\s+([A-Za-z0-9_-]+)");
    std::string last;
    for (auto it = std::sregex_iterator(output.begin(), output.end(), kReceipt);
         it != std::sregex_iterator(); ++it) {
      last = (*it)[1];
    }
    return last;
  }

  static std::string Masked(const std::string& phone) {
    return absl::StrCat(phone.substr(0, 3), "****", phone.substr(7));
  }

  static TempDir* dir_;
  static Dispatchd* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

TempDir* KioskE2ETest::dir_ = nullptr;
Dispatchd* KioskE2ETest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* KioskE2ETest::channel_ = nullptr;

TEST_F(KioskE2ETest, QrLookupAndConfirmedRedemptionPrintsReceiptAndCharges) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "rice-5kg", "大米 5 kg", 30, 5);
  AddItem(kiosk, "oil-1l", "菜籽油 1 L", 45, 2);
  const std::string phone = NextPhone();
  const std::string v = Volunteer("张三", phone, 100);

  Result r = Run(Flags(KioskToken(kiosk)),
                 {absl::StrCat("yiyuan:volunteer:wuxing:", v), "redeem rice-5kg 2", "y", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // The kiosk found out which kiosk it is from its token.
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("Yiyuan kiosk ", kiosk, " (wuxing)")));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("volunteer: 张三 (", v, ")")));
  EXPECT_THAT(r.output, HasSubstr(Masked(phone)));
  EXPECT_THAT(r.output, Not(HasSubstr(phone)));
  EXPECT_THAT(r.output, HasSubstr("balance:   100 points"));
  EXPECT_THAT(r.output, HasSubstr("大米 5 kg"));
  EXPECT_THAT(r.output, HasSubstr("菜籽油 1 L"));
  EXPECT_THAT(r.output, HasSubstr("= 60 points for 张三"));
  EXPECT_THAT(r.output, HasSubstr("Balance 100 -> 40 points after."));
  EXPECT_THAT(r.output, HasSubstr("REDEMPTION RECEIPT"));
  EXPECT_THAT(r.output, HasSubstr("total:         60 points"));
  EXPECT_THAT(r.output, HasSubstr("balance after: 40 points"));
  EXPECT_THAT(r.output, Not(HasSubstr("ALREADY RECORDED")));

  // The server: charged once, the kiosk credited, the stock down, one REDEEM entry whose
  // idempotency key is the receipt number printed.
  EXPECT_EQ(VolunteerBalance(v), 40);
  EXPECT_EQ(Balance(absl::StrCat("kiosk:", kiosk)), 60);
  EXPECT_EQ(Item(kiosk, "rice-5kg").stock(), 3);
  EXPECT_EQ(Item(kiosk, "oil-1l").stock(), 2);
  std::vector<v1::LedgerEntry> entries = Entries(absl::StrCat("kiosk:", kiosk));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].kind(), v1::LEDGER_REDEEM);
  EXPECT_EQ(entries[0].from_account(), absl::StrCat("volunteer:", v));
  EXPECT_EQ(entries[0].amount(), 60);
  EXPECT_EQ(entries[0].quantity(), 2);
  EXPECT_EQ(entries[0].unit_price_points(), 30);
  EXPECT_EQ(entries[0].item_id(), "rice-5kg");
  EXPECT_EQ(entries[0].idempotency_key(), ReceiptNumber(r.output));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("entry:         ", entries[0].entry_id())));
}

TEST_F(KioskE2ETest, PhoneLookupWithSeveralMatchesLetsTheAttendantChoose) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "soap", "Soap", 5, 10);
  const std::string phone = NextPhone();
  const std::string mother = Volunteer("Wang Fang", phone, 50);
  const std::string son = Volunteer("Wang Lei", phone, 50);

  // The phone as people type it; the second of the two; item by its row; quantity by
  // the prompt's default.
  Result r = Run(Flags(KioskToken(kiosk)),
                 {absl::StrCat(phone.substr(0, 3), " ", phone.substr(3, 4), "-", phone.substr(7)),
                  "2", "redeem 1", "", "y", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("2 volunteers have phone ", Masked(phone))));
  EXPECT_THAT(r.output, HasSubstr("Which one (#, empty to cancel)? 2"));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("volunteer: Wang Lei (", son, ")")));
  EXPECT_THAT(r.output, HasSubstr("Quantity [1]? "));
  EXPECT_THAT(r.output, HasSubstr("REDEMPTION RECEIPT"));
  EXPECT_EQ(VolunteerBalance(son), 45);
  EXPECT_EQ(VolunteerBalance(mother), 50);
  EXPECT_EQ(Item(kiosk, "soap").stock(), 9);
}

TEST_F(KioskE2ETest, AnsweringNoRedeemsNothing) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "rice-5kg", "大米 5 kg", 30, 5);
  const std::string v = Volunteer("张三", NextPhone(), 100);

  Result r = Run(Flags(KioskToken(kiosk)), {v, "redeem rice-5kg 1", "n", "redeem 1 1", "", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Confirm? [y/N] n\nCancelled; nothing was redeemed."));
  // An empty answer is no as well.
  EXPECT_THAT(r.output, HasSubstr("Confirm? [y/N] \nCancelled; nothing was redeemed."));
  EXPECT_THAT(r.output, Not(HasSubstr("RECEIPT")));
  EXPECT_EQ(VolunteerBalance(v), 100);
  EXPECT_EQ(Item(kiosk, "rice-5kg").stock(), 5);
  EXPECT_TRUE(Entries(absl::StrCat("kiosk:", kiosk)).empty());
}

TEST_F(KioskE2ETest, InsufficientPointsShowsBalanceAgainstNeeded) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "oil-1l", "菜籽油 1 L", 45, 5);
  const std::string v = Volunteer("李四", NextPhone(), 80);

  // Known before asking: no confirmation is offered.
  Result r = Run(Flags(KioskToken(kiosk)), {v, "redeem oil-1l 2", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(
      r.output,
      HasSubstr("Not enough points: 李四 has 80 points, needs 90 points (2 x 菜籽油 1 L at 45)."));
  EXPECT_THAT(r.output, Not(HasSubstr("Confirm?")));
  EXPECT_EQ(VolunteerBalance(v), 80);
  EXPECT_EQ(Item(kiosk, "oil-1l").stock(), 5);
  EXPECT_TRUE(Entries(absl::StrCat("kiosk:", kiosk)).empty());
}

TEST_F(KioskE2ETest, InsufficientPointsFoundByTheServerAfterConfirmation) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "oil-1l", "菜籽油 1 L", 45, 5);
  const std::string v = Volunteer("李四", NextPhone(), 80);

  KioskProcess k(dir_->path(), Flags(KioskToken(kiosk)));
  k.Send(v);
  k.Send("redeem oil-1l 1");
  ASSERT_TRUE(k.WaitFor("Confirm? [y/N] ")) << k.output();
  Adjust(v, -50);  // spent elsewhere while the attendant asked
  k.Send("y");
  ASSERT_TRUE(k.WaitFor("Nothing was redeemed.")) << k.output();
  EXPECT_EQ(k.Finish(), 0);
  std::string out = k.output();
  EXPECT_THAT(
      out,
      HasSubstr("Not enough points: 李四 has 30 points, needs 45 points (1 x 菜籽油 1 L at 45)."));
  EXPECT_THAT(out, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(out, Not(HasSubstr("RECEIPT")));
  EXPECT_EQ(VolunteerBalance(v), 30);
  EXPECT_EQ(Item(kiosk, "oil-1l").stock(), 5);
  EXPECT_TRUE(Entries(absl::StrCat("kiosk:", kiosk)).empty());
}

TEST_F(KioskE2ETest, OutOfStock) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "eggs", "鸡蛋 10 个", 20, 0);
  AddItem(kiosk, "rice-5kg", "大米 5 kg", 30, 1);
  const std::string v = Volunteer("张三", NextPhone(), 100);

  KioskProcess k(dir_->path(), Flags(KioskToken(kiosk)));
  k.Send(v);
  k.Send("redeem eggs 1");  // known to be out before asking
  k.Send("redeem rice-5kg 1");
  ASSERT_TRUE(k.WaitFor("Confirm? [y/N] ")) << k.output();
  SetItem(kiosk, "rice-5kg", "stock", 0);  // the last bag went over another counter
  k.Send("y");
  ASSERT_TRUE(k.WaitFor("FAILED_PRECONDITION")) << k.output();
  EXPECT_EQ(k.Finish(), 0);
  std::string out = k.output();
  EXPECT_THAT(out, HasSubstr("Out of stock: no 鸡蛋 10 个 left."));
  EXPECT_THAT(out, HasSubstr("Out of stock: no 大米 5 kg left."));
  EXPECT_THAT(out, Not(HasSubstr("RECEIPT")));
  EXPECT_EQ(VolunteerBalance(v), 100);
  EXPECT_EQ(Item(kiosk, "rice-5kg").stock(), 0);
  EXPECT_TRUE(Entries(absl::StrCat("kiosk:", kiosk)).empty());
}

TEST_F(KioskE2ETest, ChangedPriceIsShownAndRedeemedOnlyWhenAccepted) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "rice-5kg", "大米 5 kg", 30, 5);
  const std::string v = Volunteer("张三", NextPhone(), 100);

  KioskProcess k(dir_->path(), Flags(KioskToken(kiosk)));
  k.Send(v);
  k.Send("redeem rice-5kg 2");
  ASSERT_TRUE(k.WaitFor("Confirm? [y/N] ")) << k.output();
  SetItem(kiosk, "rice-5kg", "price_points", 40);
  k.Send("y");
  ASSERT_TRUE(k.WaitFor("at the new price, 80 points in all, balance after 20 points? [y/N] "))
      << k.output();
  // Nobody paid a price they did not see.
  EXPECT_EQ(VolunteerBalance(v), 100);
  k.Send("y");
  ASSERT_TRUE(k.WaitFor("REDEMPTION RECEIPT")) << k.output();
  EXPECT_EQ(k.Finish(), 0);
  std::string out = k.output();
  EXPECT_THAT(out,
              HasSubstr("Price changed: 大米 5 kg now costs 40 points (30 points when shown)."));
  EXPECT_THAT(out, HasSubstr("total:         80 points"));
  EXPECT_EQ(VolunteerBalance(v), 20);
  EXPECT_EQ(Item(kiosk, "rice-5kg").stock(), 3);
  std::vector<v1::LedgerEntry> entries = Entries(absl::StrCat("kiosk:", kiosk));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].unit_price_points(), 40);
  EXPECT_EQ(entries[0].idempotency_key(), ReceiptNumber(out));
}

TEST_F(KioskE2ETest, AnotherKiosksTokenIsRefused) {
  const std::string mine = NewKiosk();
  const std::string theirs = NewKiosk();
  AddItem(mine, "soap", "Soap", 5, 10);
  AddItem(theirs, "soap", "Soap", 5, 10);
  const std::string v = Volunteer("张三", NextPhone(), 100);

  Result r = Run(Flags(KioskToken(mine), theirs), {v, "redeem soap 1", "y", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(r.output, Not(HasSubstr("RECEIPT")));
  EXPECT_EQ(VolunteerBalance(v), 100);
  EXPECT_EQ(Item(theirs, "soap").stock(), 10);
  EXPECT_EQ(Item(mine, "soap").stock(), 10);
  EXPECT_TRUE(Entries(absl::StrCat("kiosk:", theirs)).empty());
  EXPECT_TRUE(Entries(absl::StrCat("kiosk:", mine)).empty());
}

TEST_F(KioskE2ETest, UnknownVolunteersAndForeignCardsAreNamed) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "soap", "Soap", 5, 10);
  Result r = Run(Flags(KioskToken(kiosk)), {"wuxing-v999999", "yiyuan:volunteer:nanxun:nanxun-v1",
                                            "13900000000", "redeem soap", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("No volunteer wuxing-v999999."));
  EXPECT_THAT(r.output, HasSubstr("This card is from district nanxun; this kiosk serves wuxing."));
  EXPECT_THAT(r.output, HasSubstr("No volunteer with phone 139****0000."));
  EXPECT_THAT(r.output, HasSubstr("No volunteer yet"));
  EXPECT_EQ(Item(kiosk, "soap").stock(), 10);
}

TEST_F(KioskE2ETest, ResendingAReceiptNumberNeverChargesTwice) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "soap", "Soap", 5, 10);
  const std::string v = Volunteer("张三", NextPhone(), 100);
  std::vector<std::string> args = Flags(KioskToken(kiosk));
  args.insert(args.end(), {"redeem", absl::StrCat("--volunteer=", v), "--item=soap", "--quantity=3",
                           "--yes", "--request-id=REPLAY-TEST-0001"});

  Result first = Run(args, {});
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("REDEMPTION RECEIPT"));
  EXPECT_THAT(first.output, Not(HasSubstr("ALREADY RECORDED")));
  Result again = Run(args, {});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_THAT(again.output, HasSubstr("ALREADY RECORDED"));
  EXPECT_EQ(ReceiptNumber(again.output), "REPLAY-TEST-0001");
  EXPECT_EQ(VolunteerBalance(v), 85);
  EXPECT_EQ(Item(kiosk, "soap").stock(), 7);
  EXPECT_EQ(Entries(absl::StrCat("kiosk:", kiosk)).size(), 1u);
}

TEST_F(KioskE2ETest, LostAnswerIsRetriedWithTheSameReceiptNumber) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "rice-5kg", "大米 5 kg", 30, 5);
  const std::string v = Volunteer("张三", NextPhone(), 100);
  int port = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(server_->address().substr(server_->address().rfind(':') + 1), &port));
  LossyProxy proxy(port);
  std::vector<std::string> args = Flags(KioskToken(kiosk), "", proxy.address());
  args.push_back("--timeout-ms=1500");

  KioskProcess k(dir_->path(), args);
  k.Send(v);
  k.Send("redeem rice-5kg 1");
  ASSERT_TRUE(k.WaitFor("Confirm? [y/N] ")) << k.output();
  proxy.LoseAnswers(true);
  k.Send("y");
  ASSERT_TRUE(k.WaitFor("Retry now with the same receipt number? [y/N] ")) << k.output();
  // The server did it; the kiosk does not know.
  EXPECT_EQ(VolunteerBalance(v), 70);
  k.Send("n");
  ASSERT_TRUE(k.WaitFor("Type \"retry\"")) << k.output();
  proxy.LoseAnswers(false);
  k.Send("retry");
  // Reconnecting may take another try.
  for (int i = 0; i < 5 && !k.WaitFor("REDEMPTION RECEIPT", absl::Seconds(5)); ++i) {
    ASSERT_TRUE(k.WaitFor("Retry now with the same receipt number? [y/N] ")) << k.output();
    k.Send("y");
  }
  EXPECT_EQ(k.Finish(), 0);
  std::string out = k.output();
  EXPECT_THAT(out, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(out, HasSubstr("may or may not have been recorded"));
  EXPECT_THAT(out, HasSubstr("ALREADY RECORDED"));
  // Charged once, under the receipt number first sent.
  EXPECT_EQ(VolunteerBalance(v), 70);
  EXPECT_EQ(Item(kiosk, "rice-5kg").stock(), 4);
  std::vector<v1::LedgerEntry> entries = Entries(absl::StrCat("kiosk:", kiosk));
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].idempotency_key(), ReceiptNumber(out));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("same receipt number ", entries[0].idempotency_key())));
}

TEST_F(KioskE2ETest, ReversalAndTheKiosksLedger) {
  const std::string kiosk = NewKiosk();
  AddItem(kiosk, "rice-5kg", "大米 5 kg", 30, 5);
  const std::string v = Volunteer("张三", NextPhone(), 100);
  const std::string token = KioskToken(kiosk);
  Result bought = Run(Flags(token), {v, "redeem rice-5kg 1", "y", "quit"});
  std::vector<v1::LedgerEntry> entries = Entries(absl::StrCat("kiosk:", kiosk));
  ASSERT_EQ(entries.size(), 1u) << bought.output;
  const std::string entry = entries[0].entry_id();
  ASSERT_EQ(VolunteerBalance(v), 70);

  Result r = Run(Flags(token), {"ledger", absl::StrCat("reverse ", entry), "wrong item", "y",
                                "ledger 5", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("Ledger of kiosk ", kiosk)));
  EXPECT_THAT(r.output, HasSubstr("rice-5kg x1 @30"));
  EXPECT_THAT(r.output, HasSubstr("REVERSAL RECEIPT"));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("reverses:      ", entry)));
  EXPECT_THAT(r.output, HasSubstr("balance after: 100 points"));
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("reversed by ")));
  EXPECT_EQ(VolunteerBalance(v), 100);
  EXPECT_EQ(Balance(absl::StrCat("kiosk:", kiosk)), 0);
  EXPECT_EQ(Item(kiosk, "rice-5kg").stock(), 5);
  entries = Entries(absl::StrCat("kiosk:", kiosk));
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].kind(), v1::LEDGER_REVERSAL);
  EXPECT_EQ(entries[0].reverses_entry_id(), entry);
  EXPECT_EQ(entries[0].reason(), "wrong item");
  EXPECT_EQ(entries[1].reversed_by_entry_id(), entries[0].entry_id());

  // Twice is refused, and changes nothing.
  r = Run(Flags(token), {absl::StrCat("reverse ", entry), "again", "n", "quit"});
  EXPECT_THAT(r.output, HasSubstr(absl::StrCat("Cannot reverse ", entry)));
  EXPECT_THAT(r.output, HasSubstr("Nothing was reversed."));
  EXPECT_EQ(VolunteerBalance(v), 100);
  EXPECT_EQ(Entries(absl::StrCat("kiosk:", kiosk)).size(), 2u);
}

TEST_F(KioskE2ETest, UnreachableServerIsSaidPlainly) {
  // Nothing listens on port 1.
  Result r =
      Run({"--server=127.0.0.1:1", "--token=whatever", "--kiosk-id=shop-x", "--timeout-ms=500"},
          {"wuxing-v1", "quit"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("Cannot look up wuxing-v1: no answer from the server."));
  // Without --kiosk-id it cannot know which kiosk it is.
  r = Run({"--server=127.0.0.1:1", "--token=whatever", "--timeout-ms=500"}, {});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("kiosk: cannot start: UNAVAILABLE"));
}

}  // namespace
}  // namespace yiyuan::testing
