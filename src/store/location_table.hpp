#pragma once
// The SQLite side of the location store: the location_bindings table, read once at start-up
// and then written by the store's writer thread. One row per binding, keyed by the
// address-of-record and the binding's position in its list so that order survives a restart.
//
// Not thread-safe: the store uses it from one thread at a time.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sip/location.hpp"
#include "store/sqlite.hpp"

namespace strowger::store {

class LocationTable {
public:
    // Opens or creates the database (WAL journal, synchronous=NORMAL) and its schema.
    // Throws StoreError naming the file.
    explicit LocationTable(const std::string& path);

    // Deletes the rows that expired at or before `now`, then hands each remaining binding to
    // `each`, AOR after AOR, in list order. Connections do not survive a restart, so flows come
    // back with connection_id 0. Rows that do not parse are skipped with a warning.
    void load(std::int64_t now,
              const std::function<void(std::string_view aor, sip::Binding&&)>& each);

    // Writes happen inside a transaction: begin(), replace() per AOR, then commit().
    void begin();
    // Makes the AOR's rows match `bindings`; an empty list deletes them.
    void replace(std::string_view aor, const sip::Bindings& bindings);
    void commit();
    // Abandons the open transaction, if any.
    void rollback() noexcept;

    [[nodiscard]] const std::string& path() const noexcept { return db_.path(); }

private:
    Database db_;
    Statement begin_;
    Statement commit_;
    Statement rollback_;
    Statement delete_aor_;
    Statement insert_binding_;
};

} // namespace strowger::store
