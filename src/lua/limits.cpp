// VmLimits: the watchdog thread that interrupts over-long calls, and the counting allocator.
#include "lua/limits.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace statenet::detail {

namespace {

using steady = std::chrono::steady_clock;

/// One thread for every VM of the process. Each tick it looks at each VM's current call:
/// a call it has seen running for longer than its budget gets `stop` set, which the
/// runtime's loop and function-entry checks turn into a Timeout error. The VM's thread
/// never reads a clock or makes a system call for this: a call costs two stores.
class Watchdog {
public:
    /// Never destroyed: a VM may outlive static destruction (a Workflow held by a
    /// static), and the thread only waits once no VM is left.
    static Watchdog& instance() {
        static Watchdog* dog = new Watchdog;
        return *dog;
    }

    void add(LimitsShared* vm) {
        std::lock_guard lock(mutex_);
        watched_.push_back({vm, 0, {}});
        if (!started_) {
            std::thread([this] { loop(); }).detach();
            started_ = true;
        }
        wake_.notify_one();
    }

    void remove(LimitsShared* vm) {
        std::lock_guard lock(mutex_);
        std::erase_if(watched_, [&](const Watched& w) { return w.vm == vm; });
    }

private:
    /// A call is timed from when the watchdog first sees it, so it may run up to one
    /// tick longer than its budget.
    static constexpr auto tick = std::chrono::milliseconds(10);

    struct Watched {
        LimitsShared* vm;
        std::uint32_t call;  // the call last seen running
        steady::time_point since;
    };

    void loop() {
        std::unique_lock lock(mutex_);
        for (;;) {
            if (watched_.empty()) {
                wake_.wait(lock);
                continue;
            }
            wake_.wait_for(lock, tick);
            const auto now = steady::now();
            for (Watched& w : watched_) check(w, now);
        }
    }

    static void check(Watched& w, steady::time_point now) {
        const std::uint32_t call = w.vm->call.load(std::memory_order_acquire);
        if ((call & 1) == 0) return;
        if (call != w.call) {
            w.call = call;
            w.since = now;
            return;
        }
        const double budget = w.vm->budget_ms.load(std::memory_order_relaxed);
        if (budget <= 0 || w.vm->stop.load(std::memory_order_relaxed) == call) return;
        if (std::chrono::duration<double, std::milli>(now - w.since).count() >= budget)
            w.vm->stop.store(call, std::memory_order_release);
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Watched> watched_;
    bool started_ = false;
};

}  // namespace

VmLimits::~VmLimits() {
    if (installed_) Watchdog::instance().remove(&shared_);
}

void VmLimits::install(lua_State* L) {
    L_ = L;
    base_alloc_ = lua_getallocf(L, &base_data_);
    lua_setallocf(L, allocate, this);
    begin_call(call_ms_, call_ms_, CallKind::load);
    Watchdog::instance().add(&shared_);
    installed_ = true;
}

void VmLimits::uninstall(lua_State* L) noexcept {
    if (base_alloc_) lua_setallocf(L, base_alloc_, base_data_);
}

void VmLimits::begin_call(double budget_ms, double limit_ms, CallKind kind) noexcept {
    shared_.budget_ms.store(budget_ms, std::memory_order_relaxed);
    shared_.limit_ms = limit_ms;
    shared_.kind = static_cast<std::int32_t>(kind);
    const std::uint32_t call = shared_.call.load(std::memory_order_relaxed);
    shared_.call.store((call | 1) + 2, std::memory_order_release);
}

void VmLimits::end_call() noexcept {
    const std::uint32_t call = shared_.call.load(std::memory_order_relaxed);
    shared_.call.store((call | 1) + 1, std::memory_order_release);
}

// The allocator looks only at large blocks, so the many small ones cost one comparison;
// the runtime's tick looks at the total every so often (a list built of small tables
// grows by no large block). The cap holds only while a limited call runs (user code
// may be running): the engine's own calls between records never see a refusal.
constexpr std::size_t large_block = 16 * 1024;

bool VmLimits::over_cap(std::size_t growth) const noexcept {
    if (cap_ <= 0 || (shared_.call.load(std::memory_order_relaxed) & 1) == 0) return false;
    // LuaJIT's own count of the VM's bytes (garbage not yet collected included); reading
    // it allocates nothing.
    const std::int64_t total = std::int64_t{lua_gc(L_, LUA_GCCOUNT, 0)} * 1024;
    return total + static_cast<std::int64_t>(growth) > cap_;
}

void* VmLimits::allocate(void* self, void* block, std::size_t old_size, std::size_t new_size) noexcept {
    auto* limits = static_cast<VmLimits*>(self);
    if (new_size >= large_block) {
        const std::size_t old_bytes = block ? old_size : 0;
        if (new_size > old_bytes && limits->over_cap(new_size - old_bytes)) {
            limits->refused_ = true;
            return nullptr;
        }
    }
    return limits->base_alloc_(limits->base_data_, block, old_size, new_size);
}

CallLimit::CallLimit(VmLimits& limits, lua_State* L, double record_left_ms, double timeout_ms,
                     double state_deadline_ms) noexcept
    : limits_(limits), L_(L) {
    limits.forget_refusal();  // a refusal while loading, caught there, is not this call's
    const double call_ms = limits.call_ms();
    auto tighter = [](double ms, double than) { return ms > 0 && (than <= 0 || ms < than); };
    if (tighter(state_deadline_ms, call_ms) && tighter(state_deadline_ms, record_left_ms))
        limits.begin_call(state_deadline_ms, state_deadline_ms, CallKind::state);
    else if (tighter(record_left_ms, call_ms)) limits.begin_call(record_left_ms, timeout_ms, CallKind::record);
    else limits.begin_call(call_ms, call_ms, CallKind::call);
}

CallLimit::~CallLimit() {
    limits_.end_call();
    if (limits_.refused()) {
        limits_.forget_refusal();
        lua_gc(L_, LUA_GCCOLLECT, 0);
    }
}

}  // namespace statenet::detail
