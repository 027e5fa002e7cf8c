// Machines: events, timers, idempotency, audit, recovery, restarts and hot reload.
#include "machines_helpers.hpp"
#include "temp_dir.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using statenet::Engine;
using statenet::InstanceInfo;
using statenet::Machines;
using statenet::MachinesOptions;
using statenet::ManualClock;
using statenet::SendStatus;
using statenet::Value;

namespace fs = std::filesystem;
using machines_test::Chat;
using machines_test::chat_workflow;
using machines_test::json;
using machines_test::minute;
using machines_test::npc_dir;
using machines_test::scratch;
using machines_test::write;

TEST_CASE("machines - chat session happy path ends with a closure reason") {
    Chat chat;
    auto& m = chat.machines;
    auto started = m.start("s1", json(R"({"user":"ana"})"));
    CHECK(started.status == SendStatus::applied);
    CHECK(started.to == "session/IDLE");
    CHECK(m.send("s1", "start_update").to == "session/TASK_SELECTION");
    CHECK(m.send("s1", "message", json(R"({"text":"task 3"})")).to == "session/AWAITING_ACTION");
    CHECK(m.send("s1", "start_collection").to == "session/COLLECTING_DATA");
    CHECK(m.send("s1", "add_data", json(R"({"text":"fixed the login bug"})")).to == "session/COLLECTING_DATA");
    CHECK(m.send("s1", "message", json(R"({"text":"wrote tests"})")).to == "session/COLLECTING_DATA");
    CHECK(m.send("s1", "request_confirmation").to == "session/CONFIRMATION_PENDING");
    auto done = m.send("s1", "confirm");
    CHECK(done.status == SendStatus::applied);
    CHECK(done.to == "session/COMPLETED");
    CHECK(done.completed);

    InstanceInfo info = *m.get("s1");
    CHECK(info.completed);
    CHECK(info.data["closure_reason"] == Value("confirmed"));
    CHECK(info.data["task"] == Value("task-3"));
    CHECK(info.data["entries"].to_json() == R"(["fixed the login bug","wrote tests"])");
    CHECK(info.version == 8);

    auto after = m.send("s1", "cancel");
    CHECK(after.status == SendStatus::rejected);
    CHECK(after.reason.find("completed") != std::string::npos);
    CHECK(m.get("s1")->data["closure_reason"] == Value("confirmed"));
    CHECK(m.audit("s1").size() == 9);  // start, 7 events, the rejected cancel
}

TEST_CASE("machines - an event with no arc is rejected, audited, and leaves state and data unchanged") {
    auto dir = scratch("rejected");
    Chat chat(dir / "store.db");
    auto& m = chat.machines;
    m.start("s1");
    m.send("s1", "start_update");
    InstanceInfo before = *m.get("s1");
    auto r = m.send("s1", "confirm", {}, "k1");
    CHECK(r.status == SendStatus::rejected);
    CHECK(r.from == "session/TASK_SELECTION");
    CHECK(r.to == "session/TASK_SELECTION");
    CHECK(r.reason ==
          "no arc for event 'confirm' in state session/TASK_SELECTION; it accepts: cancel, force_abandon, "
          "message, reset, task_selected, timeout");
    InstanceInfo after = *m.get("s1");
    CHECK(after.state == before.state);
    CHECK(after.version == before.version);
    CHECK(after.data == before.data);
    auto audit = m.audit("s1");
    REQUIRE(audit.size() == 3);
    CHECK(audit.back().outcome == "rejected");
    CHECK(audit.back().event == "confirm");
    CHECK(audit.back().key == "k1");
    CHECK(audit.back().from == "session/TASK_SELECTION");
    CHECK(audit.back().reason == r.reason);
    // A guard that fails is a rejection too.
    auto guarded = m.send("s1", "task_selected", json(R"({"note":"no task"})"));
    CHECK(guarded.status == SendStatus::rejected);
    CHECK(guarded.reason.find("passed its condition") != std::string::npos);
    // The duplicate of a rejected send replays the rejection.
    auto again = m.send("s1", "confirm", {}, "k1");
    CHECK(again.status == SendStatus::duplicate);
    CHECK(again.first == SendStatus::rejected);
    CHECK(m.audit("s1").size() == 4);
    // An event no state knows gets a did-you-mean.
    CHECK(chat.machines.send("s1", "confrm").reason ==
          "no arc for event 'confrm' in state session/TASK_SELECTION (did you mean 'confirm'?); it accepts: cancel, "
          "force_abandon, message, reset, task_selected, timeout");
    CHECK_THROWS_AS(m.send("nobody", "start_update"), std::invalid_argument);
}

TEST_CASE("machines - the same message key sent from four threads applies exactly once") {
    auto dir = scratch("duplicates");
    Chat chat(dir / "store.db");
    auto& m = chat.machines;
    m.start("s1");
    m.send("s1", "start_update");
    m.send("s1", "task_selected", json(R"({"task":"T-1"})"));
    m.send("s1", "start_collection");
    std::atomic<int> applied{0}, duplicate{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            auto r = m.send("s1", "add_data", json(R"({"text":"same message"})"), "msg-42");
            if (r.status == SendStatus::applied) ++applied;
            if (r.status == SendStatus::duplicate && r.first == SendStatus::applied) ++duplicate;
        });
    for (auto& t : threads) t.join();
    CHECK(applied == 1);
    CHECK(duplicate == 3);
    CHECK(m.get("s1")->data["entries"].to_json() == R"(["same message"])");
    int add_rows = 0;
    for (const auto& row : m.audit("s1")) add_rows += row.event == "add_data";
    CHECK(add_rows == 1);
}

TEST_CASE("machines - four connections to one store sending the same key apply it once") {
    auto dir = scratch("duplicates_connections");
    {
        Chat setup(dir / "store.db");
        setup.machines.start("s1");
        setup.machines.send("s1", "start_update");
        setup.machines.send("s1", "task_selected", json(R"({"task":"T-1"})"));
        setup.machines.send("s1", "start_collection");
    }
    // One Machines (one SQLite connection) per thread: only the store's transaction
    // keeps them apart.
    std::vector<std::unique_ptr<Chat>> chats;
    for (int t = 0; t < 4; ++t) chats.push_back(std::make_unique<Chat>(dir / "store.db"));
    std::atomic<int> applied{0}, duplicate{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int k = 0; k < 5; ++k) {
                auto r = chats[t]->machines.send("s1", "add_data", json(R"({"text":"m"})"), "msg-" + std::to_string(k));
                if (r.status == SendStatus::applied) ++applied;
                if (r.status == SendStatus::duplicate) ++duplicate;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(applied == 5);
    CHECK(duplicate == 15);
    CHECK(chats[0]->machines.get("s1")->data["entries"].to_json() == R"(["m","m","m","m","m"])");
}

TEST_CASE("machines - a second process sending the same key sees a duplicate") {
    auto dir = scratch("two_processes");
    Chat a(dir / "store.db");
    Chat b(dir / "store.db");
    a.machines.start("s1");
    CHECK(b.machines.send("s1", "start_update", {}, "m1").status == SendStatus::applied);
    auto r = a.machines.send("s1", "start_update", {}, "m1");
    CHECK(r.status == SendStatus::duplicate);
    // A's cached copy was stale; it reloads the instance from the store.
    CHECK(a.machines.send("s1", "task_selected", json(R"({"task":"T"})")).to == "session/AWAITING_ACTION");
    CHECK(b.state("s1") == "session/AWAITING_ACTION");
}

TEST_CASE("machines - an unanswered clarification expires on tick and abandons the session") {
    Chat chat;
    auto& m = chat.machines;
    m.start("s1");
    m.send("s1", "start_update");
    auto help = m.send("s1", "message", json(R"({"text":"what do I do?"})"));
    CHECK(help.to == "session/CLARIFICATION");
    const double entered = chat.clock->now_ms();
    REQUIRE(m.get("s1")->timer_due_ms);
    CHECK(*m.get("s1")->timer_due_ms == entered + 5 * minute);
    CHECK(m.tick(entered + 5 * minute - 1).empty());
    CHECK(chat.state("s1") == "session/CLARIFICATION");
    auto fired = m.tick(entered + 5 * minute);
    REQUIRE(fired.size() == 1);
    CHECK(fired[0].event == "after_ms=300000");
    CHECK(fired[0].to == "session/ABANDONED");
    CHECK(m.get("s1")->data["closure_reason"] == Value("clarification_expired"));
    CHECK(m.audit("s1").back().event == "after_ms=300000");

    // Answered in time, the session resumes where it was.
    m.start("s2");
    m.send("s2", "start_update");
    m.send("s2", "message", json(R"({"text":"help"})"));
    CHECK(chat.state("s2") == "session/CLARIFICATION");
    CHECK(m.send("s2", "message", json(R"({"text":"3"})")).to == "session/TASK_SELECTION");
    CHECK_FALSE(m.get("s2")->timer_due_ms);
}

TEST_CASE("machines - P0 intents override the state's own message arcs") {
    Chat chat;
    auto& m = chat.machines;
    m.start("s1");
    m.send("s1", "start_update");
    m.send("s1", "task_selected", json(R"({"task":"T"})"));
    m.send("s1", "start_collection");
    // In COLLECTING_DATA a message is data, unless it is a P0 intent.
    CHECK(m.send("s1", "message", json(R"({"text":"help"})")).to == "session/CLARIFICATION");
    CHECK(m.send("s1", "message", json(R"({"text":"ok"})")).to == "session/COLLECTING_DATA");
    auto stop = m.send("s1", "message", json(R"({"text":"STOP please"})"));
    CHECK(stop.to == "session/ABANDONED");
    CHECK(stop.reason == "P0 override: STOP please");
    CHECK(m.get("s1")->data["closure_reason"] == Value("user_cancelled"));
    CHECK(m.get("s1")->data["entries"].to_json() == "[]");
}

TEST_CASE("machines - recovery abandons exactly the stale non-end sessions") {
    Chat chat;
    auto& m = chat.machines;
    for (const char* id : {"stale", "fresh", "done", "stale_idle"}) m.start(id);
    m.send("stale", "start_update");
    m.send("done", "force_abandon");
    chat.clock->advance(20 * minute);
    m.send("fresh", "start_update");
    chat.clock->advance(11 * minute);  // stale: 31 min idle; fresh: 11 min
    auto recovered = m.recover();
    REQUIRE(recovered.size() == 2);
    CHECK(recovered[0].instance == "stale");
    CHECK(recovered[1].instance == "stale_idle");
    CHECK(chat.state("stale") == "session/ABANDONED");
    CHECK(chat.state("stale_idle") == "session/ABANDONED");
    CHECK(m.get("stale")->data["closure_reason"] == Value("timeout"));
    CHECK(chat.state("fresh") == "session/TASK_SELECTION");
    CHECK(m.get("done")->data["closure_reason"] == Value("force_abandoned"));
    CHECK(m.recover().empty());
}

TEST_CASE("machines - a restarted process keeps its sessions, pending timers and recovers on open") {
    auto dir = scratch("restart");
    auto clock = std::make_shared<ManualClock>(1'000'000);
    {
        Chat chat(dir / "store.db", clock);
        chat.machines.start("waiting", json(R"({"user":"bo"})"));
        chat.machines.send("waiting", "start_update");
        chat.machines.send("waiting", "message", json(R"({"text":"?"})"));
        chat.machines.start("working");
        chat.machines.send("working", "start_update");
        chat.machines.send("working", "task_selected", json(R"({"task":"T"})"));
    }
    clock->advance(6 * minute);
    {
        Chat chat(dir / "store.db", clock);
        CHECK(chat.state("waiting") == "session/CLARIFICATION");
        CHECK(chat.machines.get("waiting")->data["user"] == Value("bo"));
        CHECK(chat.state("working") == "session/AWAITING_ACTION");
        auto fired = chat.machines.tick();
        REQUIRE(fired.size() == 1);
        CHECK(fired[0].instance == "waiting");
        CHECK(chat.state("waiting") == "session/ABANDONED");
    }
    clock->advance(31 * minute);
    {
        Chat chat(dir / "store.db", clock);  // recovery runs on open
        CHECK(chat.state("working") == "session/ABANDONED");
        CHECK(chat.machines.get("working")->data["closure_reason"] == Value("timeout"));
        CHECK(chat.machines.audit("working").back().event == "timeout");
    }
}

TEST_CASE("machines - start is idempotent by id and a failing start creates nothing") {
    auto dir = scratch("start");
    write(dir / "wf.toml", R"(
name = "start"
[networks.main.states.a]
start = true
validate = [{ lua = "data.n ~= nil" }]
[[networks.main.states.a.arcs]]
to = "b"
when = { lua = "data.n > 1" }
[[networks.main.states.a.arcs]]
to = "b"
on = "go"
[networks.main.states.b]
end = true
)");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    auto first = m.start("x", json(R"({"n":1})"));
    CHECK(first.status == SendStatus::applied);
    CHECK(first.to == "main/a");  // no immediate arc passes: it waits
    auto again = m.start("x", json(R"({"n":5})"));
    CHECK(again.status == SendStatus::duplicate);
    CHECK(m.get("x")->data["n"] == Value(1));
    auto through = m.start("y", json(R"({"n":2})"));  // the immediate arc goes on to the end
    CHECK(through.to == "main/b");
    CHECK(through.completed);
    auto bad = m.start("z", json(R"({"m":1})"));
    CHECK(bad.status == SendStatus::rejected);
    REQUIRE(bad.error);
    CHECK(bad.error->name == "ValidationFailed");
    CHECK_FALSE(m.get("z"));
    CHECK(m.list().size() == 2);
}

TEST_CASE("machines - a failing transition is rejected and leaves the data as it was") {
    auto dir = scratch("failing");
    write(dir / "wf.toml", R"(
name = "failing"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "b"
on = "go"
transform = { lua = "data.touched = true" }
[networks.main.states.b]
transform = { lua = "data.count = (data.count or 0) + 1" }
validate = [{ lua = "data.count < 2" }]
[[networks.main.states.b.arcs]]
to = "a"
on = "back"
)");
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        Engine engine;
        MachinesOptions options;
        if (durable) options.store = dir / "store.db";
        Machines m(engine, dir / "wf.toml", options);
        m.start("x", json(R"({"count":1})"));
        auto r = m.send("x", "go");
        CHECK(r.status == SendStatus::rejected);
        REQUIRE(r.error);
        CHECK(r.error->name == "ValidationFailed");
        CHECK(r.error->state == "main/b");
        CHECK(m.get("x")->data.to_json() == R"({"count":1})");
        CHECK(m.get("x")->state == "main/a");
        CHECK(m.audit("x").back().reason.starts_with("ValidationFailed"));
        CHECK(m.send("x", "go").status == SendStatus::rejected);  // still consistent
    }
}

TEST_CASE("machines - a batch writes each applied event even when a later one fails, in both data modes") {
    auto dir = scratch("batch");
    for (const char* mode : {"copy", "direct"}) {
        CAPTURE(mode);
        write(dir / "wf.toml", std::string("name = \"batch\"\ndata_mode = \"") + mode + R"("
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "a"
on = "add"
transform = { lua = "data.n = data.n + 1; if ctx.event and ctx.event.fail then error('boom') end" }
)");
        fs::remove(dir / "store.db");
        Engine engine;
        MachinesOptions options;
        options.store = dir / "store.db";
        {
            Machines m(engine, dir / "wf.toml", options);
            m.start("x", json(R"({"n":0})"));
            auto results =
                m.send_many({{"x", "add"}, {"x", "add"}, {"x", "add", json(R"({"fail":true})")}, {"x", "add"}});
            REQUIRE(results.size() == 4);
            CHECK(results[2].status == SendStatus::rejected);
            CHECK(results[3].status == SendStatus::applied);
            CHECK(m.get("x")->data["n"] == Value(3));
        }
        Machines reopened(engine, dir / "wf.toml", options);
        CHECK(reopened.get("x")->data["n"] == Value(3));
        CHECK(reopened.get("x")->version == 4);
    }
}

TEST_CASE("machines - send_many with an unknown instance applies nothing") {
    auto dir = scratch("unknown_in_batch");
    for (bool durable : {false, true}) {
        CAPTURE(durable);
        Chat chat(durable ? dir / "store.db" : fs::path());
        chat.machines.start("s1");
        CHECK_THROWS_WITH_AS(chat.machines.send_many({{"s1", "start_update"}, {"ghost", "start_update"}}),
                             "no machine instance 'ghost'", std::invalid_argument);
        CHECK(chat.state("s1") == "session/IDLE");
        CHECK(chat.machines.audit("s1").size() == 1);
    }
}

TEST_CASE("machines - list by several states without the data, in both stores") {
    statenet_test::TempDir dir("statenet_machines_list");
    for (const fs::path& store : {fs::path(), dir / "list.db"}) {
        Chat chat(store);
        auto& m = chat.machines;
        for (const char* id : {"c", "a", "b"}) m.start(id, json(R"({"user":"ana"})"));
        m.send("b", "start_update");
        m.send("c", "start_update");
        m.send("c", "task_selected", json(R"({"task":"task 1"})"));
        statenet::ListOptions options;
        options.states = {"IDLE", "session/AWAITING_ACTION"};
        options.data = false;
        const auto rows = m.list(options);
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].id == "a");
        CHECK(rows[0].state == "session/IDLE");
        CHECK(rows[0].data.is_null());  // not read
        CHECK(rows[1].id == "c");
        CHECK(rows[1].version == 3);
        options.data = true;
        CHECK(m.list(options)[0].data["user"].as_string() == "ana");
        options.states = {"NO_SUCH_STATE"};
        CHECK(m.list(options).empty());
        CHECK(m.get_row("b")->state == "session/TASK_SELECTION");
        CHECK(m.get_row("b")->data.is_null());
        CHECK_FALSE(m.get_row("zz"));
    }
    // The SQLite store finds instances by state through an index (older stores get it on open).
    SQLite::Database db((dir / "list.db").string());
    CHECK(db.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'statenet_instances_state'").getInt() == 1);
}

TEST_CASE("machines - a condition's reason is kept when it is text or a number, as for records") {
    auto dir = scratch("reasons");
    write(dir / "wf.toml", R"(
name = "reasons"
[networks.main.states.a]
start = true
[[networks.main.states.a.arcs]]
to = "a"
on = "go"
when = { lua = "local r = ctx.event.r; if r == 'table' then return true, {} elseif r == 'false' then return true, false end return true, r" }
)");
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    m.start("x");
    CHECK(m.send("x", "go", json(R"({"r": "because"})")).reason == "because");
    CHECK(m.send("x", "go", json(R"({"r": 42})")).reason == "42");
    CHECK(m.send("x", "go", json(R"({"r": 2.5})")).reason == "2.5");
    // Anything else is no reason (not "table: 0x..." or "false").
    CHECK(m.send("x", "go", json(R"({"r": "table"})")).reason.empty());
    CHECK(m.send("x", "go", json(R"({"r": "false"})")).reason.empty());
    CHECK(m.send("x", "go", json(R"({})")).reason.empty());
    const auto audit = m.audit("x");
    REQUIRE(audit.size() == 7);  // the start, then the sends
    CHECK(audit[2].reason == "42");
    CHECK(audit[4].reason.empty());
}
