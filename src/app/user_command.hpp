#pragma once
// `strowger user add|del|list|passwd`: the accounts TURN (and later SIP digest) authenticates,
// kept in the server's own store, <general.data_dir>/strowger.db. The command may run while
// the server does: each is a connection to the same WAL-mode file, and the server reads every
// lookup from the file, so a change applies to the next request.
//
// An account stores keys derived from name, general.realm and password, never the password
// itself, so changing general.realm means setting every password again (until then `list`
// marks those users). TURN REST credentials (the time-limited "expiry:name" usernames made
// with a shared secret) need no account.

#include <string>

#include "app/config.hpp"

namespace strowger::app {

enum class UserAction { Add, Del, List, Passwd };

struct UserCommand {
    UserAction action = UserAction::List;
    std::string name;     // add, del, passwd
    std::string password; // add, passwd
};

// Runs `command` against the store in config.data_dir (made if absent) with config.realm.
// Prints the outcome on stdout and any error on stderr; returns the exit code: 0 done, 1
// refused (no such user, already exists, invalid name or password) or the store failed.
int run_user_command(const UserCommand& command, const Config& config);

} // namespace strowger::app
