// VmLimits: one Lua VM's call deadline (kept by a watchdog thread) and memory cap (kept
// by its allocator), and CallLimit, the scope of one limited call.
#pragma once

#include <lua.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace statenet::detail {

/// What the runtime reads through the FFI (`statenet_limits` in
/// stdlib/statenet/runtime.lua; same layout). Written by the VM's thread, except `stop`.
struct LimitsShared {
    std::atomic<std::uint32_t> call{0};  ///< odd while a limited call runs; each call a new value
    std::atomic<std::uint32_t> stop{0};  ///< the call the watchdog wants interrupted
    std::atomic<double> budget_ms{0};    ///< what the running call may take (read by the watchdog)
    double limit_ms = 0;                 ///< the setting to name in the Timeout message
    double memory_cap = 0;               ///< bytes; 0 = no cap
    std::int32_t kind = 0;               ///< a CallKind
    std::int32_t padding = 0;
};
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
static_assert(sizeof(std::atomic<double>) == sizeof(double) && std::atomic<double>::is_always_lock_free);

/// Why a call has the budget it has (the Timeout message names it).
enum class CallKind : std::int32_t { load = 0, call = 1, record = 2, state = 3 };

/// The limits of one VM. Not thread-safe, except that the watchdog reads `shared()`.
/// Must stay at one address while it is registered (it is, from install to its end).
class VmLimits {
public:
    /// `call_ms` <= 0: no call limit; `memory_bytes` 0: no cap.
    VmLimits(double call_ms, std::size_t memory_bytes) noexcept
        : call_ms_(call_ms), cap_(static_cast<std::int64_t>(memory_bytes)) {
        shared_.memory_cap = static_cast<double>(memory_bytes);
    }
    ~VmLimits();
    VmLimits(const VmLimits&) = delete;
    VmLimits& operator=(const VmLimits&) = delete;

    /// Counts `L`'s memory through its allocator and registers with the watchdog; the
    /// load phase is a limited call from here until the first begin_call.
    void install(lua_State* L);
    /// Gives `L` its own allocator back; call it right before lua_close. LuaJIT frees its
    /// allocator's arenas at close only when the state still uses that allocator: with
    /// the counting one in place every closed VM left its memory mapped.
    void uninstall(lua_State* L) noexcept;

    /// A limited call begins: the watchdog stops it `budget_ms` from now (0: never).
    void begin_call(double budget_ms, double limit_ms, CallKind kind) noexcept;
    void end_call() noexcept;

    double call_ms() const noexcept { return call_ms_; }
    LimitsShared* shared() noexcept { return &shared_; }
    /// The allocator refused memory since the last forget_refusal.
    bool refused() const noexcept { return refused_; }
    void forget_refusal() noexcept { refused_ = false; }

private:
    static void* allocate(void* self, void* block, std::size_t old_size, std::size_t new_size) noexcept;
    bool over_cap(std::size_t growth) const noexcept;

    LimitsShared shared_;
    double call_ms_;
    std::int64_t cap_;
    lua_State* L_ = nullptr;
    bool refused_ = false;
    bool installed_ = false;
    lua_Alloc base_alloc_ = nullptr;
    void* base_data_ = nullptr;
};

/// One limited call (a state's functions for one record): the budget is the call limit,
/// or what is left of the record's timeout_ms when that is less. After a call that ran
/// out of memory, a full collection gives the garbage back before the next one.
class CallLimit {
public:
    /// `record_left_ms` > 0: the record's deadline is that far (its timeout_ms is `timeout_ms`).
    /// `state_deadline_ms` > 0: the state's own `deadline_ms` (DeadlineExceeded, not Timeout).
    CallLimit(VmLimits& limits, lua_State* L, double record_left_ms = 0, double timeout_ms = 0,
              double state_deadline_ms = 0) noexcept;
    ~CallLimit();
    CallLimit(const CallLimit&) = delete;
    CallLimit& operator=(const CallLimit&) = delete;

private:
    VmLimits& limits_;
    lua_State* L_;
};

}  // namespace statenet::detail
