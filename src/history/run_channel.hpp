// RunChannel: a recorder's runs on their way to the history writer, and emptied extras back, without a lock.
#pragma once

#include "history/recorder.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace statenet::detail {

/// A ring between one producer thread and one consumer thread. Each side writes only
/// its own index (on its own cache line) and reads the other's only when the ring looks
/// full or empty from where it stands: handing over an item is a move and a store.
template <typename T>
class SpscRing {
public:
    /// `capacity`: a power of two.
    explicit SpscRing(std::size_t capacity) : slots_(capacity), mask_(capacity - 1) {}

    /// Producer: moves `item` in, or returns false (leaving it alone) when the ring is full.
    bool push(T& item) noexcept {
        const std::size_t head = head_.load(std::memory_order_relaxed);
        if (head - tail_seen_ > mask_) {
            tail_seen_ = tail_.load(std::memory_order_acquire);
            if (head - tail_seen_ > mask_) return false;
        }
        slots_[head & mask_] = std::move(item);
        head_.store(head + 1, std::memory_order_release);
        return true;
    }

    /// Consumer: the oldest item (to move from, then pop), or null when empty.
    T* front() noexcept {
        const std::size_t tail = tail_.load(std::memory_order_relaxed);
        if (tail == head_seen_) {
            head_seen_ = head_.load(std::memory_order_acquire);
            if (tail == head_seen_) return nullptr;
        }
        return &slots_[tail & mask_];
    }
    void pop() noexcept { tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

    /// Items pushed since the ring was made (from either side).
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

/// What one recorder (one worker thread) and the writer share. A shared lock for all
/// workers cost each run ~30 ns on the worker (`perf`, level runs), about a third of
/// what history may cost it.
struct RunChannel {
    /// Runs queued before their worker waits for the writer (backpressure bounds memory).
    static constexpr std::size_t run_capacity = 8192;
    /// Emptied extras kept for the worker's next runs.
    static constexpr std::size_t spare_capacity = 4096;

    SpscRing<RunRecord> runs{run_capacity};
    SpscRing<std::unique_ptr<RunExtras>> spares{spare_capacity};
    std::atomic<bool> closed{false};  // its recorder is gone: the writer drops it once empty
    // The worker's: how many runs it had pushed when it last woke the writer.
    std::uint64_t woken_at = 0;
    // The writer's, under its mutex: runs taken out, and of those committed.
    std::uint64_t taken = 0, committed = 0;
};

}  // namespace statenet::detail
