#include "transports/tcp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace zsend {
namespace {

void ApplySocketOptions(int fd, const TcpOptions& options) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (options.buffer_bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options.buffer_bytes, sizeof options.buffer_bytes);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.buffer_bytes, sizeof options.buffer_bytes);
  }
}

Result<addrinfo*> Resolve(const HostPort& hp, int family, bool passive) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(), hp.port.c_str(), &hints, &list);
  if (rc != 0) {
    return Status(StatusCode::kNotFound,
                  "cannot resolve '" + hp.host + ":" + hp.port + "': " + gai_strerror(rc));
  }
  return list;
}

std::string AddressText(const sockaddr* sa) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, host, sizeof host);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
    } else {
      inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    }
  }
  return host;
}

// Waits until `fd` is ready for `events`; kDeadlineExceeded after `seconds` (0 = forever).
// Waits for `events` on `fd`; `wake_fd` (>= 0) readable first ends the wait as a timeout does.
Status WaitReady(int fd, short events, double seconds, const std::string& what, int wake_fd = -1) {
  pollfd p[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
  for (;;) {
    int rc = poll(p, wake_fd >= 0 ? 2 : 1, seconds > 0 ? static_cast<int>(seconds * 1000) : -1);
    if (rc > 0 && p[0].revents != 0) return Status::Ok();
    if (rc >= 0) return DeadlineExceeded(what + ": timed out");
    if (errno != EINTR) return ErrnoStatus(what, errno);
  }
}

}  // namespace

Result<HostPort> ParseHostPort(const std::string& text, bool port_only_ok) {
  HostPort hp;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument("bad address '" + text + "': use [v6-address]:port");
    }
    hp.host = text.substr(1, close - 1);
    hp.port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      if (!port_only_ok) return InvalidArgument("bad address '" + text + "': use host:port");
      hp.port = text;
    } else {
      hp.host = text.substr(0, colon);
      hp.port = text.substr(colon + 1);
    }
  }
  if (hp.port.empty() || hp.port.size() > 5 ||
      hp.port.find_first_not_of("0123456789") != std::string::npos || std::stoul(hp.port) > 65535) {
    return InvalidArgument("bad port in '" + text + "': use a number from 0 to 65535");
  }
  return hp;
}

Result<TcpListener> TcpListener::Listen(const std::string& address, const TcpOptions& options) {
  Result<HostPort> hp = ParseHostPort(address, true);
  if (!hp.ok()) return hp.status();
  int family = options.family;
  if (hp->host.empty() && family == 0) family = AF_INET6;  // dual-stack any-address
  Result<addrinfo*> list = Resolve(*hp, family, true);
  if (!list.ok()) return list.status();
  Status last = Unavailable("no address to listen on for '" + address + "'");
  for (addrinfo* ai = *list; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) {
      last = ErrnoStatus("cannot create a socket", errno);
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
      int v6only = options.family == AF_INET6 ? 1 : 0;
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (options.buffer_bytes > 0) ApplySocketOptions(fd.get(), options);
    if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = ErrnoStatus("cannot listen on " + address, errno);
      continue;
    }
    if (listen(fd.get(), 8) != 0) {
      last = ErrnoStatus("cannot listen on " + address, errno);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    TcpListener listener;
    listener.port_ =
        ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    listener.fd_ = std::move(fd);
    listener.options_ = options;
    freeaddrinfo(*list);
    return listener;
  }
  freeaddrinfo(*list);
  return last;
}

Result<UniqueFd> TcpListener::Accept(const std::string& allowed_host, int wake_fd) {
  for (;;) {
    ZSEND_RETURN_IF_ERROR(WaitReady(fd_.get(), POLLIN, options_.timeout_seconds,
                                    "waiting for a connection on port " + std::to_string(port_),
                                    wake_fd));
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    UniqueFd fd(accept4(fd_.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return ErrnoStatus("accept failed", errno);
    }
    if (!allowed_host.empty()) {
      Result<addrinfo*> allowed = Resolve(HostPort{allowed_host, "0"}, 0, false);
      bool match = false;
      if (allowed.ok()) {
        std::string peer_text = AddressText(reinterpret_cast<sockaddr*>(&peer));
        for (addrinfo* ai = *allowed; ai != nullptr && !match; ai = ai->ai_next) {
          match = AddressText(ai->ai_addr) == peer_text;
        }
        freeaddrinfo(*allowed);
      }
      if (!match) continue;  // refused: close and keep waiting
    }
    ApplySocketOptions(fd.get(), options_);
    return fd;
  }
}

Result<UniqueFd> TcpConnect(const std::string& address, const TcpOptions& options) {
  Result<HostPort> hp = ParseHostPort(address, false);
  if (!hp.ok()) return hp.status();
  Result<addrinfo*> list = Resolve(*hp, options.family, false);
  if (!list.ok()) return list.status();
  Status last = Unavailable("cannot connect to " + address);
  for (addrinfo* ai = *list; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd.valid()) continue;
    ApplySocketOptions(fd.get(), options);
    // With a timeout the connect runs non-blocking, so an address that drops SYNs (a firewall,
    // a blackholed route) fails after timeout_seconds instead of the kernel's minutes.
    const int flags = fcntl(fd.get(), F_GETFL);
    if (options.timeout_seconds > 0) fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd.get(), ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      Status ready = WaitReady(fd.get(), POLLOUT, options.timeout_seconds, "connect to " + address);
      if (!ready.ok()) {
        last = Unavailable("cannot connect to " + address + ": no answer within " +
                           std::to_string(static_cast<int>(options.timeout_seconds)) +
                           " s (--timeout)");
        continue;
      }
      int error = 0;
      socklen_t len = sizeof error;
      getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len);
      rc = error == 0 ? 0 : -1;
      errno = error;
    }
    if (rc == 0) {
      fcntl(fd.get(), F_SETFL, flags);
      freeaddrinfo(*list);
      return fd;
    }
    last = ErrnoStatus("cannot connect to " + address, errno);
    if (errno == ECONNREFUSED) {
      last = Status(last.code(), last.message() + " (is the receiving side listening?)");
    }
  }
  freeaddrinfo(*list);
  return last;
}

}  // namespace zsend
