// The workflow's sandbox keys (`trust`, `[limits]`) and the host's say over them.
#pragma once

#include "load/node.hpp"
#include "lua/sandbox.hpp"
#include "model/model.hpp"

#include <statenet/engine.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace statenet::detail {

/// Reads `trust` and `[limits]` from the workflow's root table into model.sandbox.
void read_sandbox_keys(const Node& root, Model& model, Diagnostics& diags);

/// What the host forbids: any `trust` under a strict sandbox, and there, limits above
/// the host's. A Lua workflow's trust must also be the literal list it was read with.
void check_sandbox_policy(const Model& model, std::string_view text, const EngineOptions& options, Diagnostics& diags);

/// How the VM that reads a Lua workflow runs it: granted the trust list written
/// literally in `text`. Nothing (and a diagnostic) when a strict sandbox refuses it.
std::optional<SandboxConfig> reader_sandbox(std::string_view text, const std::string& file,
                                            const EngineOptions& options, Diagnostics& diags);

}  // namespace statenet::detail
