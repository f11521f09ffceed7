#include "mailer/net/listen.hpp"

#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

namespace mailer::net {
namespace {

struct AddrInfoFree {
  void operator()(addrinfo* info) const { ::freeaddrinfo(info); }
};

class Socket {
 public:
  explicit Socket(int fd) : m_fd(fd) {}
  ~Socket() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return m_fd; }

 private:
  int m_fd;
};

// The errno of one bind attempt on the first resolved address, 0 on success.
int try_bind(const addrinfo& info) {
  Socket sock(::socket(info.ai_family, info.ai_socktype, info.ai_protocol));
  if (sock.fd() < 0) return errno;
  set_listen_options(sock.fd());
  return ::bind(sock.fd(), info.ai_addr, info.ai_addrlen) == 0 ? 0 : errno;
}

}  // namespace

void set_listen_options(int socket) {
  int yes = 1;
  ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

std::string bind_failure_reason(const std::string& address, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int resolved = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
  if (resolved != 0) return ::gai_strerror(resolved);
  std::unique_ptr<addrinfo, AddrInfoFree> owner(found);
  int error = try_bind(*found);
  return error == 0 ? "unknown reason" : std::generic_category().message(error);
}

long raise_open_files_limit(long wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  auto target = static_cast<rlim_t>(wanted);
  if (limit.rlim_max != RLIM_INFINITY && target > limit.rlim_max) target = limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < target) {
    rlimit raised{target, limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? wanted : static_cast<long>(limit.rlim_cur);
}

}  // namespace mailer::net
