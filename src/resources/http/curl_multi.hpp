// CurlMulti: one thread's libcurl multi handle, which every HTTP request started on the
// thread runs on, and the Poller that makes them progress while their records wait.
//
// Caveats:
// - Not thread-safe: one per thread (for_thread()), used only by that thread.
// - Several records on the thread may have transfers on it at once (the in-flight
//   scheduler); each waits for its own Transfer with wait_for(), and whichever record's
//   wait polls completes the others' transfers too.
// - poll() never sleeps past a registered deadline (Deadline), so a record waiting out a
//   backoff is woken on time even while another record's poll is the one that sleeps.
#pragma once

#include "exec/waiter.hpp"

#include <curl/curl.h>

#include <chrono>
#include <set>
#include <vector>

namespace statenet::detail {

using SteadyClock = std::chrono::steady_clock;

/// One request in flight: set up its easy handle, start() it, wait until `done`.
struct Transfer {
    CURL* easy = nullptr;
    bool done = false;
    CURLcode result = CURLE_OK;
};

class CurlMulti final : public Poller {
public:
    /// The calling thread's multi handle (created on first use).
    static CurlMulti& for_thread();

    CurlMulti();
    ~CurlMulti() override;
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    /// An easy handle, reset, from this thread's idle ones (or a new one).
    CURL* take_easy();
    /// Returns an easy handle to the idle list.
    void give_easy(CURL* easy) noexcept;

    /// Adds the transfer to the multi handle; poll() sets its `done` and `result`.
    /// Throws std::runtime_error when libcurl refuses it.
    void start(Transfer& transfer);
    /// Removes a transfer that is still running (its record gave up waiting).
    void abandon(Transfer& transfer) noexcept;

    void poll(int timeout_ms) override;

    /// While it lives, poll() sleeps no later than `at`.
    class Deadline {
    public:
        Deadline(CurlMulti& multi, SteadyClock::time_point at);
        ~Deadline();
        Deadline(const Deadline&) = delete;
        Deadline& operator=(const Deadline&) = delete;

    private:
        CurlMulti& multi_;
        std::multiset<SteadyClock::time_point>::iterator it_;
    };

    /// Waits (through wait_for) until `at`: the way a backoff or a rate limit waits.
    void sleep_until(SteadyClock::time_point at);

private:
    CURLM* multi_;
    std::vector<CURL*> idle_;
    std::multiset<SteadyClock::time_point> deadlines_;
    int running_ = 0;

    void perform();
};

}  // namespace statenet::detail
