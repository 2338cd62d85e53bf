#include "core/timer_wheel.hpp"

#include <algorithm>
#include <utility>

namespace strowger::core {

TimerWheel::TimerWheel(TimePoint start, Duration tick, std::size_t slot_count)
    : start_(start), tick_(tick), slots_(slot_count, kNone) {}

std::uint64_t TimerWheel::tick_of(TimePoint t) const {
    if (t <= start_) {
        return 0;
    }
    return static_cast<std::uint64_t>((t - start_) / tick_);
}

std::uint32_t TimerWheel::allocate_node() {
    if (!free_.empty()) {
        auto index = free_.back();
        free_.pop_back();
        return index;
    }
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void TimerWheel::link(std::uint32_t index) {
    auto& node = nodes_[index];
    auto& head = slots_[node.due_tick % slots_.size()];
    node.prev = kNone;
    node.next = head;
    if (head != kNone) {
        nodes_[head].prev = index;
    }
    head = index;
}

void TimerWheel::unlink(std::uint32_t index) {
    auto& node = nodes_[index];
    if (node.prev != kNone) {
        nodes_[node.prev].next = node.next;
    } else {
        slots_[node.due_tick % slots_.size()] = node.next;
    }
    if (node.next != kNone) {
        nodes_[node.next].prev = node.prev;
    }
    node.prev = node.next = kNone;
}

TimerWheel::TimerId TimerWheel::schedule(TimePoint deadline, Callback callback) {
    auto index = allocate_node();
    auto& node = nodes_[index];
    // Round up, so a timer never fires before its deadline; and never into a tick that
    // advance() has already processed.
    auto due = tick_of(deadline);
    if (start_ + static_cast<std::int64_t>(due) * tick_ < deadline) {
        ++due;
    }
    node.due_tick = std::max(due, current_tick_ + 1);
    node.active = true;
    node.callback = std::move(callback);
    link(index);
    ++active_;
    return TimerId{index, node.generation};
}

bool TimerWheel::is_pending(TimerId id) const {
    return id.index < nodes_.size() && nodes_[id.index].active &&
           nodes_[id.index].generation == id.generation;
}

bool TimerWheel::cancel(TimerId id) {
    if (!is_pending(id)) {
        return false;
    }
    auto& node = nodes_[id.index];
    unlink(id.index);
    node.active = false;
    ++node.generation;
    node.callback = nullptr;
    free_.push_back(id.index);
    --active_;
    return true;
}

std::size_t TimerWheel::fire_slot(std::size_t slot, std::uint64_t up_to_tick) {
    std::size_t fired = 0;
    auto index = slots_[slot];
    while (index != kNone) {
        auto next = nodes_[index].next;
        if (nodes_[index].due_tick <= up_to_tick) {
            // Detach before calling: the callback may schedule or cancel (even itself).
            unlink(index);
            auto callback = std::move(nodes_[index].callback);
            nodes_[index].active = false;
            ++nodes_[index].generation;
            free_.push_back(index);
            --active_;
            ++fired;
            callback();
            // A callback may have unlinked `next` (cancelled it); restart from the slot head,
            // which only holds nodes that are not yet due or were just added for later ticks.
            next = slots_[slot];
        }
        index = next;
    }
    return fired;
}

std::size_t TimerWheel::advance(TimePoint now) {
    auto target = tick_of(now);
    std::size_t fired = 0;
    // Tick by tick, so that timers fire in deadline order and a timer re-armed by a callback
    // for a moment before `now` still fires in this call. An empty slot costs one load, and an
    // empty wheel skips straight to the target.
    while (current_tick_ < target) {
        if (active_ == 0) {
            current_tick_ = target;
            break;
        }
        ++current_tick_;
        fired += fire_slot(current_tick_ % slots_.size(), current_tick_);
    }
    return fired;
}

std::optional<TimerWheel::TimePoint> TimerWheel::next_wakeup() const {
    if (active_ == 0) {
        return std::nullopt;
    }
    return start_ + static_cast<std::int64_t>(current_tick_ + 1) * tick_;
}

} // namespace strowger::core
