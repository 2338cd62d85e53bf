#include "store/sqlite.hpp"

#include <sqlite3.h>

#include <utility>

namespace strowger::store {
namespace {

// How long a write waits for a lock held by another connection to the same file (an operator's
// sqlite3 shell, a backup) before failing with SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 5000;

std::string error_message(sqlite3* db) {
    const char* file = sqlite3_db_filename(db, "main");
    return std::string("SQLite database '") + (file != nullptr ? file : "") +
           "': " + sqlite3_errmsg(db);
}

[[noreturn]] void throw_error(sqlite3* db) {
    throw StoreError(error_message(db));
}

} // namespace

void Database::Close::operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
}

Database::Database(const std::string& path) : path_(path) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(raw); // SQLite allocates a handle even when opening fails; it must be closed
    if (rc != SQLITE_OK) {
        throw StoreError("cannot open SQLite database '" + path +
                         "': " + (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    // A file we may not write is opened read-only without an error; every write would fail.
    if (sqlite3_db_readonly(raw, "main") == 1) {
        throw StoreError("cannot open SQLite database '" + path + "': the file is read-only");
    }
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
}

void Database::execute(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
        throw_error(db_.get());
    }
}

void Statement::Finalize::operator()(sqlite3_stmt* stmt) const noexcept {
    sqlite3_finalize(stmt);
}

Statement::Statement(const Database& db, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db.handle(), sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) !=
        SQLITE_OK) {
        throw_error(db.handle());
    }
    stmt_.reset(raw);
}

void Statement::bind(int index, std::string_view text) {
    // A null pointer would bind SQL NULL; an empty view may have one.
    const char* data = text.data() != nullptr ? text.data() : "";
    // A null destructor is SQLITE_STATIC: SQLite reads the caller's bytes without copying them.
    if (sqlite3_bind_text64(stmt_.get(), index, data, text.size(), nullptr, SQLITE_UTF8) !=
        SQLITE_OK) {
        fail();
    }
}

void Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) {
        fail();
    }
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        reset();
        return false;
    }
    fail();
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_.get());
}

std::int64_t Statement::int_column(int index) const {
    return sqlite3_column_int64(stmt_.get(), index);
}

std::string_view Statement::text_column(int index) const {
    const auto* text = sqlite3_column_text(stmt_.get(), index);
    if (text == nullptr) {
        return {};
    }
    // Length is read after the text, as SQLite asks, so it counts the converted bytes.
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), index));
    return {reinterpret_cast<const char*>(text), size};
}

void Statement::fail() const {
    // The message is taken before the reset, which may replace it; the reset keeps a failed
    // statement from holding its transaction open while the caller handles the error.
    auto message = error_message(sqlite3_db_handle(stmt_.get()));
    sqlite3_reset(stmt_.get());
    throw StoreError(std::move(message));
}

} // namespace strowger::store
