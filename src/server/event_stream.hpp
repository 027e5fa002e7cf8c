// The live feed behind `GET /events`: transitions and emitted messages, numbered in the
// order they committed, kept in a bounded window so a client that reconnects with
// Last-Event-ID catches up. Thread-safe; publish never blocks on a reader.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace statenet::server {

struct StreamItem {
    std::uint64_t id = 0;  ///< increasing from 1 over this process's life
    std::string kind;      ///< "transition" or "message"
    std::string instance;
    std::string data;  ///< one line of JSON
};

class EventStream {
public:
    explicit EventStream(std::size_t window = 4096) : window_(window) {}

    void publish(std::string kind, std::string instance, std::string data);

    /// The items with an id above `after`, waiting up to `timeout` for one; empty after
    /// the timeout. `closed` is set once close() was called (readers then end).
    std::vector<StreamItem> wait(std::uint64_t after, std::chrono::milliseconds timeout, bool& closed);
    /// The id of the newest item (0 when none): where a new reader starts.
    std::uint64_t last_id();

    /// Ends every reader (a draining server).
    void close();

private:
    std::size_t window_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<StreamItem> items_;
    std::uint64_t next_id_ = 1;
    bool closed_ = false;
};

}  // namespace statenet::server
