#include "store/user_sqlite.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include "core/text.hpp"
#include "stun/integrity.hpp"

namespace strowger::store {
namespace {

constexpr std::size_t kMaxNameBytes = 128;
constexpr std::size_t kMaxPasswordBytes = 256;

// Keys are kept as lowercase hex, the form an operator reading the file with the sqlite3 shell
// (or a SIP digest HA1 elsewhere) expects. No column holds the password.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE IF NOT EXISTS users (
    name       TEXT    NOT NULL PRIMARY KEY,
    realm      TEXT    NOT NULL,
    ha1_md5    TEXT    NOT NULL,
    ha1_sha256 TEXT    NOT NULL,
    created    INTEGER NOT NULL,
    updated    INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// The location table owns PRAGMA user_version for the whole file (it refuses a newer one), so
// this table is created independently of it, and only ever gains columns with defaults.
Database open_user_database(const std::string& path) {
    Database db(path); // waits up to 5 s for a lock held by the server's own connections
    // The server's location store already put the file in WAL mode (the mode persists in the
    // file); setting it here covers a file the user command creates before the server ever ran.
    // In WAL the server's lookups never wait for this connection's writes, nor it for theirs.
    Statement journal(db, "PRAGMA journal_mode=WAL");
    if (journal.step() && journal.text_column(0) != "wal") {
        spdlog::warn("SQLite database '{}': WAL journal unavailable, using '{}'", path,
                     journal.text_column(0));
    }
    journal.reset();
    // synchronous stays FULL for this connection: account changes are rare and should survive
    // a power cut once the command has said they are done.
    db.execute(kCreateSchema);
    return db;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

template <std::size_t N> bool from_hex(std::string_view hex, std::array<std::uint8_t, N>& bytes) {
    if (hex.size() != 2 * N) {
        return false;
    }
    for (std::size_t i = 0; i < N; ++i) {
        const int high = hex_value(hex[2 * i]);
        const int low = hex_value(hex[2 * i + 1]);
        if (high < 0 || low < 0) {
            return false;
        }
        bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
    }
    return true;
}

// Ends the read of a statement's rows on every path out of a scope. A statement left stepped
// keeps its read transaction open, which would stop the WAL from being checkpointed.
class ResetOnExit {
public:
    explicit ResetOnExit(Statement& statement) : statement_(statement) {}
    ~ResetOnExit() { statement_.reset(); }
    ResetOnExit(const ResetOnExit&) = delete;
    ResetOnExit& operator=(const ResetOnExit&) = delete;

private:
    Statement& statement_;
};

// Runs a statement with a RETURNING clause: true when it changed at least one row.
bool changed_rows(Statement& statement) {
    bool changed = false;
    while (statement.step()) {
        changed = true;
    }
    return changed;
}

} // namespace

void validate_user_name(std::string_view name) {
    if (name.empty()) {
        throw std::invalid_argument("user name must not be empty");
    }
    if (name.size() > kMaxNameBytes) {
        throw std::invalid_argument("user name is longer than " + std::to_string(kMaxNameBytes) +
                                    " bytes");
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if (c == ':') {
            throw std::invalid_argument("user name '" + std::string(name) +
                                        "' contains ':', which TURN REST usernames reserve");
        }
        // Printable ASCII without the space: what every SIP and TURN client can send as is.
        if (c <= 0x20 || c >= 0x7f) {
            throw std::invalid_argument("user name contains a space, control or non-ASCII byte "
                                        "at position " +
                                        std::to_string(i + 1));
        }
    }
}

void validate_password(std::string_view password) {
    if (password.empty()) {
        throw std::invalid_argument("password must not be empty");
    }
    if (password.size() > kMaxPasswordBytes) {
        throw std::invalid_argument("password is longer than " + std::to_string(kMaxPasswordBytes) +
                                    " bytes");
    }
    // Never echoes the password: an error message may end up in a log or a terminal recording.
    for (std::size_t i = 0; i < password.size();) {
        const auto cp = core::decode_utf8(password, i);
        if (!cp) {
            throw std::invalid_argument("password is not valid UTF-8 (at byte " +
                                        std::to_string(i + 1) + ")");
        }
        // C0 controls, DEL and C1 controls.
        if (cp->value < 0x20 || (cp->value >= 0x7f && cp->value <= 0x9f)) {
            throw std::invalid_argument("password contains a control character (at byte " +
                                        std::to_string(i + 1) + ")");
        }
        i += cp->length;
    }
}

SqliteUserStore::SqliteUserStore(const std::string& path)
    : db_(open_user_database(path)),
      insert_(db_, "INSERT INTO users (name, realm, ha1_md5, ha1_sha256, created, updated) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (name) DO NOTHING RETURNING name"),
      delete_(db_, "DELETE FROM users WHERE name = ?1 RETURNING name"),
      update_(db_, "UPDATE users SET realm = ?2, ha1_md5 = ?3, ha1_sha256 = ?4, updated = ?5 "
                   "WHERE name = ?1 RETURNING name"),
      select_all_(db_, "SELECT name, realm, created, updated FROM users ORDER BY name"),
      select_keys_(db_, "SELECT realm, ha1_md5, ha1_sha256 FROM users WHERE name = ?1"),
      select_any_(db_, "SELECT 1 FROM users LIMIT 1") {}

bool SqliteUserStore::add(std::string_view name, std::string_view realm, std::string_view password,
                          std::int64_t now) {
    validate_user_name(name);
    return write_keys(insert_, name, realm, password, now);
}

bool SqliteUserStore::remove(std::string_view name) {
    // Not validated: a name this check would refuse cannot be found, and it is no error to
    // delete what is not there.
    std::lock_guard lock(mutex_);
    delete_.bind(1, name);
    return changed_rows(delete_);
}

bool SqliteUserStore::set_password(std::string_view name, std::string_view realm,
                                   std::string_view password, std::int64_t now) {
    return write_keys(update_, name, realm, password, now);
}

bool SqliteUserStore::write_keys(Statement& statement, std::string_view name,
                                 std::string_view realm, std::string_view password,
                                 std::int64_t now) {
    validate_password(password);
    const auto md5 = core::to_hex(stun::long_term_key_md5(name, realm, password));
    const auto sha256 = core::to_hex(stun::long_term_key_sha256(name, realm, password));
    std::lock_guard lock(mutex_);
    statement.bind(1, name);
    statement.bind(2, realm);
    statement.bind(3, md5);
    statement.bind(4, sha256);
    statement.bind(5, now);
    return changed_rows(statement);
}

std::vector<UserRecord> SqliteUserStore::list() {
    std::vector<UserRecord> users;
    std::lock_guard lock(mutex_);
    ResetOnExit done(select_all_);
    while (select_all_.step()) {
        users.push_back(UserRecord{std::string(select_all_.text_column(0)),
                                   std::string(select_all_.text_column(1)),
                                   select_all_.int_column(2), select_all_.int_column(3)});
    }
    return users;
}

std::optional<SqliteUserStore::StoredKeys> SqliteUserStore::read_keys(std::string_view username,
                                                                      std::string_view realm) {
    try {
        std::lock_guard lock(mutex_);
        ResetOnExit done(select_keys_);
        select_keys_.bind(1, username);
        if (!select_keys_.step()) {
            return std::nullopt;
        }
        if (select_keys_.text_column(0) != realm) {
            // Keys made for another realm cannot verify anything here; the operator must set
            // the password again after changing general.realm.
            spdlog::debug("user store: '{}' has keys for realm '{}', not '{}'", username,
                          select_keys_.text_column(0), realm);
            return std::nullopt;
        }
        StoredKeys keys{{}, {std::string(select_keys_.text_column(1)),
                             std::string(select_keys_.text_column(2))}};
        if (!from_hex(keys.hex.md5_hex, keys.bytes.md5) ||
            !from_hex(keys.hex.sha256_hex, keys.bytes.sha256)) {
            spdlog::warn("user store '{}': the keys of '{}' are not hex of the right length",
                         db_.path(), username);
            return std::nullopt;
        }
        return keys;
    } catch (const std::exception& e) {
        spdlog::warn("user store: lookup failed: {}", e.what());
        return std::nullopt;
    }
}

std::optional<turn::UserKeys> SqliteUserStore::find_user(std::string_view username,
                                                         std::string_view realm) {
    auto keys = read_keys(username, realm);
    return keys ? std::optional(keys->bytes) : std::nullopt;
}

std::optional<sip::DigestKeys> SqliteUserStore::find(std::string_view user,
                                                    std::string_view realm) {
    auto keys = read_keys(user, realm); // the columns are the hex HA1 values digest compares
    return keys ? std::optional(std::move(keys->hex)) : std::nullopt;
}

bool SqliteUserStore::any() {
    try {
        std::lock_guard lock(mutex_);
        ResetOnExit done(select_any_);
        return select_any_.step();
    } catch (const std::exception& e) {
        // Fail closed: a store that cannot be read must not switch authentication off.
        spdlog::warn("user store: lookup failed: {}", e.what());
        return true;
    }
}

} // namespace strowger::store
