// What the machine tests share: the chat-session example on a manual clock, scratch
// directories and small helpers.
#pragma once

#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

namespace machines_test {

namespace fs = std::filesystem;

inline const fs::path source_dir(STATENET_SOURCE_DIR);
inline const fs::path chat_workflow = source_dir / "examples/chat-session/chat_session.lua";
inline const fs::path npc_dir = source_dir / "examples/game-npc";

inline constexpr double minute = 60 * 1000;

/// A fresh scratch directory per test.
inline fs::path scratch(const std::string& name) {
    auto dir = statenet_test::scratch_root("statenet_machines_test") / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

inline void write(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
}

inline statenet::Value json(const char* text) { return statenet::Value::from_json(text); }

struct Chat {
    std::shared_ptr<statenet::ManualClock> clock = std::make_shared<statenet::ManualClock>(1'000'000);
    statenet::Engine engine;
    statenet::Machines machines;

    explicit Chat(fs::path store = {}, std::shared_ptr<statenet::ManualClock> shared_clock = nullptr)
        : clock(shared_clock ? shared_clock : std::make_shared<statenet::ManualClock>(1'000'000)),
          machines(engine, chat_workflow, options(std::move(store), clock)) {}

    static statenet::MachinesOptions options(fs::path store, std::shared_ptr<statenet::ManualClock> clock) {
        statenet::MachinesOptions o;
        o.store = std::move(store);
        o.clock = std::move(clock);
        return o;
    }

    std::string state(const std::string& id) { return machines.get(id)->state; }
};

}  // namespace machines_test
