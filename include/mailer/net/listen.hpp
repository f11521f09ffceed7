#pragma once
// Listening sockets for the HTTP servers (mailerd and mailer-fake-ses), which
// cpp-httplib binds: the socket options to give it, and the reason a bind
// failed, which cpp-httplib does not report.

#include <string>

namespace mailer::net {

/// Sets SO_REUSEADDR on `socket` and nothing else; for
/// httplib::Server::set_socket_options. cpp-httplib's default also sets
/// SO_REUSEPORT, with which a second server binds a port already in use and
/// the kernel splits connections between the two. SO_REUSEADDR alone still
/// allows a quick restart over TIME_WAIT connections and makes a taken port a
/// bind error. Errors are ignored: the bind that follows reports them.
void set_listen_options(int socket);

/// Why binding `address`:`port` (port 0: any) fails, in the OS's words, found
/// by trying it once on a fresh socket with set_listen_options: "Address
/// already in use", "Cannot assign requested address", or the resolver's
/// message for a bad address. "unknown reason" when that attempt succeeds
/// (the cause went away in between). Call after a failed bind, for the message.
std::string bind_failure_reason(const std::string& address, int port);

/// Raises this process's soft limit of open files (RLIMIT_NOFILE) to
/// `wanted`, or as close as the hard limit allows; never lowers it. Returns
/// the soft limit now in force. A server holds one descriptor per connection,
/// and systemd and most shells start services with a soft limit of 1024.
long raise_open_files_limit(long wanted);

}  // namespace mailer::net
