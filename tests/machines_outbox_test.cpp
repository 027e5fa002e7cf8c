// Machines that talk back: entry/exit actions, ctx.emit into the outbox (read, ack),
// ctx.send to other instances delivered once after commit, and [retention] / prune.
#include "machines_helpers.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using machines_test::json;
using machines_test::scratch;
using machines_test::write;
using statenet::Engine;
using statenet::Machines;
using statenet::MachinesOptions;
using statenet::OutboxMessage;
using statenet::OutboxOptions;
using statenet::SendResult;
using statenet::SendStatus;

namespace {

const char* talker = R"toml(
name = "talker"
[retention]
keys_ms = 1000
audit_ms = 5000
completed_ms = 2000

[networks.main.states.idle]
start = true
exit = { lua = "data.trail = (data.trail or '') .. 'x(idle)'" }
[[networks.main.states.idle.arcs]]
to = "busy"
on = "work"
transform = { lua = "data.trail = (data.trail or '') .. 't'; ctx.emit('reply', { text = 'working on ' .. ctx.event.job })" }
[[networks.main.states.idle.arcs]]
to = "idle"
on = "alert"
transform = { lua = "data.alerts = (data.alerts or 0) + 1; ctx.emit('alerted', { by = ctx.event.from })" }
[[networks.main.states.idle.arcs]]
to = "idle"
on = "fail"
transform = { lua = "ctx.emit('never', {}); error('boom')" }

[networks.main.states.busy]
entry = { lua = "data.trail = (data.trail or '') .. 'e(busy)'" }
[[networks.main.states.busy.arcs]]
to = "done"
on = "finish"
transform = { lua = "ctx.send(data.peer, 'alert', { from = ctx.run_id }); ctx.send('ghost', 'alert', {})" }

[networks.main.states.done]
end = true
)toml";

std::vector<std::string> topics(const std::vector<OutboxMessage>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.instance + ":" + m.topic);
    return out;
}

void talk(Machines& m) {
    m.start("a", json(R"({"peer": "b"})"));
    m.start("b", json(R"({"peer": "a"})"));
    // exit of idle, the arc's transform, entry of busy: in that order.
    CHECK(m.send("a", "work", json(R"({"job": "report"})")).status == SendStatus::applied);
    CHECK(m.get("a")->data["trail"].as_string() == "x(idle)te(busy)");
    // A failing transition writes nothing to the outbox.
    CHECK(m.send("b", "fail").status == SendStatus::rejected);
    auto box = m.outbox();
    REQUIRE(box.size() == 1);
    CHECK(box[0].topic == "reply");
    CHECK(box[0].payload["text"].as_string() == "working on report");
    CHECK(box[0].event == "work");
    // a's finish sends 'alert' to b after it commits; b's transition emits in turn.
    std::vector<std::string> heard;
    const auto listener = m.subscribe([&](const SendResult& r, const std::vector<OutboxMessage>& emitted) {
        heard.push_back(r.instance + ":" + r.event + ":" + std::to_string(emitted.size()));
    });
    CHECK(m.send("a", "finish").status == SendStatus::applied);
    CHECK(m.get("b")->data["alerts"].as_int() == 1);
    CHECK(heard == std::vector<std::string>{"a:finish:0", "b:alert:1"});
    m.unsubscribe(listener);
    CHECK(topics(m.outbox()) == std::vector<std::string>{"a:reply", "b:alerted"});
    CHECK(topics(m.outbox(OutboxOptions{.topic = "alerted"})) == std::vector<std::string>{"b:alerted"});
    // The delivered send carries a derived idempotency key.
    auto b_audit = m.audit("b");
    CHECK(b_audit.back().key.starts_with("outbox:"));
    // Acknowledged messages are no longer listed.
    CHECK(m.ack({m.outbox()[0].seq}) == 1);
    CHECK(m.ack({m.outbox()[0].seq - 1}) == 0);
    CHECK(topics(m.outbox()) == std::vector<std::string>{"b:alerted"});
}

}  // namespace

TEST_CASE("machines outbox - actions, emit and send, in memory") {
    auto dir = scratch("outbox_memory");
    write(dir / "wf.toml", talker);
    Engine engine;
    Machines m(engine, dir / "wf.toml");
    talk(m);
}

TEST_CASE("machines outbox - durable: the outbox survives reopening; prune applies [retention]") {
    auto dir = scratch("outbox_durable");
    write(dir / "wf.toml", talker);
    auto clock = std::make_shared<statenet::ManualClock>(10'000);
    MachinesOptions options;
    options.store = dir / "store.db";
    options.clock = clock;
    {
        Engine engine;
        Machines m(engine, dir / "wf.toml", options);
        talk(m);
        m.send("b", "work", json(R"({"job": "x"})"), "key-1");
    }
    Engine engine;
    Machines m(engine, dir / "wf.toml", options);
    CHECK(topics(m.outbox()) == std::vector<std::string>{"b:alerted", "b:reply"});
    // Nothing is old yet: only the acknowledged message and delivered sends go.
    auto report = m.prune();
    CHECK(report.keys == 0);
    CHECK(report.instances == 0);
    CHECK(report.outbox == 3);  // one acknowledged emit, two sends (one to 'ghost', undeliverable)
    // 1.5 s later the key is gone (1 s), the completed instance 'a' (2 s) not yet.
    clock->advance(1500);
    report = m.prune();
    CHECK(report.keys == 2);  // key-1 and the delivered send's derived key
    CHECK(report.instances == 0);
    CHECK(m.send("b", "finish", {}, "key-1").status == SendStatus::applied);  // the key is free again
    clock->advance(1000);
    report = m.prune();
    CHECK(report.instances == 1);
    CHECK(!m.get("a"));
    CHECK(m.get("b"));  // completed just now
    CHECK(report.audit == 0);
    clock->advance(5000);
    CHECK(m.prune().audit > 0);
    CHECK(m.audit("b").size() < 4);
}

TEST_CASE("machines outbox - ctx.emit in a record workflow is a clear error") {
    Engine engine;
    auto wf = engine.load_string(R"toml(
name = "record"
[networks.main.states.s]
start = true
end = true
transform = { lua = "ctx.emit('x', {})" }
)toml",
                                 "record.toml");
    auto r = wf.process(json("{}"));
    REQUIRE(!r.ok);
    CHECK(r.error->message.find("ctx.emit works only in machines") != std::string::npos);
}

TEST_CASE("machines outbox - the chat session's replies are emitted messages; clarification goes back") {
    machines_test::Chat chat;
    auto& m = chat.machines;
    m.start("s1");
    m.send("s1", "start_update");
    m.send("s1", "message", json(R"({"text":"hmm"})"));  // not a task: clarification
    CHECK(chat.state("s1") == "session/CLARIFICATION");
    m.send("s1", "message", json(R"({"text":"help"})"));  // help inside it: a self-transition
    m.send("s1", "message", json(R"({"text":"ok"})"));
    CHECK(chat.state("s1") == "session/TASK_SELECTION");
    std::vector<std::string> replies;
    for (const auto& message : m.outbox({.topic = "reply"})) {
        CHECK(message.payload["to"].as_string() == "s1");
        replies.push_back(message.payload["text"].as_string());
    }
    CHECK(replies == std::vector<std::string>{"Which task are you updating?",
                                              "Sorry, I did not get that. Which task, or what would you like to do?",
                                              "Sorry, I did not get that. Which task, or what would you like to do?"});
}
