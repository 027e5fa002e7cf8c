// Assembly: the one place a model becomes a running version (VM pool, resource pools,
// observers, history writer). Engine::load, hot reload and Machines all come here.
#pragma once

#include "api/workflow_version.hpp"
#include "load/loader.hpp"

#include <filesystem>
#include <memory>
#include <string_view>

namespace statenet::detail {

struct WorkflowImpl;

/// The loader's environment for workflows loaded by `engine`.
LoadEnvironment load_environment(const EngineImpl& engine);

/// Resolves the model's functions in a first runner and opens the history writer.
/// Returns null and fills `diags` (sorted) when anything is wrong. `text` is the
/// workflow file's contents (part of the scripts hash history records).
std::shared_ptr<WorkflowVersion> assemble(const std::shared_ptr<EngineImpl>& engine, std::shared_ptr<Model> model,
                                          std::string_view text, Diagnostics& diags);

/// load_model then assemble: the whole way from a file's text to a running version.
std::shared_ptr<WorkflowVersion> load_version(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                              const std::filesystem::path& file, const LoadOptions& options,
                                              Diagnostics& diags);

/// load_version wrapped in a (not yet reloadable) workflow; null when it fails.
std::shared_ptr<WorkflowImpl> load_workflow(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                            const std::filesystem::path& file, const LoadOptions& options,
                                            Diagnostics& diags);

}  // namespace statenet::detail
