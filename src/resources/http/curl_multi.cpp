// CurlMulti: the thread's multi handle, its idle easy handles and its poll.
#include "resources/http/curl_multi.hpp"

#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <string>

namespace statenet::detail {

namespace {

// curl_global_init is not thread-safe on every libcurl build: run it once, before the
// first handle on any thread.
void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

CurlMulti& CurlMulti::for_thread() {
    thread_local CurlMulti multi;
    return multi;
}

CurlMulti::CurlMulti() {
    init_curl_once();
    multi_ = curl_multi_init();
    if (!multi_) throw std::runtime_error("libcurl: cannot create a multi handle");
}

CurlMulti::~CurlMulti() {
    for (CURL* easy : idle_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
}

CURL* CurlMulti::take_easy() {
    CURL* easy = nullptr;
    if (!idle_.empty()) {
        easy = idle_.back();
        idle_.pop_back();
        curl_easy_reset(easy);
    } else {
        easy = curl_easy_init();
        if (!easy) throw std::runtime_error("libcurl: cannot create an easy handle");
    }
    return easy;
}

void CurlMulti::give_easy(CURL* easy) noexcept {
    if (easy) idle_.push_back(easy);
}

void CurlMulti::start(Transfer& transfer) {
    transfer.done = false;
    transfer.result = CURLE_OK;
    curl_easy_setopt(transfer.easy, CURLOPT_PRIVATE, &transfer);
    const CURLMcode code = curl_multi_add_handle(multi_, transfer.easy);
    if (code != CURLM_OK) throw std::runtime_error(std::string("libcurl: ") + curl_multi_strerror(code));
    // Starts connecting now rather than at the first poll.
    perform();
}

void CurlMulti::abandon(Transfer& transfer) noexcept {
    if (!transfer.done) curl_multi_remove_handle(multi_, transfer.easy);
    transfer.done = true;
}

void CurlMulti::perform() {
    curl_multi_perform(multi_, &running_);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
        if (message->msg != CURLMSG_DONE) continue;
        Transfer* transfer = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&transfer));
        const CURLcode result = message->data.result;
        curl_multi_remove_handle(multi_, message->easy_handle);
        if (transfer) {
            transfer->result = result;
            transfer->done = true;
        }
    }
}

void CurlMulti::poll(int timeout_ms) {
    if (!deadlines_.empty()) {
        const auto until = *deadlines_.begin() - SteadyClock::now();
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until).count();
        timeout_ms = static_cast<int>(std::clamp<long long>(ms, 0, timeout_ms));
    }
    // curl_multi_poll also wakes at libcurl's own timeouts, and sleeps the whole
    // timeout when nothing runs: it is the timer of a backoff too.
    if (timeout_ms > 0) curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
    perform();
}

CurlMulti::Deadline::Deadline(CurlMulti& multi, SteadyClock::time_point at)
    : multi_(multi), it_(multi.deadlines_.insert(at)) {}

CurlMulti::Deadline::~Deadline() { multi_.deadlines_.erase(it_); }

void CurlMulti::sleep_until(SteadyClock::time_point at) {
    if (SteadyClock::now() >= at) return;
    Deadline deadline(*this, at);
    wait_for([at] { return SteadyClock::now() >= at; }, *this);
}

}  // namespace statenet::detail
