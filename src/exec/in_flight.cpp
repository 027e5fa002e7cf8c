// InFlight: fibers (ucontext) over leased runners, switched when a record waits.
#include "exec/in_flight.hpp"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace statenet::detail {

namespace {

/// A fiber's C stack: LuaJIT runs Lua on its own heap stacks, so this holds only the C
/// frames of a record's run (the executor, Lua C calls, SQLite, libcurl callbacks).
constexpr std::size_t stack_bytes = 512 * 1024;

/// The fiber being started: makecontext passes no pointer portably.
thread_local InFlight* starting = nullptr;

}  // namespace

struct InFlight::Scheduler {
    ucontext_t context{};
};

struct InFlight::Fiber {
    enum class State { idle, runnable, waiting };
    ucontext_t context{};
    void* stack = MAP_FAILED;
    std::unique_ptr<Runner> runner;
    State state = State::idle;
    const std::function<bool()>* ready = nullptr;  // while waiting
    Poller* poller = nullptr;                      // while waiting

    ~Fiber() {
        if (stack != MAP_FAILED) munmap(stack, stack_bytes);
    }
};

unsigned in_flight_slots(const Model& model, unsigned requested) {
    if (!model.uses_yielding_resources()) return 1;
    if (requested) return requested;
    if (model.in_flight > 0) return static_cast<unsigned>(model.in_flight);
    // Records that wait only on postgres each hold a pooled connection while in flight:
    // more of them than connections would only wait for one (and end batches early).
    int pool = 0;
    for (const auto& r : model.resources) {
        if (r.network()) return 64;
        if (r.type == "postgres") pool = pool == 0 ? r.pool : std::min(pool, r.pool);
    }
    return static_cast<unsigned>(std::max(1, pool));
}

InFlight::InFlight(std::shared_ptr<RunnerPool> runners, unsigned slots)
    : runners_(std::move(runners)), slots_(std::max(1u, slots)), scheduler_(std::make_unique<Scheduler>()) {}

InFlight::~InFlight() {
    // An idle fiber's stack holds only fiber_main's loop (no objects to destroy), so
    // dropping it is safe; its runner goes back to the pool.
    for (auto& f : fibers_)
        if (f->runner) runners_->release(std::move(f->runner));
}

InFlight::Fiber& InFlight::fiber(std::size_t k) {
    while (fibers_.size() <= k) {
        auto f = std::make_unique<Fiber>();
        f->runner = runners_->acquire();
        // A guard page below the stack turns an overflow into a crash, not corruption.
        f->stack = mmap(nullptr, stack_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (f->stack == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "in-flight fiber stack");
        mprotect(f->stack, static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), PROT_NONE);
// GCC 12 warns falsely about getcontext (a returns_twice function) here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
        getcontext(&f->context);
#pragma GCC diagnostic pop
        f->context.uc_stack.ss_sp = f->stack;
        f->context.uc_stack.ss_size = stack_bytes;
        f->context.uc_link = nullptr;  // fiber_main never returns
        makecontext(&f->context, &InFlight::fiber_main, 0);
        f->state = Fiber::State::runnable;
        starting = this;
        running_ = f.get();
        fibers_.push_back(std::move(f));
        // Runs fiber_main up to its first switch back (it takes no record yet).
        swapcontext(&scheduler_->context, &running_->context);
        running_ = nullptr;
    }
    return *fibers_[k];
}

void InFlight::fiber_main() {
    InFlight* self = starting;
    Fiber* me = self->running_;
    for (;;) {
        me->state = Fiber::State::idle;
        swapcontext(&me->context, &self->scheduler_->context);
        self->serve(*me);
    }
}

// A fiber's turn: records from the current run() until none is left.
void InFlight::serve(Fiber& f) {
    while (next_ < count_) {
        const std::size_t index = next_++;
        try {
            (*work_)(index, *f.runner);
        } catch (...) {
            if (!failure_) failure_ = std::current_exception();
            next_ = count_;
        }
    }
}

void InFlight::resume(Fiber& f) {
    f.state = Fiber::State::runnable;
    running_ = &f;
    swapcontext(&scheduler_->context, &f.context);
    running_ = nullptr;
}

void InFlight::wait_until(const std::function<bool()>& ready, Poller& poller) {
    if (!running_) {  // called outside a fiber: nothing to switch to
        while (!ready()) poller.poll(100);
        return;
    }
    Fiber& me = *running_;
    me.ready = &ready;
    me.poller = &poller;
    me.state = Fiber::State::waiting;
    swapcontext(&me.context, &scheduler_->context);
    me.ready = nullptr;
    me.poller = nullptr;
}

/// A scheduler running inside another's fiber (a record's parallel branches or map items,
/// when the record is itself in flight) waits through that one while all its fibers wait,
/// so the other records go on meanwhile; this polls what its fibers wait on.
struct InFlight::Nested final : Poller {
    InFlight& self;
    explicit Nested(InFlight& s) : self(s) {}
    void poll(int timeout_ms) override { self.poll_waiting(timeout_ms); }
};

bool InFlight::any_ready(std::size_t used) const {
    for (std::size_t k = 0; k < used; ++k)
        if (fibers_[k]->state == Fiber::State::waiting && (*fibers_[k]->ready)()) return true;
    return false;
}

// Every fiber waits: poll what they wait on, then wake the ones whose wait is over.
void InFlight::poll_waiting(int max_ms) {
    std::vector<Poller*> pollers;
    for (auto& f : fibers_)
        if (f->state == Fiber::State::waiting && std::find(pollers.begin(), pollers.end(), f->poller) == pollers.end())
            pollers.push_back(f->poller);
    // One source of I/O may block until something happens; several take short turns.
    const int timeout_ms = std::min(max_ms, pollers.size() == 1 ? 100 : 1);
    for (Poller* p : pollers) p->poll(timeout_ms);
}

void InFlight::run(std::size_t count, const Work& work) {
    if (count == 0) return;
    Waiter* previous = install(this);
    work_ = &work;
    count_ = count;
    next_ = 0;
    failure_ = nullptr;
    const std::size_t used = std::min<std::size_t>(slots_, count);
    try {
        for (std::size_t k = 0; k < used; ++k) fiber(k);
    } catch (...) {
        install(previous);
        throw;
    }
    for (std::size_t k = 0; k < used; ++k) resume(*fibers_[k]);
    for (;;) {
        bool busy = false, woke = false;
        for (std::size_t k = 0; k < used; ++k) {
            Fiber& f = *fibers_[k];
            if (f.state != Fiber::State::waiting) continue;
            busy = true;
            if ((*f.ready)()) {
                resume(f);
                woke = true;
            }
        }
        if (!busy) break;
        if (woke) continue;
        if (previous) {
            Nested nested(*this);
            install(previous);
            previous->wait_until([this, used] { return any_ready(used); }, nested);
            install(this);
        } else {
            poll_waiting(100);
        }
    }
    work_ = nullptr;
    install(previous);
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

std::string InFlight::flush() {
    std::string errors;
    for (auto& f : fibers_)
        if (auto error = f->runner->flush()) errors += (errors.empty() ? "" : "; ") + *error;
    return errors;
}

}  // namespace statenet::detail
