#pragma once
// Listening sockets for the HTTP servers (mailerd and mailer-fake-ses), which
// cpp-httplib binds: the socket options to give it.

#include <string>

namespace mailer::net {

/// Sets SO_REUSEADDR on `socket` and nothing else; for
/// httplib::Server::set_socket_options. cpp-httplib's default also sets
/// SO_REUSEPORT, with which a second server binds a port already in use and
/// the kernel splits connections between the two. SO_REUSEADDR alone still
/// allows a quick restart over TIME_WAIT connections and makes a taken port a
/// bind error. Errors are ignored: the bind that follows reports them.
void set_listen_options(int socket);

}  // namespace mailer::net
