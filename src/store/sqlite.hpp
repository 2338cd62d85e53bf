#pragma once
// Thin owners of a SQLite connection and of a prepared statement, turning SQLite's error codes
// into StoreError. sqlite3.h stays out of every other header.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/store_error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace strowger::store {

class Database {
public:
    // Opens the file, creating it when absent. Throws StoreError naming `path` and SQLite's
    // reason (a missing or read-only directory, a read-only file, not a database, ...).
    explicit Database(const std::string& path);

    // Runs SQL that returns no rows (one or more statements separated by ';').
    void execute(const char* sql);

    [[nodiscard]] sqlite3* handle() const noexcept { return db_.get(); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    struct Close {
        void operator()(sqlite3* db) const noexcept;
    };
    std::unique_ptr<sqlite3, Close> db_;
    std::string path_;
};

// Prepared once and reused: bind, then step() through the rows or run(), and it is ready again.
class Statement {
public:
    Statement(const Database& db, const char* sql);

    // Parameters are numbered from 1, as in SQL's ?1, ?2, ... The text must stay alive until
    // the statement has been stepped.
    void bind(int index, std::string_view text);
    void bind(int index, std::int64_t value);

    // Advances to the next result row: true when one is ready, false when there are no more.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    // Makes the statement ready to run again, as run() and a finished step() loop do.
    void reset() noexcept;

    // Columns are numbered from 0. The text is valid until the next step or reset.
    [[nodiscard]] std::int64_t int_column(int index) const;
    [[nodiscard]] std::string_view text_column(int index) const;

private:
    [[noreturn]] void fail() const;

    struct Finalize {
        void operator()(sqlite3_stmt* stmt) const noexcept;
    };
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
};

} // namespace strowger::store
