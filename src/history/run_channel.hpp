// RunChannel: a recorder's runs on their way to the history writer, and emptied extras back, without a lock.
#pragma once

#include "exec/tick_clock.hpp"
#include "history/run_record.hpp"

#include <statenet/history.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace statenet::detail {

/// A ring between one producer thread and one consumer thread. Each side writes only
/// its own index (on its own cache line) and reads the other's only when the ring looks
/// full or empty from where it stands. The producer fills a slot in place and then
/// publishes it; the consumer reads the slots in place and then releases them.
template <typename T>
class SpscRing {
public:
    /// `capacity`: a power of two.
    explicit SpscRing(std::size_t capacity) : slots_(capacity), mask_(capacity - 1) {}

    /// Producer: the next slot to fill (the same one until published), or null when
    /// the ring is full.
    T* claim() noexcept {
        const std::size_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_seen_ > mask_) {
            tail_seen_ = tail_.load(std::memory_order_acquire);
            if (head - tail_seen_ > mask_) return nullptr;
        }
        return &slots_[head & mask_];
    }
    /// Producer: hands the claimed slot to the consumer.
    void publish() noexcept { head_.store(head_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }
    /// Producer: moves `item` in, or returns false (leaving it alone) when the ring is full.
    bool push(T& item) noexcept {
        T* slot = claim();
        if (!slot) return false;
        *slot = std::move(item);
        publish();
        return true;
    }

    /// Consumer: how many published items wait (it may read them all in place).
    std::size_t available() noexcept {
        head_seen_ = head_.load(std::memory_order_acquire);
        return head_seen_ - tail_.load(std::memory_order_relaxed);
    }
    /// Consumer: the `n`th waiting item (0: the oldest), for n < available().
    T& peek(std::size_t n) noexcept { return slots_[(tail_.load(std::memory_order_relaxed) + n) & mask_]; }
    /// Consumer: the oldest item, or null when empty.
    T* front() noexcept {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_seen_) {
            head_seen_ = head_.load(std::memory_order_acquire);
            if (tail == head_seen_) return nullptr;
        }
        return &slots_[tail & mask_];
    }
    /// Consumer: gives the `n` oldest slots back to the producer.
    void pop(std::size_t n = 1) noexcept {
        tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
    }

    /// Items published since the ring was made (from either side).
    std::uint64_t pushed() const noexcept { return head_.load(std::memory_order_acquire); }
    /// Items waiting (from either side; exact on neither while the other side moves).
    std::size_t size() const noexcept {
        const std::size_t tail = tail_.load(std::memory_order_acquire);
        return head_.load(std::memory_order_acquire) - tail;
    }
    std::size_t capacity() const noexcept { return mask_ + 1; }

private:
    std::vector<T> slots_;
    std::size_t mask_;
    alignas(64) std::atomic<std::size_t> head_{0};  // the producer's
    std::size_t tail_seen_ = 0;                     // the producer's last look at tail_
    alignas(64) std::atomic<std::size_t> tail_{0};  // the consumer's
    std::size_t head_seen_ = 0;                     // the consumer's last look at head_
};

struct RunChannel;

/// The consumer's side of a channel, as its producer sees it: called only when the
/// channel holds RunChannel::wake_at runs or is full, off the per-run path.
class RunConsumer {
public:
    virtual ~RunConsumer() = default;
    /// `channel` holds enough runs to be worth taking now.
    virtual void wake(RunChannel& channel) = 0;
    /// `channel` is full: waits until it has room. False when the consumer has stopped
    /// (the producer then drops its runs).
    virtual bool wait_for_room(RunChannel& channel) = 0;
};

/// What one recorder (one worker thread) and the writer share. A shared lock for all
/// workers cost each run ~30 ns on the worker (`perf`, level runs), about a third of
/// what history may cost it.
struct RunChannel {
    /// Runs queued before their worker waits for the writer (backpressure bounds memory).
    static constexpr std::size_t run_capacity = 8192;
    /// Emptied extras kept for the worker's next runs.
    static constexpr std::size_t spare_capacity = 4096;
    /// The worker wakes the consumer when this many runs wait. A busy writer looks often
    /// enough that a worker's ring never gets there: a wake-up is a system call and, on
    /// a virtual machine, an interrupt to the other core (it cost the reference workload's
    /// worker ~40 ns a run in kernel time when it came every 2,048 runs).
    static constexpr std::size_t wake_at = run_capacity / 2;

    SpscRing<RunRecord> runs{run_capacity};
    SpscRing<std::unique_ptr<RunExtras>> spares{spare_capacity};
    std::atomic<bool> closed{false};  // its recorder is gone: the writer drops it once empty
    // The worker's: how many runs it had pushed when it last woke the writer.
    std::uint64_t woken_at = 0;
    // The writer's, under its mutex: runs taken out, and of those committed.
    std::uint64_t taken = 0, committed = 0;
    // A run's wall-clock start is wall_base_us + (RunRecord::started - steady_base):
    // the worker reads only its steady clock.
    const std::int64_t wall_base_us;
    const TickClock::time_point steady_base;

    RunChannel() : wall_base_us(history_now_us()), steady_base(TickClock::now()) {}
    std::int64_t wall_us(TickClock::time_point t) const noexcept {
        return wall_base_us + std::chrono::duration_cast<std::chrono::microseconds>(t - steady_base).count();
    }
};

}  // namespace statenet::detail
