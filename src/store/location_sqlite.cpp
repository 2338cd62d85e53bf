#include "store/location_sqlite.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iterator>
#include <utility>

namespace strowger::store {
namespace {

// How long the writer lets changes gather before it writes them. At thousands of REGISTERs a
// second this turns a transaction per change into a few transactions a second; the cost is
// that a crash may lose this much more of the latest changes.
constexpr auto kBatchWindow = std::chrono::milliseconds(20);

bool is_live(const sip::Binding& binding, std::int64_t now) {
    return binding.expires_at > now;
}

sip::Bindings live_bindings(const sip::Bindings& all, std::int64_t now) {
    sip::Bindings live;
    live.reserve(all.size());
    std::copy_if(all.begin(), all.end(), std::back_inserter(live),
                 [now](const sip::Binding& b) { return is_live(b, now); });
    return live;
}

} // namespace

SqliteLocationStore::SqliteLocationStore(const std::string& path, std::int64_t now_unix)
    : table_(path) {
    // No other thread can see the store yet, so the stripes are filled without their locks.
    table_.load(now_unix, [this](std::string_view aor, sip::Binding&& binding) {
        auto& map = stripe_for(aor).bindings;
        auto it = map.find(aor);
        if (it == map.end()) {
            it = map.try_emplace(std::string(aor)).first;
        }
        it->second.push_back(std::move(binding));
    });
    writer_ = std::thread([this] { run_writer(); });
}

SqliteLocationStore::~SqliteLocationStore() {
    {
        std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    writer_wakeup_.notify_one();
    writer_.join(); // the writer empties the queue before it returns
}

sip::Bindings SqliteLocationStore::update(std::string_view aor, std::int64_t now,
                                          const std::function<bool(sip::Bindings&)>& change) {
    auto& stripe = stripe_for(aor);
    sip::Bindings bindings;
    {
        std::lock_guard lock(stripe.mutex);
        auto it = stripe.bindings.find(aor);
        if (it != stripe.bindings.end()) {
            bindings = live_bindings(it->second, now);
        }
        if (!change(bindings)) {
            // `change` may have edited its copy before declining; answer with what is stored.
            return it == stripe.bindings.end() ? sip::Bindings{} : live_bindings(it->second, now);
        }
        if (it == stripe.bindings.end()) {
            if (bindings.empty()) {
                return bindings; // nothing was stored and nothing is to be
            }
            stripe.bindings.try_emplace(std::string(aor), bindings);
        } else if (bindings.empty()) {
            stripe.bindings.erase(it);
        } else {
            it->second = bindings;
        }
    }
    // Queued after the change is visible: the writer reads the AOR's list when it writes, so
    // it can never write a list older than the one this call stored.
    queue_write(aor);
    return bindings;
}

sip::Bindings SqliteLocationStore::lookup(std::string_view aor, std::int64_t now) const {
    const auto& stripe = stripe_for(aor);
    std::lock_guard lock(stripe.mutex);
    auto it = stripe.bindings.find(aor);
    return it == stripe.bindings.end() ? sip::Bindings{} : live_bindings(it->second, now);
}

std::size_t SqliteLocationStore::binding_count(std::int64_t now) const {
    std::size_t count = 0;
    for (const auto& stripe : stripes_) {
        std::lock_guard lock(stripe.mutex);
        for (const auto& [aor, bindings] : stripe.bindings) {
            count += static_cast<std::size_t>(
                std::count_if(bindings.begin(), bindings.end(),
                              [now](const sip::Binding& b) { return is_live(b, now); }));
        }
    }
    return count;
}

std::size_t SqliteLocationStore::prune(std::int64_t now) {
    std::size_t dropped = 0;
    std::vector<std::string> changed;
    for (auto& stripe : stripes_) {
        {
            std::lock_guard lock(stripe.mutex);
            for (auto it = stripe.bindings.begin(); it != stripe.bindings.end();) {
                const auto expired = std::erase_if(
                    it->second, [now](const sip::Binding& b) { return !is_live(b, now); });
                if (expired == 0) {
                    ++it;
                    continue;
                }
                dropped += expired;
                changed.push_back(it->first);
                it = it->second.empty() ? stripe.bindings.erase(it) : std::next(it);
            }
        }
        queue_writes(changed);
    }
    return dropped;
}

void SqliteLocationStore::flush() {
    std::unique_lock lock(queue_mutex_);
    const auto target = queued_;
    if (written_ >= target) {
        return;
    }
    ++flush_waiters_; // tells the writer not to wait for more changes to gather
    writer_wakeup_.notify_one();
    batch_written_.wait(lock, [&] { return written_ >= target; });
    --flush_waiters_;
}

SqliteLocationStore::Stripe& SqliteLocationStore::stripe_for(std::string_view aor) {
    return stripes_[StringHash{}(aor) % kStripes];
}

const SqliteLocationStore::Stripe& SqliteLocationStore::stripe_for(std::string_view aor) const {
    return stripes_[StringHash{}(aor) % kStripes];
}

sip::Bindings SqliteLocationStore::snapshot(std::string_view aor) const {
    const auto& stripe = stripe_for(aor);
    std::lock_guard lock(stripe.mutex);
    auto it = stripe.bindings.find(aor);
    return it == stripe.bindings.end() ? sip::Bindings{} : it->second;
}

void SqliteLocationStore::queue_write(std::string_view aor) {
    bool was_idle = false;
    {
        std::lock_guard lock(queue_mutex_);
        was_idle = dirty_.empty();
        if (!dirty_.contains(aor)) {
            dirty_.emplace(aor);
        }
        ++queued_;
    }
    // The writer sleeps only while there is nothing to write.
    if (was_idle) {
        writer_wakeup_.notify_one();
    }
}

void SqliteLocationStore::queue_writes(std::vector<std::string>& aors) {
    if (aors.empty()) {
        return;
    }
    bool was_idle = false;
    {
        std::lock_guard lock(queue_mutex_);
        was_idle = dirty_.empty();
        for (auto& aor : aors) {
            dirty_.insert(std::move(aor));
        }
        queued_ += aors.size();
    }
    aors.clear();
    if (was_idle) {
        writer_wakeup_.notify_one();
    }
}

void SqliteLocationStore::run_writer() {
    AorSet batch; // kept across rounds so its buckets are reused
    std::unique_lock lock(queue_mutex_);
    for (;;) {
        writer_wakeup_.wait(lock, [this] { return stopping_ || !dirty_.empty(); });
        if (dirty_.empty()) {
            return; // stopping, and everything is written
        }
        writer_wakeup_.wait_for(lock, kBatchWindow,
                                [this] { return stopping_ || flush_waiters_ > 0; });
        batch.swap(dirty_);
        const auto taken = queued_;
        lock.unlock();

        write_batch(batch);
        batch.clear();

        lock.lock();
        written_ = taken;
        batch_written_.notify_all();
    }
}

void SqliteLocationStore::write_batch(const AorSet& aors) {
    std::string_view failed_aor = *aors.begin(); // named in the log if the commit fails
    try {
        table_.begin();
        for (const auto& aor : aors) {
            failed_aor = aor;
            table_.replace(aor, snapshot(aor));
        }
        failed_aor = *aors.begin();
        table_.commit();
    } catch (const std::exception& e) {
        // Memory still holds every binding; only a restart before their next change loses them.
        table_.rollback();
        if (aors.size() == 1) {
            spdlog::error("location store: bindings of '{}' not saved: {}", failed_aor, e.what());
        } else {
            spdlog::error("location store: bindings of '{}' and {} other AORs not saved: {}",
                          failed_aor, aors.size() - 1, e.what());
        }
    }
}

} // namespace strowger::store
