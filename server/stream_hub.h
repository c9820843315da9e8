#ifndef YIYUAN_SERVER_STREAM_HUB_H_
#define YIYUAN_SERVER_STREAM_HUB_H_

#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "engine/offer.h"
#include "server/dispatch_store.h"
#include "server/redis_fields.h"
#include "yiyuan/v1/dispatch.pb.h"
#include "yiyuan/v1/volunteer.pb.h"

namespace yiyuan {

class StreamHub;

// Something a hub can wake: a server stream that follows one Redis stream.
class StreamFollower {
 public:
  virtual ~StreamFollower() = default;
  // The Redis stream may have new entries.
  virtual void Wake() = 0;
  // Ends the call with `status` (server shutdown).
  virtual void End(const grpc::Status& status) = 0;
};

struct StreamHubOptions {
  // Threads that read streams from Redis for the followers.
  int threads = 2;
  // Messages one follower buffers before it stops reading ahead (a slow client then
  // resumes from Redis, where nothing is lost).
  int max_queue = 256;
  // Entries read per XRANGE.
  int read_count = 100;
};

// Serves WatchOffers and WatchEvents. Each call follows one Redis stream (an assignee's
// inbox or a district's event stream) from a cursor: it reads what is there, then
// waits to be woken — by OnEvent, which the roster's following thread calls with
// every event it reads — and reads again. Redis holds everything, so a reconnect with
// the last cursor continues exactly after it, and a slow client never loses messages:
// its queue is bounded and it simply reads later.
//
// Thread-safe.
class StreamHub {
 public:
  StreamHub(DispatchStore* store, StreamHubOptions options = {});
  ~StreamHub();

  // Wakes the followers of the streams an event touches; an empty `id` wakes every
  // follower of the district (it was just loaded: earlier events were not seen).
  void OnEvent(const std::string& district, const std::string& id, const HashFields& f);
  // Ends every stream with UNAVAILABLE and refuses new ones.
  void Shutdown();

  // A stream of `who`'s offers after `cursor` ("" = from now, with a snapshot of the
  // pending offers first). The returned reactor is owned by gRPC.
  grpc::ServerWriteReactor<v1::Offer>* WatchOffers(absl::string_view district,
                                                   const AssigneeRef& who,
                                                   const std::string& cursor,
                                                   absl::Time deadline);
  // A stream of `district`'s events after `after_id` ("" = from now, "0" = from the
  // oldest retained), of `types` (empty = all) and `request_id` (empty = all).
  grpc::ServerWriteReactor<v1::Event>* WatchEvents(absl::string_view district,
                                                   const std::string& after_id,
                                                   absl::flat_hash_set<int> types,
                                                   const std::string& request_id,
                                                   absl::Time deadline);

  // Streams open now.
  int open_streams() const;

  // Internal: used by the followers.
  void Post(std::function<void()> task);
  void Subscribe(const std::string& key, StreamFollower* f);
  void Unsubscribe(const std::string& key, StreamFollower* f);
  DispatchStore* store() const { return store_; }
  const StreamHubOptions& options() const { return options_; }

 private:
  void Work();

  DispatchStore* const store_;
  const StreamHubOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<StreamFollower*>> followers_
      ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  int open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex task_mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(task_mu_);
  bool stopping_ ABSL_GUARDED_BY(task_mu_) = false;
  std::vector<std::thread> threads_;
};

// A server stream that ends at once with `status` (a refused call). Owned by gRPC.
template <typename Msg>
class RefusedStream final : public grpc::ServerWriteReactor<Msg> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

// True when stream id `a` is before `b` ("<ms>-<seq>"); malformed ids sort first.
bool StreamIdBefore(absl::string_view a, absl::string_view b);
// True when `id` is a well-formed stream id.
bool IsStreamId(absl::string_view id);

}  // namespace yiyuan

#endif  // YIYUAN_SERVER_STREAM_HUB_H_
