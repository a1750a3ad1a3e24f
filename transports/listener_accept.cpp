#include "transports/listener_accept.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <thread>

#include "transports/fd_channel.h"

namespace zsend {
namespace {

struct Attempt {
  std::unique_ptr<Channel> channel;
  std::optional<Result<Session>> result;  // guarded by the caller's mutex
  std::thread thread;
};

}  // namespace

Status AcceptAuthorizedPeers(TcpListener& listener,
                             const std::function<Result<Session>(Channel&)>& handshake,
                             const std::function<bool()>& stop,
                             const std::function<void(const std::string&)>& say, int count,
                             const std::function<void(AcceptedPeer)>& on_peer) {
  std::mutex mu;
  std::condition_variable finished;
  // A finished handshake wakes the accept wait at once: the accepted peer's transfer must not
  // wait out the polling slice (it did, up to 200 ms per transfer).
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return ErrnoStatus("eventfd failed", errno);
  std::list<Attempt> attempts;  // a list: the threads hold pointers to their element
  auto end_all = [&] {
    for (Attempt& a : attempts) a.channel->Stop();
    for (Attempt& a : attempts) a.thread.join();
    attempts.clear();
  };
  if (count < 1) return Status::Ok();
  for (;;) {
    for (auto it = attempts.begin(); it != attempts.end();) {
      std::optional<Result<Session>> result;
      {
        std::lock_guard lock(mu);
        if (!it->result.has_value()) {
          ++it;
          continue;
        }
        result = std::move(it->result);
      }
      it->thread.join();
      if (result->ok()) {
        AcceptedPeer peer{std::move(it->channel), **result};
        it = attempts.erase(it);
        on_peer(std::move(peer));
        // Handshakes still running belong to later peers until `count` were accepted.
        if (--count == 0) {
          end_all();
          return Status::Ok();
        }
        continue;
      }
      say(result->status().message() + " (still listening for an authorized peer)");
      it = attempts.erase(it);
    }
    if (stop()) {
      end_all();
      return Cancelled("stopped by a signal while waiting for a connection");
    }
    if (attempts.size() >= kMaxHandshakes) {
      // Every slot busy: wait for one to finish (a predicate, so a notification that came
      // before the wait is not missed), or the slice, for `stop`.
      std::unique_lock lock(mu);
      finished.wait_for(lock, std::chrono::milliseconds(200), [&] {
        return std::any_of(attempts.begin(), attempts.end(),
                           [](const Attempt& a) { return a.result.has_value(); });
      });
      continue;
    }
    Result<UniqueFd> fd = listener.Accept("", wake.get());
    if (!fd.ok() && fd.status().code() == StatusCode::kDeadlineExceeded) {
      uint64_t woken = 0;
      [[maybe_unused]] ssize_t n = read(wake.get(), &woken, sizeof woken);  // drain
      continue;
    }
    if (!fd.ok()) {
      end_all();
      return fd.status();
    }
    Attempt& attempt = attempts.emplace_back();
    attempt.channel = std::make_unique<FdChannel>(std::move(*fd), "tcp peer");
    attempt.thread = std::thread([&mu, &finished, &handshake, a = &attempt, w = wake.get()] {
      Result<Session> result = handshake(*a->channel);
      {
        std::lock_guard lock(mu);
        a->result = std::move(result);
      }
      finished.notify_all();
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(w, &one, sizeof one);
    });
  }
}

Result<AcceptedPeer> AcceptAuthorized(TcpListener& listener,
                                      const std::function<Result<Session>(Channel&)>& handshake,
                                      const std::function<bool()>& stop,
                                      const std::function<void(const std::string&)>& say) {
  std::optional<AcceptedPeer> accepted;
  Status status = AcceptAuthorizedPeers(listener, handshake, stop, say, 1,
                                        [&](AcceptedPeer peer) { accepted = std::move(peer); });
  if (!status.ok()) return status;
  return std::move(*accepted);
}

}  // namespace zsend
