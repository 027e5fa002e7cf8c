// The loader: a workflow file's text -> a checked, immutable model. Builds nothing that
// runs; src/api/assembly turns the model into a running version.
#pragma once

#include "load/node.hpp"
#include "model/model.hpp"

#include <statenet/engine.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace statenet::detail {

/// What a load needs from its host besides the file: where the stdlib is, and the
/// engine's options (extra module directories, the sandbox policy).
struct LoadEnvironment {
    std::string stdlib_dir;
    const EngineOptions& options;
};

/// The text of a workflow file; throws LoadError when it cannot be read.
std::string read_workflow_file(const std::filesystem::path& file);

/// Reads `text` (the contents of `file`, TOML or a Lua workflow by extension), builds
/// the model and applies `options`. Problems go to `diags`; the model is returned even
/// then (null only when the document cannot be read at all or has no networks), so that
/// assembly can add function-resolution problems to the same report.
std::shared_ptr<Model> load_model(std::string_view text, const std::filesystem::path& file, const LoadOptions& options,
                                  const LoadEnvironment& env, Diagnostics& diags);

/// Builds the model from a document tree; reports every problem to `diags`.
/// Function references are recorded, not resolved (that needs a Lua VM).
void build_model(const Node& root, Model& model, Diagnostics& diags);

}  // namespace statenet::detail
