// FakeApi: the test suite's HTTP server on 127.0.0.1 (an ephemeral port): JSON
// endpoints, delays, failures, 429 with Retry-After, header echo, connection counts and
// a deterministic OpenAI-compatible chat/embeddings endpoint. See fake_api.cpp for the
// routes. Used in-process by the doctest suite and as the `fake_api_server` binary.
#pragma once

#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace statenet_test {

class FakeApi {
public:
    FakeApi();
    ~FakeApi();
    FakeApi(const FakeApi&) = delete;
    FakeApi& operator=(const FakeApi&) = delete;

    /// Binds 127.0.0.1 on an ephemeral port and serves on a thread; returns the port.
    int start();
    /// Binds, then serves on the calling thread until stop() (the binary's main).
    int bind();
    void serve();
    void stop();

    int port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    /// Connections and requests seen since the last reset().
    int connections();
    int requests() const noexcept { return requests_.load(); }
    /// The most /delay requests in progress at once since the last reset().
    int max_concurrent() const noexcept { return most_delaying_.load(); }
    void reset();
    /// While down, /down and /health answer 500 and 503.
    void set_down(bool down) noexcept { down_ = down; }

private:
    httplib::Server server_;
    std::thread thread_;
    int port_ = 0;
    std::mutex mutex_;
    std::set<std::pair<std::string, int>> peers_;
    std::map<std::string, int> counts_;
    std::map<std::string, std::string> kv_;  // /kv
    std::atomic<int> requests_{0};
    std::atomic<int> delaying_{0};
    std::atomic<int> most_delaying_{0};
    std::atomic<bool> down_{false};

    void routes();
    int next_count(const std::string& key);
};

}  // namespace statenet_test
