// FaultProxy: see fault_proxy.h.
//
// Each connection is served by one thread with non-blocking sockets and a poll() loop over both
// directions, so a peer that stops reading never blocks the other direction. A direction holds
// at most one buffer of bytes read but not yet written; reads are clipped at the next fault
// boundary (stall or cut offset), so "after N bytes" is exact: the fault acts when exactly N
// bytes of that direction have been written to the far peer and nothing beyond N was read.
#include "tests/support/peers/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zsend::test {
namespace {

constexpr size_t kBufferSize = 64 * 1024;

void CloseSocket(int fd, bool reset) {
  if (fd < 0) return;
  if (reset) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  } else {
    // FIN first, then drop what the peer already sent so close() does not turn into a RST.
    shutdown(fd, SHUT_WR);
    char sink[4096];
    while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }
  close(fd);
}

int ConnectTo(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  return fd;
}

// One direction of one connection.
struct Flow {
  int src = -1, dst = -1;
  std::vector<char> buffer = std::vector<char>(kBufferSize);
  size_t begin = 0, end = 0;  // pending bytes are buffer[begin, end)
  uint64_t read_total = 0, written_total = 0;
  bool eof = false, shut = false;
  size_t pending() const { return end - begin; }
};

}  // namespace

struct FaultProxy::Connection {
  int client = -1;
  int wake = -1;
  std::thread thread;
};

FaultProxy::FaultProxy(std::string target_host, int target_port, FaultPlan plan)
    : target_host_(std::move(target_host)), target_port_(target_port), plan_(plan) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || wake_fd_ < 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    error_ = std::string("fault proxy: cannot listen on 127.0.0.1: ") + std::strerror(errno);
    return;
  }
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  stopping_ = true;
  Wake();
  if (accept_thread_.joinable()) accept_thread_.join();
  // No new connections now; the accept thread was the only writer of connections_.
  for (auto& c : connections_) {
    if (c->thread.joinable()) c->thread.join();
    close(c->wake);
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

uint64_t FaultProxy::bytes(ProxyDirection direction) const {
  return bytes_[static_cast<int>(direction)].load();
}

void FaultProxy::Wake() {
  uint64_t one = 1;
  std::lock_guard lock(mu_);
  (void)!write(wake_fd_, &one, sizeof one);
  for (auto& c : connections_) (void)!write(c->wake, &one, sizeof one);
}

void FaultProxy::Release() {
  released_ = true;
  Wake();
}

bool FaultProxy::WaitStalled(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [this] { return stalled_; });
}

bool FaultProxy::WaitForBytes(ProxyDirection direction, uint64_t n,
                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return bytes(direction) >= n; });
}

void FaultProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (stopping_) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++accepted_;
    auto c = std::make_unique<Connection>();
    c->client = client;
    c->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    Connection* raw = c.get();
    std::lock_guard lock(mu_);
    connections_.push_back(std::move(c));
    raw->thread = std::thread([this, raw] { Serve(raw); });
  }
}

void FaultProxy::Serve(Connection* c) {
  int server = ConnectTo(target_host_, target_port_);
  if (server < 0) {
    CloseSocket(c->client, /*reset=*/true);
    return;
  }
  fcntl(c->client, F_SETFL, O_NONBLOCK);
  fcntl(server, F_SETFL, O_NONBLOCK);
  Flow flows[2];
  flows[0].src = flows[1].dst = c->client;
  flows[0].dst = flows[1].src = server;
  const int stall_dir = static_cast<int>(plan_.stall_direction);
  const int cut_dir = static_cast<int>(plan_.cut_direction);
  const int flip_dir = static_cast<int>(plan_.flip_direction);
  bool reset = false;

  while (!stopping_) {
    bool stalled =
        plan_.stall_after && !released_ && flows[stall_dir].written_total >= *plan_.stall_after;
    if (stalled) {
      std::lock_guard lock(mu_);
      if (!stalled_) {
        stalled_ = true;
        changed_.notify_all();
      }
    }
    if (plan_.cut_after && flows[cut_dir].written_total >= *plan_.cut_after) {
      ++cuts_;
      reset = plan_.cut_with_reset;
      break;
    }
    if (flows[0].shut && flows[1].shut) break;

    pollfd fds[5] = {{c->wake, POLLIN, 0}};
    int slot[2] = {-1, -1};
    nfds_t n = 1;
    for (int d = 0; d < 2 && !stalled; ++d) {
      Flow& f = flows[d];
      if (f.pending() > 0) {
        slot[d] = static_cast<int>(n);
        fds[n++] = {f.dst, POLLOUT, 0};
      } else if (!f.eof) {
        slot[d] = static_cast<int>(n);
        fds[n++] = {f.src, POLLIN, 0};
      }
    }
    if (poll(fds, n, -1) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      uint64_t drained;
      (void)!read(c->wake, &drained, sizeof drained);
    }
    for (int d = 0; d < 2 && !reset; ++d) {
      Flow& f = flows[d];
      if (slot[d] < 0 || fds[slot[d]].revents == 0) continue;
      if (f.pending() > 0) {
        ssize_t w = send(f.dst, f.buffer.data() + f.begin, f.pending(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) reset = true;
        if (w <= 0) continue;
        f.begin += static_cast<size_t>(w);
        f.written_total += static_cast<uint64_t>(w);
        std::lock_guard lock(mu_);
        bytes_[d] += static_cast<uint64_t>(w);
        changed_.notify_all();
        continue;
      }
      // Read no further than the next fault boundary of this direction.
      uint64_t limit = kBufferSize;
      if (plan_.stall_after && d == stall_dir && !released_) {
        uint64_t before_stall = *plan_.stall_after - std::min(f.read_total, *plan_.stall_after);
        limit = std::min(limit, before_stall);
      }
      if (plan_.cut_after && d == cut_dir)
        limit = std::min<uint64_t>(limit, *plan_.cut_after - f.read_total);
      if (limit == 0) continue;
      ssize_t r = recv(f.src, f.buffer.data(), limit, 0);
      if (r < 0 && errno != EAGAIN && errno != EINTR) reset = true;
      if (r == 0) f.eof = true;
      if (r <= 0) continue;
      if (plan_.flip_offset && d == flip_dir && *plan_.flip_offset >= f.read_total &&
          *plan_.flip_offset < f.read_total + static_cast<uint64_t>(r)) {
        f.buffer[*plan_.flip_offset - f.read_total] ^= static_cast<char>(0xFF);
      }
      f.begin = 0;
      f.end = static_cast<size_t>(r);
      f.read_total += static_cast<uint64_t>(r);
    }
    if (reset) break;
    for (Flow& f : flows) {
      if (f.eof && f.pending() == 0 && !f.shut) {
        shutdown(f.dst, SHUT_WR);
        f.shut = true;
      }
    }
  }
  CloseSocket(c->client, reset);
  CloseSocket(server, reset);
}

}  // namespace zsend::test
