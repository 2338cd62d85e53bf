#include "store/location_table.hpp"

#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "core/listen_spec.hpp"

namespace strowger::store {
namespace {

// PRAGMA user_version of a database this code writes. A file with a newer version came from
// a newer Strowger and is refused rather than misread.
constexpr std::int64_t kSchemaVersion = 2;

constexpr const char* kCreateSchema = R"sql(
CREATE TABLE IF NOT EXISTS location_bindings (
    aor            TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    contact        TEXT    NOT NULL,
    path           TEXT    NOT NULL,
    call_id        TEXT    NOT NULL,
    cseq           INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    q              INTEGER NOT NULL,
    transport      TEXT    NOT NULL,
    remote_address TEXT    NOT NULL,
    remote_port    INTEGER NOT NULL,
    user_agent     TEXT    NOT NULL,
    instance       TEXT    NOT NULL DEFAULT '',
    reg_id         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (aor, position)
) WITHOUT ROWID;
)sql";

// Version 1 to 2: the RFC 5626 instance and reg-id of each binding.
constexpr const char* kAddOutboundColumns = R"sql(
ALTER TABLE location_bindings ADD COLUMN instance TEXT NOT NULL DEFAULT '';
ALTER TABLE location_bindings ADD COLUMN reg_id INTEGER NOT NULL DEFAULT 0;
)sql";

std::int64_t schema_version(const Database& db) {
    Statement query(db, "PRAGMA user_version");
    return query.step() ? query.int_column(0) : 0;
}

// Configures the connection and brings the schema to kSchemaVersion.
Database open_location_database(const std::string& path) {
    Database db(path);
    // WAL lets commits append instead of rewriting pages and, with synchronous=NORMAL, skips
    // the fsync per commit: a power cut may lose the last moments of changes, never the file.
    Statement journal(db, "PRAGMA journal_mode=WAL");
    if (journal.step() && journal.text_column(0) != "wal") {
        spdlog::warn("SQLite database '{}': WAL journal unavailable, using '{}'", path,
                     journal.text_column(0));
    }
    journal.reset();
    db.execute("PRAGMA synchronous=NORMAL");

    const auto version = schema_version(db);
    if (version > kSchemaVersion) {
        throw StoreError("SQLite database '" + path + "' has schema version " +
                         std::to_string(version) + ", newer than this Strowger knows (" +
                         std::to_string(kSchemaVersion) + ")");
    }
    if (version < kSchemaVersion) {
        // If any step throws, closing the connection rolls the transaction back.
        db.execute("BEGIN IMMEDIATE");
        if (version == 1) {
            db.execute(kAddOutboundColumns);
        }
        db.execute(kCreateSchema);
        db.execute(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
        db.execute("COMMIT");
    }
    return db;
}

std::optional<core::Transport> parse_transport(std::string_view text) {
    using core::Transport;
    for (auto t : {Transport::Udp, Transport::Tcp, Transport::Tls, Transport::Ws, Transport::Wss}) {
        if (core::to_string(t) == text) {
            return t;
        }
    }
    return std::nullopt;
}

template <typename T> std::optional<T> narrow(std::int64_t value) {
    if (!std::in_range<T>(value)) {
        return std::nullopt;
    }
    return static_cast<T>(value);
}

// Column order of kSelectBindings.
enum Column : int {
    kAor,
    kContact,
    kPath,
    kCallId,
    kCseq,
    kExpiresAt,
    kQ,
    kTransport,
    kRemoteAddress,
    kRemotePort,
    kUserAgent,
    kInstance,
    kRegId,
};

constexpr const char* kSelectBindings =
    "SELECT aor, contact, path, call_id, cseq, expires_at, q, transport, remote_address, "
    "remote_port, user_agent, instance, reg_id FROM location_bindings ORDER BY aor, position";

std::optional<sip::Binding> read_binding(const Statement& row) {
    const auto cseq = narrow<std::uint32_t>(row.int_column(kCseq));
    const auto q = narrow<std::uint16_t>(row.int_column(kQ));
    const auto transport = parse_transport(row.text_column(kTransport));
    const auto port = narrow<std::uint16_t>(row.int_column(kRemotePort));
    const auto reg_id = narrow<std::uint32_t>(row.int_column(kRegId));
    if (!cseq || !q || !transport || !port || !reg_id) {
        return std::nullopt;
    }
    auto remote = core::IpEndpoint::from_address(row.text_column(kRemoteAddress), *port);
    if (!remote) {
        return std::nullopt;
    }
    sip::Binding binding;
    binding.contact = row.text_column(kContact);
    binding.path = row.text_column(kPath);
    binding.call_id = row.text_column(kCallId);
    binding.cseq = *cseq;
    binding.expires_at = row.int_column(kExpiresAt);
    binding.q = *q;
    binding.flow.transport = *transport;
    binding.flow.remote = *remote;
    binding.flow.connection_id = 0; // the connection it named is gone after a restart
    binding.user_agent = row.text_column(kUserAgent);
    binding.instance = row.text_column(kInstance);
    binding.reg_id = *reg_id;
    return binding;
}

} // namespace

LocationTable::LocationTable(const std::string& path)
    : db_(open_location_database(path)), begin_(db_, "BEGIN IMMEDIATE"), commit_(db_, "COMMIT"),
      rollback_(db_, "ROLLBACK"), delete_aor_(db_, "DELETE FROM location_bindings WHERE aor = ?1"),
      insert_binding_(db_, "INSERT INTO location_bindings (aor, position, contact, path, "
                           "call_id, cseq, expires_at, q, transport, remote_address, "
                           "remote_port, user_agent, instance, reg_id) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                           "?14)") {}

void LocationTable::load(std::int64_t now,
                         const std::function<void(std::string_view, sip::Binding&&)>& each) {
    Statement expire(db_, "DELETE FROM location_bindings WHERE expires_at <= ?1");
    expire.bind(1, now);
    expire.run();

    Statement select(db_, kSelectBindings);
    while (select.step()) {
        auto binding = read_binding(select);
        if (!binding) {
            spdlog::warn("SQLite database '{}': skipping an unreadable binding of '{}'", path(),
                         select.text_column(kAor));
            continue;
        }
        each(select.text_column(kAor), std::move(*binding));
    }
}

void LocationTable::begin() {
    begin_.run();
}

void LocationTable::replace(std::string_view aor, const sip::Bindings& bindings) {
    delete_aor_.bind(1, aor);
    delete_aor_.run();
    for (std::size_t position = 0; position < bindings.size(); ++position) {
        const auto& b = bindings[position];
        const auto address = b.flow.remote.address_string();
        insert_binding_.bind(1, aor);
        insert_binding_.bind(2, static_cast<std::int64_t>(position));
        insert_binding_.bind(3, b.contact);
        insert_binding_.bind(4, b.path);
        insert_binding_.bind(5, b.call_id);
        insert_binding_.bind(6, std::int64_t{b.cseq});
        insert_binding_.bind(7, b.expires_at);
        insert_binding_.bind(8, std::int64_t{b.q});
        insert_binding_.bind(9, core::to_string(b.flow.transport));
        insert_binding_.bind(10, address);
        insert_binding_.bind(11, std::int64_t{b.flow.remote.port});
        insert_binding_.bind(12, b.user_agent);
        insert_binding_.bind(13, b.instance);
        insert_binding_.bind(14, std::int64_t{b.reg_id});
        insert_binding_.run();
    }
}

void LocationTable::commit() {
    commit_.run();
}

void LocationTable::rollback() noexcept {
    try {
        rollback_.run();
    } catch (const StoreError&) {
        // SQLite already rolled back (it does after some errors); nothing is left open.
    }
}

} // namespace strowger::store
