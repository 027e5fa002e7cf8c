// What the record execution tests share: loading a workflow text as if it were a file
// in tests/workflows/exec (so its Lua modules are found), and running one record.
#pragma once

#include "test_paths.hpp"

#include <statenet/statenet.hpp>

#include <string>
#include <vector>

namespace exec_test {

inline statenet::Workflow load(statenet::Engine& engine, const std::string& toml) {
    return engine.load_string(toml, statenet_test::exec_dir / "test.toml");
}

inline statenet::Result run(const std::string& toml, const char* json) {
    statenet::Engine engine;
    return load(engine, toml).process(statenet::Value::from_json(json));
}

using Path = std::vector<std::string>;

}  // namespace exec_test
