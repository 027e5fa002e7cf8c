// The live feed behind `GET /events`.
#include "server/event_stream.hpp"

namespace statenet::server {

void EventStream::publish(std::string kind, std::string instance, std::string data) {
    {
        std::lock_guard lock(mutex_);
        items_.push_back({next_id_++, std::move(kind), std::move(instance), std::move(data)});
        if (items_.size() > window_) items_.pop_front();
    }
    changed_.notify_all();
}

std::vector<StreamItem> EventStream::wait(std::uint64_t after, std::chrono::milliseconds timeout, bool& closed) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return closed_ || (!items_.empty() && items_.back().id > after); });
    closed = closed_;
    std::vector<StreamItem> out;
    // Ids are consecutive: the first wanted item's place follows from the front's id.
    if (items_.empty() || items_.back().id <= after) return out;
    const std::uint64_t front = items_.front().id;
    const std::size_t skip = after < front ? 0 : static_cast<std::size_t>(after - front + 1);
    out.assign(items_.begin() + static_cast<std::ptrdiff_t>(skip), items_.end());
    return out;
}

std::uint64_t EventStream::last_id() {
    std::lock_guard lock(mutex_);
    return next_id_ - 1;
}

void EventStream::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

}  // namespace statenet::server
