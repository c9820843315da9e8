#include "server/stream_hub.h"

#include <cstdint>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "server/dispatch_convert.h"
#include "server/keys.h"

namespace yiyuan {
namespace {

bool ParseStreamId(absl::string_view id, uint64_t* ms, uint64_t* seq) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(id, '-');
  return absl::SimpleAtoi(parts.first, ms) && absl::SimpleAtoi(parts.second, seq) &&
         !parts.first.empty() && !parts.second.empty();
}

// A server stream following one Redis stream from a cursor. Reads run on the hub's
// threads; writes go out one at a time; the object deletes itself once gRPC is done
// with it and no read is in flight.
template <typename Msg>
class Follower final : public grpc::ServerWriteReactor<Msg>, public StreamFollower {
 public:
  // Turns one stream entry into a message; false to skip it.
  using Convert = std::function<bool(const std::string& id, const HashFields& f, Msg* out)>;

  Follower(StreamHub* hub, std::string key, std::string cursor, Convert convert,
           std::deque<Msg> initial)
      : hub_(hub),
        key_(std::move(key)),
        cursor_(std::move(cursor)),
        convert_(std::move(convert)),
        queue_(std::move(initial)) {
    hub_->Subscribe(key_, this);
    // Tells the client at once that it is subscribed, before any message.
    this->StartSendInitialMetadata();
    absl::MutexLock lock(&mu_);
    dirty_ = true;
    ScheduleReadLocked();
    WriteNextLocked();
  }

  void Wake() override {
    absl::MutexLock lock(&mu_);
    dirty_ = true;
    ScheduleReadLocked();
  }

  void End(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    FinishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    if (pending_finish_.has_value()) {
      FinishLocked(*pending_finish_);
      return;
    }
    WriteNextLocked();
    ScheduleReadLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    hub_->Unsubscribe(key_, this);
    bool last;
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      last = reads_ == 0;
    }
    if (last) delete this;
  }

 private:
  void ScheduleReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || reading_ || !dirty_) return;
    if (static_cast<int>(queue_.size()) >= hub_->options().max_queue) return;
    reading_ = true;
    ++reads_;
    hub_->Post([this] { Read(); });
  }

  void Read() {
    while (true) {
      std::string cursor;
      {
        absl::MutexLock lock(&mu_);
        dirty_ = false;
        cursor = cursor_;
        if (finished_) break;
      }
      absl::StatusOr<StreamPage> page = hub_->store()->ReadStream(
          key_, cursor, hub_->options().read_count, absl::Now() + absl::Seconds(2));
      absl::MutexLock lock(&mu_);
      if (!page.ok()) {
        FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                  "the store is unreachable; reconnect with the last cursor"));
        break;
      }
      for (auto& [id, fields] : page->entries) {
        cursor_ = id;
        Msg m;
        if (convert_(id, fields, &m)) queue_.push_back(std::move(m));
      }
      if (static_cast<int>(page->entries.size()) >= hub_->options().read_count) dirty_ = true;
      WriteNextLocked();
      if (!dirty_ || finished_ || static_cast<int>(queue_.size()) >= hub_->options().max_queue) {
        break;
      }
    }
    bool last;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      --reads_;
      // A wake that came while the queue was full or a read was running.
      ScheduleReadLocked();
      last = done_ && reads_ == 0;
    }
    if (last) delete this;
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || queue_.empty()) return;
    writing_ = true;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    this->StartWrite(&current_);
  }

  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return;
    if (writing_) {
      // Finish once the write in flight completes.
      if (!pending_finish_.has_value()) pending_finish_ = status;
      return;
    }
    finished_ = true;
    this->Finish(status);
  }

  StreamHub* const hub_;
  const std::string key_;
  absl::Mutex mu_;
  std::string cursor_ ABSL_GUARDED_BY(mu_);
  const Convert convert_;
  std::deque<Msg> queue_ ABSL_GUARDED_BY(mu_);
  Msg current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

grpc::Status Unavailable(const absl::Status& s) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string(s.message()));
}

}  // namespace

bool IsStreamId(absl::string_view id) {
  uint64_t ms = 0, seq = 0;
  return ParseStreamId(id, &ms, &seq);
}

bool StreamIdBefore(absl::string_view a, absl::string_view b) {
  uint64_t am = 0, as = 0, bm = 0, bs = 0;
  bool a_ok = ParseStreamId(a, &am, &as);
  bool b_ok = ParseStreamId(b, &bm, &bs);
  if (!a_ok || !b_ok) return !a_ok && b_ok;
  return std::tie(am, as) < std::tie(bm, bs);
}

StreamHub::StreamHub(DispatchStore* store, StreamHubOptions options)
    : store_(store), options_(options) {
  for (int i = 0; i < std::max(1, options_.threads); ++i) threads_.emplace_back([this] { Work(); });
}

StreamHub::~StreamHub() {
  Shutdown();
  {
    absl::MutexLock lock(&task_mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void StreamHub::Work() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&task_mu_);
      task_mu_.Await(absl::Condition(
          +[](StreamHub* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->task_mu_) {
            return h->stopping_ || !h->tasks_.empty();
          },
          this));
      if (tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

void StreamHub::Post(std::function<void()> task) {
  absl::MutexLock lock(&task_mu_);
  tasks_.push_back(std::move(task));
}

void StreamHub::Subscribe(const std::string& key, StreamFollower* f) {
  absl::MutexLock lock(&mu_);
  followers_[key].insert(f);
  ++open_;
}

void StreamHub::Unsubscribe(const std::string& key, StreamFollower* f) {
  absl::MutexLock lock(&mu_);
  auto it = followers_.find(key);
  if (it == followers_.end() || it->second.erase(f) == 0) return;
  if (it->second.empty()) followers_.erase(it);
  --open_;
}

int StreamHub::open_streams() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

void StreamHub::OnEvent(const std::string& district, const std::string& id, const HashFields& f) {
  if (id.empty()) {
    std::string prefix = keys::District(district);
    absl::MutexLock lock(&mu_);
    for (auto& [key, set] : followers_) {
      if (!absl::StartsWith(key, prefix)) continue;
      for (StreamFollower* follower : set) follower->Wake();
    }
    return;
  }
  std::string inbox;
  if (absl::StartsWith(f.str("type"), "offer.")) {
    inbox = keys::Inbox(district, f.has("unit") ? absl::StrCat("u:", f.str("unit"))
                                                : absl::StrCat("v:", f.str("volunteer")));
  }
  std::string events = keys::Events(district);
  absl::MutexLock lock(&mu_);
  for (const std::string* key : {&events, &inbox}) {
    if (key->empty()) continue;
    auto it = followers_.find(*key);
    if (it == followers_.end()) continue;
    for (StreamFollower* follower : it->second) follower->Wake();
  }
}

void StreamHub::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (auto& [key, set] : followers_) {
    for (StreamFollower* f : set) {
      f->End(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the server is shutting down; reconnect with the last cursor"));
    }
  }
}

grpc::ServerWriteReactor<v1::Offer>* StreamHub::WatchOffers(absl::string_view district,
                                                            const AssigneeRef& who,
                                                            const std::string& cursor,
                                                            absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return new RefusedStream<v1::Offer>(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    }
  }
  std::string key = keys::Inbox(district, who.Key());
  absl::StatusOr<StreamPage> head = store_->ReadStream(key, "", 1, deadline);
  if (!head.ok()) return new RefusedStream<v1::Offer>(Unavailable(head.status()));
  std::deque<v1::Offer> initial;
  std::string start = cursor;
  // No cursor, or one older than what is retained: start with the pending offers.
  if (cursor.empty() || (!head->oldest_id.empty() && StreamIdBefore(cursor, head->oldest_id) &&
                         !StreamIdBefore(cursor, "1-0"))) {
    absl::StatusOr<std::vector<OfferRecord>> pending =
        store_->PendingOffers(district, who, deadline);
    if (!pending.ok()) return new RefusedStream<v1::Offer>(Unavailable(pending.status()));
    start = head->last_id.empty() ? "0-0" : head->last_id;
    for (const OfferRecord& o : *pending) {
      v1::Offer m;
      ToProto(o, &m);
      m.set_cursor(start);
      m.set_snapshot(true);
      initial.push_back(std::move(m));
    }
  }
  std::string d(district);
  return new Follower<v1::Offer>(
      this, key, start,
      [d](const std::string& id, const HashFields& f, v1::Offer* out) {
        OfferFromInbox(d, id, f, out);
        return true;
      },
      std::move(initial));
}

grpc::ServerWriteReactor<v1::Event>* StreamHub::WatchEvents(absl::string_view district,
                                                            const std::string& after_id,
                                                            absl::flat_hash_set<int> types,
                                                            const std::string& request_id,
                                                            absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return new RefusedStream<v1::Event>(
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
    }
  }
  std::string key = keys::Events(district);
  absl::StatusOr<StreamPage> head = store_->ReadStream(key, "", 1, deadline);
  if (!head.ok()) return new RefusedStream<v1::Event>(Unavailable(head.status()));
  std::deque<v1::Event> initial;
  std::string start;
  if (after_id.empty()) {
    start = head->last_id.empty() ? "0-0" : head->last_id;
  } else if (after_id == "0") {
    start = "0-0";
  } else {
    start = after_id;
    if (!head->oldest_id.empty() && StreamIdBefore(after_id, head->oldest_id)) {
      v1::Event gap;
      gap.set_event_id(after_id);
      gap.set_district(std::string(district));
      gap.set_type(v1::EVENT_STREAM_GAP);
      (*gap.mutable_attributes())["oldest_event_id"] = head->oldest_id;
      initial.push_back(std::move(gap));
    }
  }
  std::string d(district);
  return new Follower<v1::Event>(
      this, key, start,
      [d, types = std::move(types), request_id](const std::string& id, const HashFields& f,
                                                v1::Event* out) {
        if (!EventFromStream(d, id, f, out)) return false;
        if (!types.empty() && !types.contains(out->type())) return false;
        if (!request_id.empty() && out->request_id() != request_id) return false;
        return true;
      },
      std::move(initial));
}

}  // namespace yiyuan
