// Several writers opening one new history database or machine store at the same
// moment: each gets it, whoever creates the schema.
#include "machines_helpers.hpp"
#include "temp_dir.hpp"
#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <vector>

using statenet::Engine;
using statenet::History;
using statenet::HistoryLevel;
using statenet::LoadOptions;
using statenet::Value;
using statenet::Workflow;
using statenet_test::history_dir;
using statenet_test::TempDir;

namespace {

const char* one_state = R"toml(
name = "first_open"
[networks.main.states.a]
start = true
end = true
)toml";

}  // namespace

TEST_CASE("history open - writers opening one new database at once all get it") {
    constexpr int rounds = 10;
    constexpr int writers = 8;
    TempDir dir("statenet_history_open");
    for (int round = 0; round < rounds; ++round) {
        const auto db = dir / ("h" + std::to_string(round) + ".db");
        std::latch start(writers);
        std::vector<std::string> errors(writers);
        std::vector<std::thread> threads;
        for (int i = 0; i < writers; ++i) {
            threads.emplace_back([&, i] {
                LoadOptions options;
                options.history_db = db;
                options.history_level = HistoryLevel::runs;
                start.arrive_and_wait();
                try {
                    Engine engine;
                    Workflow wf = engine.load_string(one_state, history_dir / "inline.toml", options);
                    if (!wf.process(Value::from_json(R"({"writer": 1})")).ok) errors[i] = "the record failed";
                    wf.flush_history();
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
        }
        for (auto& thread : threads) thread.join();
        for (const auto& error : errors) CHECK(error == "");
        CHECK(History(db).runs().size() == writers);
    }
}

TEST_CASE("machine store open - processes opening one new store at once all get it") {
    constexpr int rounds = 10;
    constexpr int openers = 8;
    TempDir dir("statenet_store_open");
    for (int round = 0; round < rounds; ++round) {
        const auto store = dir / ("m" + std::to_string(round) + ".db");
        std::latch start(openers);
        std::vector<std::string> errors(openers);
        std::vector<std::thread> threads;
        for (int i = 0; i < openers; ++i) {
            threads.emplace_back([&, i] {
                start.arrive_and_wait();
                try {
                    machines_test::Chat chat(store);
                    chat.machines.start("s" + std::to_string(i));
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
        }
        for (auto& thread : threads) thread.join();
        for (const auto& error : errors) CHECK(error == "");
        machines_test::Chat chat(store);
        CHECK(chat.machines.list().size() == openers);
    }
}
