#pragma once
// The location service kept in memory and persisted in a SQLite file so that registrations
// survive a restart.
//
// Memory is authoritative: lookup, update and binding_count never touch the disk. Each change
// marks its address-of-record dirty; one writer thread owned by the store later writes the
// AORs' current lists, many per transaction, so an AOR changed a hundred times between two
// writes is written once.
//
// A binding is live while expires_at > now; at expires_at it has expired.

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sip/location.hpp"
#include "store/location_table.hpp"
#include "store/store_error.hpp"

namespace strowger::store {

class SqliteLocationStore final : public sip::LocationStore {
public:
    // Opens or creates the database file at `path`, deletes the bindings that expired by
    // `now_unix` and loads the rest. Throws StoreError naming the file when it cannot be
    // opened, created or read.
    explicit SqliteLocationStore(const std::string& path, std::int64_t now_unix);
    // Writes everything still queued, then stops the writer thread.
    ~SqliteLocationStore() override;

    SqliteLocationStore(const SqliteLocationStore&) = delete;
    SqliteLocationStore& operator=(const SqliteLocationStore&) = delete;

    sip::Bindings update(std::string_view aor, std::int64_t now,
                         const std::function<bool(sip::Bindings&)>& change) override;
    [[nodiscard]] sip::Bindings lookup(std::string_view aor, std::int64_t now) const override;
    [[nodiscard]] std::size_t binding_count(std::int64_t now) const override;

    // Drops expired bindings from memory and queues their deletion from disk. Returns how many
    // bindings were dropped.
    std::size_t prune(std::int64_t now);

    // Blocks until every change made before the call has been written. A write that fails is
    // logged and counts as done: flush() never waits on a broken disk forever.
    void flush();

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using BindingMap = std::unordered_map<std::string, sip::Bindings, StringHash, std::equal_to<>>;
    using AorSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

    // The map is split by AOR hash so that shards changing different AORs, and the writer
    // reading them, rarely wait on each other.
    struct Stripe {
        mutable std::mutex mutex;
        BindingMap bindings;
    };
    static constexpr std::size_t kStripes = 16;

    [[nodiscard]] Stripe& stripe_for(std::string_view aor);
    [[nodiscard]] const Stripe& stripe_for(std::string_view aor) const;
    [[nodiscard]] sip::Bindings snapshot(std::string_view aor) const;

    void queue_write(std::string_view aor);
    void queue_writes(std::vector<std::string>& aors);
    void run_writer();
    void write_batch(const AorSet& aors);

    std::array<Stripe, kStripes> stripes_;

    LocationTable table_; // only the writer thread uses it once the constructor returns

    // The writer's queue, guarded by queue_mutex_. `queued_` counts write requests and
    // `written_` how many of them are done, so flush() knows what to wait for.
    std::mutex queue_mutex_;
    std::condition_variable writer_wakeup_;
    std::condition_variable batch_written_;
    AorSet dirty_;
    std::uint64_t queued_ = 0;
    std::uint64_t written_ = 0;
    unsigned flush_waiters_ = 0;
    bool stopping_ = false;

    std::thread writer_; // last: starts once everything above exists
};

} // namespace strowger::store
