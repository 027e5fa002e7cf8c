// Hot reload of workflows (SPEC section 13): Engine::reload() swaps in edited logic between records.
#include "resources/sqlite_resource.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <vector>

using statenet::Engine;
using statenet::EngineOptions;
using statenet::ReloadReport;
using statenet::Result;
using statenet::Value;
using statenet::Workflow;

namespace fs = std::filesystem;

namespace {

const fs::path reload_dir = fs::path(STATENET_SOURCE_DIR) / "tests/workflows/reload";

std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
}

/// `text` with its one occurrence of `from` replaced by `to`.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

/// A scratch copy of tests/workflows/reload: pricing.toml and its module pricing.lua.
struct PricingCopy {
    statenet_test::TempDir dir{"statenet_reload_test"};
    fs::path workflow = dir / "pricing.toml";
    fs::path module = dir / "pricing.lua";
    PricingCopy() {
        fs::copy_file(reload_dir / "pricing.toml", workflow);
        fs::copy_file(reload_dir / "pricing.lua", module);
    }
    /// Version 2 of the logic: triples the amount.
    void edit_module() const {
        write(module, replaced(replaced(read(module), "data.amount * 2", "data.amount * 3"), "\"v1\"", "\"v2\""));
    }
};

Result price(const Workflow& wf, int amount) { return wf.process(Value::object({{"amount", amount}})); }

}  // namespace

TEST_CASE("reload - an edited module takes effect on the next record") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    CHECK(price(wf, 10).data["total"] == Value(20));
    copy.edit_module();
    CHECK(price(wf, 10).data["total"] == Value(20));  // nothing changes before reload()
    ReloadReport report = engine.reload();
    CHECK(report.ok);
    CHECK(report.errors.empty());
    Result r = price(wf, 10);
    CHECK(r.ok);
    CHECK(r.data["total"] == Value(30));
    CHECK(r.data["logic"] == Value("v2"));
    Workflow copy_of_handle = wf;  // every copy of the handle runs the new version
    CHECK(price(copy_of_handle, 1).data["total"] == Value(3));
}

TEST_CASE("reload - a module with a syntax error is refused with file:line and the old logic keeps running") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    write(copy.module, "local M = {}\n\nfunction M.price(data)\n  data.total = data.amount *\nend\n\nreturn M\n");
    ReloadReport report = engine.reload();
    CHECK_FALSE(report.ok);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors[0].file == copy.workflow.string());
    CHECK(report.errors[0].line == 7);  // the transform that names the module
    CHECK(report.errors[0].message.find("pricing.lua:5: unexpected symbol near 'end'") != std::string::npos);
    Result r = price(wf, 10);
    CHECK(r.ok);
    CHECK(r.data["total"] == Value(20));
    // New VMs of the running version load the module text it was loaded with, not the broken file.
    const std::vector<Value> records(8, Value::object({{"amount", 10}}));
    for (const Result& each : wf.process_batch(records, {.workers = 4})) {
        CHECK(each.ok);
        CHECK(each.data["total"] == Value(20));
    }

    // Fixing the file and reloading again brings the new logic in.
    write(copy.module, replaced(read(reload_dir / "pricing.lua"), "data.amount * 2", "data.amount * 5"));
    CHECK(engine.reload().ok);
    CHECK(price(wf, 10).data["total"] == Value(50));
}

TEST_CASE("reload - a missing workflow file is reported and the old version keeps running") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    fs::remove(copy.workflow);
    ReloadReport report = engine.reload();
    CHECK_FALSE(report.ok);
    REQUIRE(report.errors.size() == 1);
    CHECK(report.errors[0].str() == copy.workflow.string() + ": cannot open the workflow file");
    CHECK(price(wf, 4).data["total"] == Value(8));
}

TEST_CASE("reload - a workflow edit adding a state takes effect, with its new name and version") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    const std::string& version = wf.version();
    CHECK(price(wf, 10).final_state == "main/price");
    std::string toml = replaced(read(copy.workflow), "version = \"1\"", "version = \"2\"");
    toml = replaced(toml, "end = true\n",
                    "[[networks.main.states.price.arcs]]\nto = \"tax\"\n\n"
                    "[networks.main.states.tax]\ntransform = \"pricing.tax\"\nend = true\n");
    write(copy.workflow, toml);
    REQUIRE(engine.reload().ok);
    Result r = price(wf, 10);
    CHECK(r.ok);
    CHECK(r.final_state == "main/tax");
    CHECK(r.path == std::vector<std::string>{"main/price", "main/tax"});
    CHECK(r.data["total"] == Value(21));
    CHECK(wf.version() == "2");
    CHECK(version == "1");  // a reference taken before the reload stays valid
    CHECK(wf.graph(statenet::GraphFormat::mermaid).find("tax") != std::string::npos);
}

TEST_CASE("reload - workflows made by load_string are not reloaded") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load_string(read(copy.workflow), copy.workflow);
    copy.edit_module();
    ReloadReport report = engine.reload();
    CHECK(report.ok);
    CHECK(report.errors.empty());
    CHECK(price(wf, 10).data["total"] == Value(20));
}

TEST_CASE("reload - records processed during a reload all succeed, each on the old or the new version") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    std::atomic<bool> stop{false};
    std::atomic<int> processed{0}, seen_new{0}, bad_count{0};
    std::vector<std::string> bad;  // only the worker writes it, read after join
    std::thread worker([&] {
        // After the last reload only the new version runs, so the loop ends once it shows.
        while (!stop || (seen_new == 0 && bad_count == 0)) {
            Result r = price(wf, 7);
            const bool old_version = r.ok && r.data["logic"] == Value("v1") && r.data["total"] == Value(14);
            const bool new_version = r.ok && r.data["logic"] == Value("v2") && r.data["total"] == Value(21);
            if (!old_version && !new_version) {
                bad.push_back(r.to_value().to_json());
                ++bad_count;
            }
            if (new_version) ++seen_new;
            ++processed;
        }
    });
    while (processed == 0) std::this_thread::yield();
    for (int round = 0; round < 3; ++round) {
        copy.edit_module();
        CHECK(engine.reload().ok);
        write(copy.module, read(reload_dir / "pricing.lua"));
        CHECK(engine.reload().ok);
    }
    copy.edit_module();
    CHECK(engine.reload().ok);
    stop = true;
    worker.join();
    CHECK(bad.empty());
    CHECK(seen_new > 0);
    CHECK(price(wf, 7).data["total"] == Value(21));
}

TEST_CASE("reload - a stream keeps the version it started with; new calls get the new one") {
    PricingCopy copy;
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    const fs::path input = copy.dir / "input.jsonl", output = copy.dir / "output.jsonl";
    REQUIRE(::mkfifo(input.c_str(), 0600) == 0);
    statenet::StreamOptions options;
    options.workers = 2;
    std::thread stream([&] {
        wf.process_stream(statenet::jsonl_source(input.string()), statenet::jsonl_sink(output.string()), options);
    });
    {
        // Opening a FIFO waits for its reader: the stream has started when this returns.
        std::ofstream feed(input);
        copy.edit_module();
        CHECK(engine.reload().ok);
        CHECK(price(wf, 1).data["logic"] == Value("v2"));
        feed << "{\"amount\": 1}\n{\"amount\": 2}\n{\"amount\": 3}\n";
    }
    stream.join();
    CHECK(read(output) ==
          "{\"amount\":1,\"logic\":\"v1\",\"total\":2}\n{\"amount\":2,\"logic\":\"v1\",\"total\":4}\n"
          "{\"amount\":3,\"logic\":\"v1\",\"total\":6}\n");
    CHECK(price(wf, 1).data["logic"] == Value("v2"));
}

TEST_CASE("reload - a retired runner commits its open batch transaction") {
    statenet_test::TempDir dir{"statenet_reload_test"};
    const statenet::detail::SqliteConfig db{"items", (dir / "items.db").string()};
    statenet::detail::SqliteConnection(db).exec("CREATE TABLE items (id INTEGER PRIMARY KEY)", {});
    auto committed = [&] {
        return statenet::detail::SqliteConnection(db).query("SELECT count(*) AS n FROM items", {})[0]["n"].as_int();
    };
    write(dir / "tx.toml",
          "name = \"tx\"\n[transaction]\nstrategy = \"batch\"\nbatch_size = 100\n"
          "[resources.db]\ntype = \"sqlite\"\npath = \"" +
              db.path +
              "\"\n"
              "[networks.main.states.save]\nstart = true\nend = true\nresources = [\"db\"]\n"
              "transform = \"tx.save\"\n");
    Engine engine(EngineOptions{.module_paths = {statenet_test::exec_dir}});
    Workflow wf = engine.load(dir / "tx.toml");
    for (int id = 1; id <= 5; ++id) REQUIRE(wf.process(Value::object({{"id", id}})).ok);
    CHECK(committed() == 0);  // one open batch
    REQUIRE(engine.reload().ok);
    CHECK(committed() == 5);  // the old version's runner committed before it was dropped
    REQUIRE(wf.process(Value::object({{"id", 6}})).ok);
    wf.flush();
    CHECK(committed() == 6);
}

TEST_CASE("reload - history records each run under the scripts version that ran it, with the same load options") {
    PricingCopy copy;
    const fs::path db = copy.dir / "history.db";
    Engine engine;
    statenet::LoadOptions options;
    options.history_db = db;
    options.history_level = statenet::HistoryLevel::full;
    Workflow wf = engine.load(copy.workflow, options);
    REQUIRE(price(wf, 1).ok);
    copy.edit_module();
    REQUIRE(engine.reload().ok);
    REQUIRE(price(wf, 1).ok);
    wf.flush_history();
    const auto runs = statenet::History(db).runs();
    REQUIRE(runs.size() == 2);
    REQUIRE(runs[0].output);
    REQUIRE(runs[1].output);
    CHECK((*runs[0].output)["logic"] == Value("v1"));
    CHECK((*runs[1].output)["logic"] == Value("v2"));
    CHECK(runs[0].scripts_hash != runs[1].scripts_hash);
}

namespace {

/// A scratch copy of tests/workflows/reload-deep: a machine workflow (deep.toml) and a
/// record workflow with history (records.toml) whose module requires a module four
/// directories deep, `a.b.c.d`, and `util` from their scripts directory `lib`.
struct DeepModule {
    statenet_test::TempDir dir{"statenet_reload_deep"};
    fs::path machines = dir / "deep.toml";
    fs::path records = dir / "records.toml";
    fs::path deep = dir.path() / "a/b/c/d.lua";
    DeepModule() { fs::copy(reload_dir.parent_path() / "reload-deep", dir.path(), fs::copy_options::recursive); }
};

/// The total the machine set's current version prices `amount` at, on a new instance.
Value machine_total(statenet::Machines& m, const std::string& id, int amount) {
    m.start(id, Value::object({{"amount", amount}}));
    m.send(id, "price");
    return m.get(id)->data["total"];
}

}  // namespace

TEST_CASE("reload - machines notice an edit to a module four directories deep and reload it") {
    DeepModule copy;
    Engine engine;
    statenet::Machines m(engine, copy.machines);
    CHECK(machine_total(m, "a", 10) == Value(20));
    CHECK_FALSE(m.reload_if_changed());
    write(copy.deep, "return { factor = 30 }\n");
    auto report = m.reload_if_changed();
    REQUIRE(report);
    CHECK(report->ok);
    CHECK(machine_total(m, "b", 10) == Value(300));
    CHECK_FALSE(m.reload_if_changed());
}

TEST_CASE("reload - machines notice a new file where require would now find a module, or in a scripts directory") {
    DeepModule copy;
    Engine engine;
    statenet::Machines m(engine, copy.machines);
    CHECK(machine_total(m, "a", 10) == Value(20));
    // Not the version's code: nothing requires it and it is not under `scripts`.
    write(copy.dir / "notes.lua", "return {}\n");
    CHECK_FALSE(m.reload_if_changed());

    // The workflow's directory comes before `lib` on the module path: this util wins.
    write(copy.dir / "util.lua", "return { round = function(x) return -x end }\n");
    auto shadowed = m.reload_if_changed();
    REQUIRE(shadowed);
    CHECK(shadowed->ok);
    CHECK(machine_total(m, "b", 10) == Value(-20));

    // Any .lua file under a scripts directory counts, however deep.
    fs::create_directories(copy.dir / "lib/x/y/z");
    write(copy.dir / "lib/x/y/z/later.lua", "return {}\n");
    auto added = m.reload_if_changed();
    REQUIRE(added);
    CHECK(added->ok);
    CHECK_FALSE(m.reload_if_changed());
}

TEST_CASE("reload - the scripts hash changes when a module four directories deep changes") {
    DeepModule copy;
    Engine engine;
    Workflow wf = engine.load(copy.records);
    const auto run = [&] { REQUIRE(wf.process(Value::object({{"amount", 1}})).ok); };
    run();
    REQUIRE(engine.reload().ok);  // nothing changed: the same hash
    run();
    write(copy.deep, "return { factor = 30 }\n");
    REQUIRE(engine.reload().ok);
    run();
    wf.flush_history();
    const auto runs = statenet::History(copy.dir / "statenet-history.db").runs();
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].scripts_hash == runs[1].scripts_hash);
    CHECK(runs[1].scripts_hash != runs[2].scripts_hash);
}

namespace {

/// A scratch workflow that extends a base file, which holds its one arc: editing only
/// the base changes the version's code.
struct ExtendedBase {
    statenet_test::TempDir dir{"statenet_reload_base"};
    fs::path workflow = dir / "priced.toml";
    fs::path base = dir / "base.toml";
    ExtendedBase(const std::string& top) {
        write(dir / "fns.lua",
              "return { double = function(d) d.total = d.amount * 2 end,\n"
              "         triple = function(d) d.total = d.amount * 3 end }\n");
        write(workflow, "extends = \"base.toml\"\n" + top);
        set_transform("fns.double");
    }
    void set_transform(const std::string& fn) {
        write(base,
              "[networks.main.states.idle]\nstart = true\n"
              "[[networks.main.states.idle.arcs]]\nto = \"priced\"\non = \"price\"\ntransform = \"" +
                  fn + "\"\n[networks.main.states.priced]\nend = true\n");
    }
};

}  // namespace

TEST_CASE("reload - machines notice an edit to the file a workflow extends") {
    ExtendedBase copy("name = \"priced\"\n");
    Engine engine;
    statenet::Machines m(engine, copy.workflow);
    CHECK(machine_total(m, "a", 10) == Value(20));
    CHECK_FALSE(m.reload_if_changed());
    copy.set_transform("fns.triple");
    auto report = m.reload_if_changed();
    REQUIRE(report);
    CHECK(report->ok);
    CHECK(machine_total(m, "b", 10) == Value(30));
    CHECK_FALSE(m.reload_if_changed());
}

TEST_CASE("reload - the scripts hash changes when only the extended base file changes") {
    // A record workflow: the arc fires without an event.
    ExtendedBase copy("name = \"priced\"\n[history]\nlevel = \"runs\"\ndb = \"h.db\"\n");
    write(copy.base,
          "[networks.main.states.idle]\nstart = true\ntransform = \"fns.double\"\n"
          "[[networks.main.states.idle.arcs]]\nto = \"priced\"\n[networks.main.states.priced]\nend = true\n");
    Engine engine;
    Workflow wf = engine.load(copy.workflow);
    const auto run = [&] { return wf.process(Value::object({{"amount", 1}})); };
    CHECK(run().data["total"] == Value(2));
    REQUIRE(engine.reload().ok);
    CHECK(run().data["total"] == Value(2));
    write(copy.base,
          "[networks.main.states.idle]\nstart = true\ntransform = \"fns.triple\"\n"
          "[[networks.main.states.idle.arcs]]\nto = \"priced\"\n[networks.main.states.priced]\nend = true\n");
    REQUIRE(engine.reload().ok);
    CHECK(run().data["total"] == Value(3));
    wf.flush_history();
    const auto runs = statenet::History(copy.dir / "h.db").runs();
    REQUIRE(runs.size() == 3);
    CHECK(runs[0].scripts_hash == runs[1].scripts_hash);
    CHECK(runs[1].scripts_hash != runs[2].scripts_hash);
}
