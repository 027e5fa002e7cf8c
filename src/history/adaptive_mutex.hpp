// AdaptiveMutex: a mutex that spins briefly before it sleeps, for locks held a few hundred nanoseconds.
#pragma once

#include <pthread.h>

namespace statenet::detail {

/// glibc's adaptive mutex behind the Lockable interface (use it with
/// std::condition_variable_any). A thread that finds a std::mutex taken sleeps in the
/// kernel at once and waits tens of microseconds to be woken, even when the holder lets
/// go a microsecond later; this one retries for a few microseconds first. The history
/// writer's queue is such a lock: a worker hands over a run every couple of
/// microseconds, and the writer takes the lock only to swap the queue.
class AdaptiveMutex {
public:
    AdaptiveMutex() noexcept {
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
        pthread_mutex_init(&mutex_, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    ~AdaptiveMutex() { pthread_mutex_destroy(&mutex_); }
    AdaptiveMutex(const AdaptiveMutex&) = delete;
    AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

    void lock() noexcept { pthread_mutex_lock(&mutex_); }
    bool try_lock() noexcept { return pthread_mutex_trylock(&mutex_) == 0; }
    void unlock() noexcept { pthread_mutex_unlock(&mutex_); }

private:
    pthread_mutex_t mutex_;
};

}  // namespace statenet::detail
