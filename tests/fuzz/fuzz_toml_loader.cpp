// libFuzzer harness: a TOML workflow through the whole loader (pre-scan, toml++, model
// builder, function references resolved in a Lua VM). Any outcome but a crash, a
// sanitizer report or an exception other than LoadError is a finding.
#include "fuzz_support.hpp"

#include <statenet/statenet.hpp>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static statenet::Engine engine;
    statenet::LoadOptions options;
    options.history_level = statenet::HistoryLevel::off;  // no database files per input
    try {
        engine.load_string(statenet_fuzz::as_text(data, size), statenet_fuzz::scratch_dir() / "fuzz.toml", options);
    } catch (const statenet::LoadError&) {}
    return 0;
}
