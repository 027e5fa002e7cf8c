// Machines with push arcs: an instance enters a sub-network, waits for its events
// there and returns; its push stack survives a reopen of the store and a reload.
#include "machines_helpers.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <cstdlib>
#include <stdexcept>

using namespace statenet;
using machines_test::json;
using machines_test::write;
namespace fs = std::filesystem;

namespace {

/// A scratch directory of its own (mkdtemp: suites run concurrently).
fs::path temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "statenet_push_XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

// A form filled in a sub-network (copy isolation, merged back), a lookup that sees only
// what map_in gives it and returns through map_out, and a nested confirmation.
constexpr const char* forms = R"toml(
name = "forms"

[networks.main.states.idle]
start = true
[[networks.main.states.idle.arcs]]
push = "form"
on = "open_form"
return_to = "review"
[[networks.main.states.idle.arcs]]
push = "lookup"
on = "lookup"
return_to = "idle"
map_in = { user = "who" }
map_out = { answer = "result" }

[networks.main.states.review]
[[networks.main.states.review.arcs]]
to = "done"
on = "accept"

[networks.main.states.done]
end = true

[networks.form.states.ask_name]
start = true
[[networks.form.states.ask_name.arcs]]
to = "ask_age"
on = "name"
transform = { lua = "data.name = ctx.event.name" }

[networks.form.states.ask_age]
[[networks.form.states.ask_age.arcs]]
to = "checked"
on = "age"
transform = { lua = "data.age = ctx.event" }

[networks.form.states.checked]
# an immediate push arc: a nested sub-network, returning here
[[networks.form.states.checked.arcs]]
push = "confirm"
return_to = "filled"

[networks.form.states.filled]
end = true

[networks.confirm.states.waiting]
start = true
[[networks.confirm.states.waiting.arcs]]
to = "yes"
on = "confirm"
transform = { lua = "data.confirmed = true" }
[[networks.confirm.states.waiting.arcs]]
to = "waiting"
after_ms = 1000
transform = { lua = "data.reminded = (data.reminded or 0) + 1" }

[networks.confirm.states.yes]
end = true

[networks.lookup.states.asking]
start = true
transform = { lua = "local seen = {}; for k in pairs(data) do seen[#seen + 1] = k end; table.sort(seen); data.seen = seen" }
[[networks.lookup.states.asking.arcs]]
to = "answered"
on = "answer"
transform = { lua = "data.answer = data.who .. ': ' .. ctx.event" }

[networks.lookup.states.answered]
end = true
)toml";

MachinesOptions options_for(const fs::path& store, std::shared_ptr<ManualClock> clock = nullptr) {
    MachinesOptions o;
    o.store = store;
    o.clock = clock ? std::move(clock) : std::make_shared<ManualClock>(1000);
    return o;
}

std::vector<std::string> stack_states(const InstanceInfo& info) {
    std::vector<std::string> out;
    for (const auto& f : info.stack) out.push_back(f.state + ">" + f.network);
    return out;
}

}  // namespace

TEST_CASE("machines push - an instance enters a sub-network, takes events there and returns") {
    auto dir = temp_dir();
    write(dir / "forms.toml", forms);
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        Engine engine;
        Machines m(engine, dir / "forms.toml", options_for(durable ? dir / "a.db" : fs::path()));
        m.start("f", json(R"({"user": "ana"})"));
        auto r = m.send("f", "open_form");
        CHECK(r.status == SendStatus::applied);
        CHECK(r.from == "main/idle");
        CHECK(r.to == "form/ask_name");
        auto info = m.get("f");
        CHECK(info->network == "form");
        REQUIRE(info->stack.size() == 1);
        CHECK(info->stack[0].state == "main/idle");
        CHECK(info->stack[0].network == "form");
        CHECK(info->stack[0].return_to == "main/review");
        // It waits inside the sub-network: that state's events, no one else's.
        CHECK(m.accepts("f") == std::vector<std::string>{"name"});
        r = m.send("f", "accept");
        CHECK(r.status == SendStatus::rejected);
        CHECK(r.reason.find("no arc for event 'accept' in state form/ask_name") == 0);
        CHECK(m.send("f", "name", json(R"({"name": "Ana"})")).to == "form/ask_age");
        // Copy isolation: the sub-network works on a copy of the caller's data.
        CHECK(m.get("f")->data == json(R"({"user": "ana", "name": "Ana"})"));
        r = m.send("f", "age", json("7"));
        REQUIRE(r.status == SendStatus::applied);
        // `checked` pushes at once into `confirm` (nested): two frames.
        CHECK(r.to == "confirm/waiting");
        info = m.get("f");
        CHECK(stack_states(*info) == std::vector<std::string>{"main/idle>form", "form/checked>confirm"});
        CHECK(info->stack[1].return_to == "form/filled");
        // A timer of the sub-network's state fires like any other.
        auto fired = m.tick(1000 + 1000);
        REQUIRE(fired.size() == 1);
        CHECK(fired[0].to == "confirm/waiting");
        r = m.send("f", "confirm");
        // confirm ends -> back in form/filled (an end) -> back in main/review.
        CHECK(r.status == SendStatus::applied);
        CHECK(r.to == "main/review");
        CHECK_FALSE(r.completed);
        info = m.get("f");
        CHECK(info->stack.empty());
        CHECK(info->data == json(R"({"user": "ana", "name": "Ana", "age": 7, "confirmed": true, "reminded": 1})"));
        CHECK(m.send("f", "accept").to == "main/done");
        CHECK(m.get("f")->completed);

        // map_in / map_out: the sub-network sees only `who`; only `result` comes back, and
        // the caller's other fields are kept (stored with the frame between events).
        m.start("l", json(R"({"user": "bo", "other": [1, 2]})"));
        CHECK(m.send("l", "lookup").to == "lookup/asking");
        CHECK(m.get("l")->data["seen"] == json(R"(["who"])"));
        r = m.send("l", "answer", json(R"("42")"));
        CHECK(r.to == "main/idle");
        CHECK(m.get("l")->data == json(R"({"user": "bo", "other": [1, 2], "result": "bo: 42"})"));
        CHECK(m.get("l")->stack.empty());
    }
}

TEST_CASE("machines push - the stack survives reopening a SQLite store, also one written before push arcs") {
    auto dir = temp_dir();
    write(dir / "forms.toml", forms);
    const fs::path db = dir / "old.db";
    {
        Engine engine;
        Machines m(engine, dir / "forms.toml", options_for(db));
        m.start("x", json(R"({"user": "cy"})"));
    }
    {
        // A store written before push arcs had no `stack` column.
        SQLite::Database raw(db.string(), SQLite::OPEN_READWRITE);
        raw.exec("ALTER TABLE statenet_instances DROP COLUMN stack");
    }
    {
        Engine engine;
        Machines m(engine, dir / "forms.toml", options_for(db));
        CHECK(m.get("x")->state == "main/idle");
        m.start("y", json(R"({"user": "dee", "keep": {"deep": true}})"));
        CHECK(m.send("y", "lookup").to == "lookup/asking");
        CHECK(m.send("x", "open_form").to == "form/ask_name");
        CHECK(m.send("x", "name", json(R"({"name": "Cy"})")).to == "form/ask_age");
    }
    Engine engine;
    Machines m(engine, dir / "forms.toml", options_for(db));
    auto info = m.get("x");
    CHECK(info->state == "form/ask_age");
    CHECK(stack_states(*info) == std::vector<std::string>{"main/idle>form"});
    CHECK(m.send("x", "age", json("30")).to == "confirm/waiting");
    CHECK(m.send("x", "confirm").to == "main/review");
    CHECK(m.get("x")->data == json(R"({"user": "cy", "name": "Cy", "age": 30, "confirmed": true})"));
    // The caller's data, kept in the store while the sub-network ran on `who` alone.
    CHECK(m.get("y")->data == json(R"({"who": "dee", "seen": ["who"]})"));
    CHECK(m.send("y", "answer", json(R"("ok")")).to == "main/idle");
    CHECK(m.get("y")->data == json(R"({"user": "dee", "keep": {"deep": true}, "result": "dee: ok"})"));
}

TEST_CASE("machines push - failures in a sub-network: its retry, the pushing state's on_error, or rejected") {
    auto dir = temp_dir();
    write(dir / "pay.toml", R"toml(
name = "pay"

[networks.main.states.cart]
start = true
[[networks.main.states.cart.arcs]]
to = "checkout"
on = "checkout"

[networks.main.states.checkout]
transform = { lua = "data.entered = (data.entered or 0) + 1" }
on_error = { errors = ["Declined"], to = "declined" }
[[networks.main.states.checkout.arcs]]
push = "pay"
on = "pay"
return_to = "paid"

[networks.main.states.paid]
end = true

[networks.main.states.declined]
transform = { lua = "data.why = ctx.error.name .. ' in ' .. ctx.error.state" }
[[networks.main.states.declined.arcs]]
to = "checkout"
on = "retry"

[networks.pay.states.card]
start = true
transform = { lua = "data.in_pay = true" }
[[networks.pay.states.card.arcs]]
to = "charge"
on = "charge"

[networks.pay.states.charge]
transform = { lua = """
data.tries = ctx.attempt + 1
if ctx.event == 'flaky' and data.tries < 3 then error({ name = 'Flaky', message = 'busy' }) end
if ctx.event == 'decline' then error({ name = 'Declined', message = 'no funds' }) end
if ctx.event == 'bug' then error('a bug') end
""" }
retry = { errors = ["Flaky"], attempts = 3, interval_ms = 0 }
[[networks.pay.states.charge.arcs]]
to = "ok"

[networks.pay.states.ok]
end = true
)toml");
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        Engine engine;
        Machines m(engine, dir / "pay.toml", options_for(durable ? dir / "pay.db" : fs::path()));
        // The sub-network state's own retry.
        m.start("a");
        m.send("a", "checkout");
        CHECK(m.send("a", "pay").to == "pay/card");
        auto r = m.send("a", "charge", json(R"("flaky")"));
        CHECK(r.to == "main/paid");
        CHECK(r.completed);
        CHECK(m.get("a")->data["tries"].as_int() == 3);

        // Nothing in the sub-network catches Declined: the pushing state fails, rolled
        // back to its entry (no in_pay, entered as before), and its on_error routes.
        m.start("b");
        m.send("b", "checkout");
        m.send("b", "pay");
        r = m.send("b", "charge", json(R"("decline")"));
        CHECK(r.status == SendStatus::applied);
        CHECK(r.to == "main/declined");
        auto info = m.get("b");
        CHECK(info->stack.empty());
        CHECK(info->data == json(R"({"entered": 1, "why": "Declined in pay/charge"})"));
        CHECK(m.send("b", "retry").to == "main/checkout");
        CHECK(m.get("b")->data["entered"].as_int() == 2);

        // Nothing catches a LuaError: the event is rejected, the instance unchanged,
        // still inside the sub-network.
        m.start("c");
        m.send("c", "checkout");
        m.send("c", "pay");
        const auto before = m.get("c");
        r = m.send("c", "charge", json(R"("bug")"));
        CHECK(r.status == SendStatus::rejected);
        REQUIRE(r.error);
        CHECK(r.error->name == "LuaError");
        CHECK(r.error->state == "pay/charge");
        auto after = m.get("c");
        CHECK(after->state == "pay/card");
        CHECK(after->data == before->data);
        CHECK(after->version == before->version);
        CHECK(stack_states(*after) == std::vector<std::string>{"main/checkout>pay"});
        CHECK(m.send("c", "charge").to == "main/paid");
    }
}

TEST_CASE("machines push - share isolation, ending without return_to, and the depth limit") {
    auto dir = temp_dir();
    write(dir / "deep.toml", R"toml(
name = "deep"

[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
push = "shared"
on = "share"
isolation = "share"
return_to = "a"
[[networks.main.states.a.arcs]]
push = "final"
on = "finish"
[[networks.main.states.a.arcs]]
push = "down"
on = "dive"
return_to = "a"

[networks.shared.states.s]
start = true
transform = { lua = "data.touched = true" }
[[networks.shared.states.s.arcs]]
to = "e"
on = "end"
[networks.shared.states.e]
end = true

[networks.final.states.f]
start = true
[[networks.final.states.f.arcs]]
to = "over"
on = "end"
[networks.final.states.over]
end = true

[networks.down.states.d]
start = true
transform = { lua = "data.depth = (data.depth or 0) + 1" }
[[networks.down.states.d.arcs]]
push = "down"
return_to = "d"
when = { lua = "return data.depth < data.max" }
[[networks.down.states.d.arcs]]
to = "bottom"
on = "up"
[networks.down.states.bottom]
end = true
)toml");
    Engine engine;
    Machines m(engine, dir / "deep.toml", options_for(dir / "deep.db"));
    m.start("s", json(R"({"x": 1})"));
    CHECK(m.send("s", "share").to == "shared/s");
    CHECK(m.get("s")->data == json(R"({"x": 1, "touched": true})"));
    CHECK(m.send("s", "end").to == "main/a");
    CHECK(m.get("s")->data == json(R"({"x": 1, "touched": true})"));

    // Without return_to the caller ends where the sub-network ends: the instance completes.
    m.start("f");
    m.send("f", "finish");
    auto r = m.send("f", "end");
    CHECK(r.to == "final/over");
    CHECK(r.completed);
    CHECK(m.get("f")->stack.empty());

    // 16 frames at most, as for records (the first push is the 'dive' arc).
    m.start("ok", json(R"({"max": 16})"));
    r = m.send("ok", "dive");
    CHECK(r.to == "down/d");
    CHECK(m.get("ok")->stack.size() == 16);
    r = m.send("ok", "up");  // the innermost ends: its caller is back in d (depth 17 now), waiting
    CHECK(r.to == "down/d");
    CHECK(m.get("ok")->stack.size() == 15);
    m.start("too_deep", json(R"({"max": 17})"));
    r = m.send("too_deep", "dive");
    CHECK(r.status == SendStatus::rejected);
    REQUIRE(r.error);
    CHECK(r.error->name == "PushFailed");
    CHECK(r.error->message == "push depth limit (16) exceeded pushing into network 'down'");
    CHECK(m.get("too_deep")->state == "main/a");
}

TEST_CASE("machines push - a reload keeps the stack; one that removes the push arc orphans the instance") {
    auto dir = temp_dir();
    write(dir / "forms.toml", forms);
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        write(dir / "forms.toml", forms);
        Engine engine;
        Machines m(engine, dir / "forms.toml", options_for(durable ? dir / "reload.db" : fs::path()));
        m.start("r", json(R"({"user": "ed"})"));
        m.send("r", "open_form");
        auto report = m.reload();
        CHECK(report.ok);
        CHECK(report.orphaned.empty());
        CHECK(m.send("r", "name", json(R"({"name": "Ed"})")).to == "form/ask_age");

        std::string changed = forms;
        const std::string arc =
            "[[networks.main.states.idle.arcs]]\npush = \"form\"\non = \"open_form\"\nreturn_to = \"review\"";
        changed.replace(changed.find(arc), arc.size(),
                        "[[networks.main.states.idle.arcs]]\nto = \"review\"\non = \"open_form\"");
        write(dir / "forms.toml", changed);
        report = m.reload();
        CHECK(report.ok);
        CHECK(report.orphaned == std::vector<std::string>{"r"});
        CHECK(m.get("r")->orphaned);
        auto r = m.send("r", "age", json("1"));
        CHECK(r.status == SendStatus::rejected);
        CHECK(
            r.reason ==
            "its push stack no longer fits the workflow: state main/idle no longer has a push arc into network 'form'");

        write(dir / "forms.toml", forms);
        report = m.reload();
        CHECK(report.orphaned.empty());
        CHECK(m.send("r", "age", json("1")).to == "confirm/waiting");
        CHECK(m.send("r", "confirm").to == "main/review");
        CHECK(m.get("r")->data == json(R"({"user": "ed", "name": "Ed", "age": 1, "confirmed": true})"));
    }
}

TEST_CASE("machines push - the pushing state's retry runs it again from its entry; the event goes on from there") {
    auto dir = temp_dir();
    write(dir / "again.toml", R"toml(
name = "again"

[networks.main.states.start]
start = true
transform = { lua = "data.tries = ctx.attempt + 1" }
retry = { errors = ["Busy"], attempts = 1, interval_ms = 0 }
[[networks.main.states.start.arcs]]
push = "job"
return_to = "finished"

[networks.main.states.finished]
end = true

[networks.job.states.queued]
start = true
transform = { lua = "data.in_job = true" }
[[networks.job.states.queued.arcs]]
to = "run"
on = "run"
transform = { lua = "data.picked = true" }

[networks.job.states.run]
# no retry or on_error here: a failure goes up to main/start
transform = { lua = "if ctx.event == 'busy' then error({ name = 'Busy', message = 'later' }) end" }
[[networks.job.states.run.arcs]]
to = "ok"
[networks.job.states.ok]
end = true
)toml");
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        Engine engine;
        Machines m(engine, dir / "again.toml", options_for(durable ? dir / "again.db" : fs::path()));
        m.start("j");
        CHECK(m.get("j")->state == "job/queued");
        CHECK(m.get("j")->data == json(R"({"tries": 1, "in_job": true})"));
        // Busy in the sub-network: main/start runs again (attempt 1) on its entry data and
        // pushes again; what the failed sub-network did (picked) is gone.
        auto r = m.send("j", "run", json(R"("busy")"));
        CHECK(r.status == SendStatus::applied);
        CHECK(r.to == "job/queued");
        CHECK(m.get("j")->data == json(R"({"tries": 2, "in_job": true})"));
        CHECK(m.get("j")->stack.size() == 1);
        // Retries count within an event: the next Busy is retried too.
        CHECK(m.send("j", "run", json(R"("busy")")).to == "job/queued");
        r = m.send("j", "run");
        CHECK(r.to == "main/finished");
        CHECK(r.completed);
        CHECK(m.get("j")->data == json(R"({"tries": 2, "in_job": true, "picked": true})"));
    }
}
