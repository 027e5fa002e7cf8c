// Supervision benchmark (issue 16): a supervisor tick over 100 children, one reconcile
// operation (a changed spec delivered as spec_changed), one strict template render —
// each against its target and a baseline measured in the same run.
//
//   build/bench/supervise_bench [ROUNDS]
#include "supervise/supervise_vm.hpp"

#include <statenet/statenet.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <utility>
#include <vector>

#include <stdlib.h>

using namespace statenet;

namespace {

const std::string pack = std::string(STATENET_BENCH_DIR) + "/supervise/pack.lua";

template <class F, class S>
double median_us(int rounds, F&& work, S&& setup) {
    std::vector<double> us;
    for (int i = 0; i < rounds; ++i) {
        setup(i);  // not timed
        const auto begin = std::chrono::steady_clock::now();
        work(i);
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin).count());
    }
    std::sort(us.begin(), us.end());
    return us[us.size() / 2];
}

template <class F>
double median_us(int rounds, F&& work) {
    return median_us(rounds, std::forward<F>(work), [](int) {});
}

void line(const char* what, double us, double target_us, const char* baseline, double baseline_us) {
    fmt::print("{:<42} {:>9.2f} us   target < {:g} us: {:.0f}% of it   baseline ({}) {:.2f} us: x{:.1f}\n", what, us,
               target_us, 100 * us / target_us, baseline, baseline_us, us / baseline_us);
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 2000;
    Engine engine;
    Supervisor supervisor(engine, pack);
    supervisor.machines().start("p", Value::object({{"count", 100}, {"host", "10.0.0.1"}, {"rev", 0}}));
    const SuperviseReport first = supervisor.tick();
    if (first.started != 100 || !first.errors.empty()) {
        fmt::print(stderr, "supervise_bench: the first tick started {} children\n", first.started);
        return 1;
    }
    // A tick with nothing to change: the parent did not move, so its children function
    // is not run; the 100 tree rows are checked (restarts, state mapping), timers fire.
    const double tick = median_us(rounds, [&](int) { supervisor.tick(); });
    // Baseline: the children's own machines ticked (timers only, no supervision).
    Machines& members = *supervisor.machines("member");
    const double plain_tick = median_us(rounds, [&](int) { members.tick(); });
    line("supervisor tick, 100 children", tick, 100, "Machines::tick of the 100", plain_tick);
    // The parent moved (an event its specs do not read): derive 100 specs, render and
    // diff them in Lua, nothing to apply. The event is sent before the timed tick.
    const double derived = median_us(
        rounds / 4, [&](int) { supervisor.tick(); },
        [&](int i) {
            supervisor.machines().send("p", "set", Value::object({{"note", i}}));
        });
    line("  the same after a parent event (derived)", derived, 100, "Machines::tick of the 100", plain_tick);

    // One reconcile operation: one child's spec changes (delivered as spec_changed);
    // the tick's own cost is the steady tick measured above.
    const double one_op = median_us(rounds / 4, [&](int i) {
        supervisor.machines().send("p", "set", Value::object({{"rev", i + 1}}));
        supervisor.tick();
    });
    const double send = median_us(rounds / 4, [&](int) { members.send("p/m1", "spec_changed", Value::object()); });
    line("reconcile: 100 specs changed, per op", (one_op - tick) / 100, 1000, "one Machines::send", send);

    // SQLite stores: the parent and 1,000 more root instances (no children); a tick lists
    // the roots without their data. Baseline: what listing them cost before (with data).
    char dir_template[] = "/tmp/supervise_bench_XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (!dir) {
        fmt::print(stderr, "supervise_bench: mkdtemp failed\n");
        return 1;
    }
    {
        MachinesOptions durable_options;
        durable_options.store = std::filesystem::path(dir) / "pack.db";
        Supervisor durable(engine, pack, durable_options);
        durable.machines().start("p", Value::object({{"count", 100}, {"host", "10.0.0.1"}, {"rev", 0}}));
        for (int i = 0; i < 1000; ++i)
            durable.machines().start(fmt::format("q{:04}", i), Value::object({{"count", 0}, {"rev", 0}}));
        durable.tick();
        const double durable_tick = median_us(rounds / 4, [&](int) { durable.tick(); });
        const double list_all = median_us(rounds / 4, [&](int) { durable.machines().list(); });
        ListOptions rows;
        rows.states = {"on"};
        rows.data = false;
        const double list_rows = median_us(rounds / 4, [&](int) { durable.machines().list(rows); });
        fmt::print(
            "{:<42} {:>9.2f} us   of which listing the roots without data {:.2f} us; baseline (Machines::list() "
            "of the roots, data read, as before) {:.2f} us: x{:.2f}\n",
            "tick, SQLite, 100 children + 1,000 roots", durable_tick, list_rows, list_all, durable_tick / list_all);
    }
    std::filesystem::remove_all(dir);

    detail::SuperviseVm vm(Workflow(engine.load(pack)), Value::object({{"region", "eu-1"}}));
    const Value user = Value::object({{"host", "10.0.0.1"}, {"port", 502}});
    const Value internal = Value::object({{"id", "p"}});
    const double render = median_us(rounds, [&](int) {
        vm.render("{{ user.host }}:{{ user.port }}/{{ global.region }}/{{ internal.id }}", user, internal);
    });
    const double plain = median_us(rounds, [&](int) { vm.render("10.0.0.1:502/eu-1/p", user, internal); });
    line("template render (4 placeholders)", render, 20, "a string without any", plain);
    return 0;
}
