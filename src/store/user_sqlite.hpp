#pragma once
// User accounts for the long-term credential mechanism (RFC 8489 §9.2), kept in the `users`
// table of the server's SQLite file next to the location bindings.
//
// Only the two keys derived from name, realm and password are stored, never the password, so
// a row is good for one realm only: a user added under realm A does not authenticate under
// realm B until its password is set again (set_password with B).
//
// The `strowger user` command writes through one instance while the server reads through its
// own; each is a separate connection to the same WAL-mode file, so a change made by the command
// is seen by the server's next find_user without a restart.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite.hpp"
#include "sip/authenticator.hpp"
#include "store/store_error.hpp"
#include "turn/credentials.hpp"

namespace strowger::store {

// What list() shows of a user: never the keys.
struct UserRecord {
    std::string name;
    std::string realm;        // the realm the keys were made for
    std::int64_t created = 0; // Unix seconds
    std::int64_t updated = 0; // Unix seconds of the last password change (created at first)
};

// A user name is 1..128 bytes of printable ASCII without spaces and without ':', which the
// TURN REST API's usernames ("expiry:name") use as their separator, so an account can never be
// mistaken for one. Throws std::invalid_argument saying what is wrong.
void validate_user_name(std::string_view name);
// A password is 1..256 bytes of UTF-8 without control characters. It is hashed as given: no
// SASLprep/OpaqueString mapping is applied, which is the identity for ASCII; a non-ASCII
// password must already be in NFC, as clients send it. Throws std::invalid_argument.
void validate_password(std::string_view password);

// The same accounts serve TURN (turn::CredentialStore) and SIP digest (sip::AccountKeys).
class SqliteUserStore final : public turn::CredentialStore, public sip::AccountKeys {
public:
    // Opens or creates the database file at `path` (WAL journal) and the users table. Throws
    // StoreError naming the file.
    explicit SqliteUserStore(const std::string& path);

    SqliteUserStore(const SqliteUserStore&) = delete;
    SqliteUserStore& operator=(const SqliteUserStore&) = delete;

    // Adds `name` with keys for `realm`; false when the name exists (in any realm). Throws
    // std::invalid_argument for an invalid name or password, StoreError when the write fails.
    bool add(std::string_view name, std::string_view realm, std::string_view password,
             std::int64_t now);
    // Deletes `name`; false when there is no such user. Throws StoreError.
    bool remove(std::string_view name);
    // Replaces the keys of `name` with ones for `realm` and `password`, moving the user to
    // `realm`; false when there is no such user. Throws as add() does.
    bool set_password(std::string_view name, std::string_view realm, std::string_view password,
                      std::int64_t now);
    // Every user, sorted by name (byte order). Throws StoreError.
    [[nodiscard]] std::vector<UserRecord> list();

    // Never throws: a read that fails is logged and answered with nothing, as for an unknown
    // user, so a broken disk makes authentication fail rather than a shard thread die.
    std::optional<turn::UserKeys> find_user(std::string_view username,
                                            std::string_view realm) override;

    // sip::AccountKeys; never throw either. A failed read is logged and gives no keys, and
    // any() answers true then, so that a broken disk never turns authentication off.
    std::optional<sip::DigestKeys> find(std::string_view user, std::string_view realm) override;
    bool any() override;

    [[nodiscard]] const std::string& path() const noexcept { return db_.path(); }

private:
    // A user's row: its keys as stored (hex, which SIP digest compares with) and as bytes
    // (which STUN integrity keys with), checked to be hex of the right lengths.
    struct StoredKeys {
        turn::UserKeys bytes;
        sip::DigestKeys hex;
    };
    std::optional<StoredKeys> read_keys(std::string_view username, std::string_view realm);

    // Runs the insert or the update, whose parameters are both (name, realm, MD5 key, SHA-256
    // key, time): the keys are computed here, outside the lock.
    bool write_keys(Statement& statement, std::string_view name, std::string_view realm,
                    std::string_view password, std::int64_t now);

    // One connection, and its statements, used by one thread at a time: SQLite serialises use
    // of a connection anyway, and a lookup is a single indexed read.
    std::mutex mutex_;
    Database db_;
    Statement insert_;
    Statement delete_;
    Statement update_;
    Statement select_all_;
    Statement select_keys_;
    Statement select_any_;
};

} // namespace strowger::store
