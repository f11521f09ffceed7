#include "mailer/net/listen.hpp"

#include <sys/socket.h>

namespace mailer::net {

void set_listen_options(int socket) {
  int yes = 1;
  ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace mailer::net
