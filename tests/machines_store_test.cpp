// The SQLite machine store under load: idempotency keys in batches and across a reopen,
// and the WAL checkpoints that run on a thread of their own.
#include "io/wal_checkpointer.hpp"
#include "machines_helpers.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using statenet::Engine;
using statenet::MachineEvent;
using statenet::Machines;
using statenet::MachinesOptions;
using statenet::SendStatus;
using statenet::Value;

namespace fs = std::filesystem;
using machines_test::scratch;
using machines_test::write;

namespace {

constexpr const char* counter_workflow = R"(name = "counter"
version = "1"

[networks.main.states.on]
start = true

[[networks.main.states.on.arcs]]
to = "on"
on = "add"
transform = { lua = "data.count = (data.count or 0) + 1" }
)";

MachinesOptions durable(const fs::path& store) {
    MachinesOptions o;
    o.store = store;
    return o;
}

std::vector<SendStatus> statuses(const std::vector<statenet::SendResult>& results) {
    std::vector<SendStatus> out;
    for (const auto& r : results) out.push_back(r.status);
    return out;
}

std::int64_t count(Machines& m, const std::string& id) {
    const auto info = m.get(id);  // (the data lives as long as this copy)
    const Value& c = info->data["count"];
    return c.is_null() ? 0 : c.as_int();
}

std::uintmax_t size_of(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return ec ? 0 : size;
}

}  // namespace

TEST_CASE("machines store - a key is applied once: in one batch, in a later batch, after a reopen") {
    auto dir = scratch("keys_batches");
    write(dir / "counter.toml", counter_workflow);
    const auto store = dir / "store.db";
    using S = SendStatus;
    {
        Engine engine;
        Machines m(engine, dir / "counter.toml", durable(store));
        m.start("a");
        m.start("b");
        // The same key twice in one batch; the same key on another instance is another key.
        auto first = m.send_many(
            {{"a", "add", {}, "k1"}, {"a", "add", {}, "k1"}, {"b", "add", {}, "k1"}, {"a", "add", {}, "k2"}});
        CHECK(statuses(first) == std::vector<S>{S::applied, S::duplicate, S::applied, S::applied});
        CHECK(first[1].first == S::applied);
        CHECK(first[1].to == "main/on");
        auto second = m.send_many({{"a", "add", {}, "k2"}, {"a", "add", {}, "k3"}, {"b", "add", {}, "k1"}});
        CHECK(statuses(second) == std::vector<S>{S::duplicate, S::applied, S::duplicate});
        CHECK(count(m, "a") == 3);
        CHECK(count(m, "b") == 1);
    }
    Engine engine;
    Machines m(engine, dir / "counter.toml", durable(store));
    auto again = m.send_many({{"a", "add", {}, "k1"}, {"b", "add", {}, "k1"}, {"a", "add", {}, "k4"}});
    CHECK(statuses(again) == std::vector<S>{S::duplicate, S::duplicate, S::applied});
    CHECK(m.send("a", "add", {}, "k3").status == S::duplicate);
    CHECK(count(m, "a") == 4);
    CHECK(count(m, "b") == 1);
    // One audit row per applied key: a duplicate writes none.
    int applied_rows = 0, rows = 0;
    for (const auto& row : m.audit("a")) {
        applied_rows += row.event == "add" && row.outcome == "applied";
        rows += row.event == "add";
    }
    CHECK(applied_rows == 4);
    CHECK(rows == 4);
}

TEST_CASE("machines store - thousands of keyed events across WAL checkpoints: all kept, none applied twice") {
    auto dir = scratch("keys_checkpoints");
    write(dir / "counter.toml", counter_workflow);
    const auto store = dir / "store.db";
    constexpr int batches = 40, batch = 500;
    {
        Engine engine;
        Machines m(engine, dir / "counter.toml", durable(store));
        for (int i = 0; i < 50; ++i) m.start("i" + std::to_string(i));
        std::vector<MachineEvent> events(batch);
        for (int b = 0; b < batches; ++b) {
            for (int i = 0; i < batch; ++i)
                events[i] = {"i" + std::to_string(i % 50), "add", {}, "k" + std::to_string(b * batch + i)};
            for (const auto& r : m.send_many(events)) REQUIRE(r.status == SendStatus::applied);
        }
        // The checkpoints copied pages back into the database while it was open.
        CHECK(size_of(store) > 1024 * 1024);
    }
    Engine engine;
    Machines m(engine, dir / "counter.toml", durable(store));
    std::int64_t total = 0;
    for (int i = 0; i < 50; ++i) total += count(m, "i" + std::to_string(i));
    CHECK(total == batches * batch);
    for (int k : {0, 7777, batches * batch - 1})
        CHECK(m.send("i" + std::to_string(k % 50), "add", {}, "k" + std::to_string(k)).status == SendStatus::duplicate);
}

TEST_CASE("WAL checkpointer - a thread copies the WAL back and a writer that never pauses keeps it bounded") {
    auto dir = scratch("wal_checkpointer");
    const auto file = dir / "wal.db";
    SQLite::Database db(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode=WAL");
    db.exec("PRAGMA synchronous=NORMAL");
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
    const auto empty = size_of(file);
    const std::string text(3000, 'x');  // about a page per row
    {
        statenet::detail::WalCheckpointer checkpointer(db, 20, 200);
        SQLite::Statement insert(db, "INSERT INTO t (text) VALUES (?)");
        std::uintmax_t largest_wal = 0;
        for (int t = 0; t < 300; ++t) {
            SQLite::Transaction tx(db);
            for (int i = 0; i < 5; ++i) {
                insert.bind(1, text);
                insert.exec();
                insert.reset();
            }
            tx.commit();
            largest_wal = std::max(largest_wal, size_of(file.string() + "-wal"));
        }
        // Without checkpoints the WAL would hold all 1,500 rows (SQLite's own ones are
        // off); it starts over by 200 pages, 400 when the thread is slow.
        CHECK(largest_wal < 420 * (4096 + 24));
        CHECK(size_of(file) > empty + 1000 * 3000);
    }
    // Another connection reads every row.
    SQLite::Database reader(file.string(), SQLite::OPEN_READONLY);
    CHECK(reader.execAndGet("SELECT count(*) FROM t").getInt() == 1500);
}
