// What an Engine shares with every workflow and runner it creates.
#pragma once

#include <statenet/engine.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace statenet::detail {

struct EngineImpl {
    EngineOptions options;
    std::string stdlib_dir;
    std::shared_ptr<Clock> clock;
    std::function<void(const LogRecord&)> log;
    std::atomic<std::uint64_t> runner_seq{0};

    explicit EngineImpl(EngineOptions opts);
};

/// The stdlib directory: explicit, else $STATENET_STDLIB, else installed, else the
/// source tree's.
std::string find_stdlib(const std::filesystem::path& explicit_dir);

}  // namespace statenet::detail
