#pragma once
// Opening listening sockets the way every shard needs them, and the start-up check that the
// ports are free.

#include <system_error>

#include "core/listen_spec.hpp"

namespace strowger::net {

// Binds a plain socket (no SO_REUSEPORT) to the spec's address and releases it. Fails with
// EADDRINUSE when any other socket holds the port, including another process's SO_REUSEPORT
// group that our shards would otherwise silently join. On success, a spec with port 0 gets the
// port the kernel chose, so that all shards then share it.
std::error_code probe_bind(core::ListenSpec& spec);

// A bound, non-blocking socket with SO_REUSEPORT (and IPV6_V6ONLY for IPv6, so that
// "udp:[::]:3478" and "udp:0.0.0.0:3478" can both be listed). TCP sockets are also listening.
// Returns the file descriptor, or -1 with `error` set.
int open_reuseport_socket(const core::ListenSpec& spec, std::error_code& error);

} // namespace strowger::net
