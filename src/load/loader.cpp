// Loader: file -> document tree -> model -> first runner, collecting every diagnostic.
#include "exec/workflow_impl.hpp"
#include "history/scripts_hash.hpp"
#include "history/writer.hpp"
#include "load/lua_reader.hpp"
#include "lua/convert.hpp"
#include "lua/vm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace statenet::detail {

namespace {

bool read_document(const std::shared_ptr<EngineImpl>& engine, std::string_view text, const Model& model, Node& root,
                   Diagnostics& diags) {
    if (!model.lua_source) return read_toml(text, model.file, root, diags);
    LuaVm vm({model.dir}, engine->stdlib_dir);
    return read_lua_workflow(vm.state(), model.file, root, diags);
}

/// The load options' history overrides, and the default database next to the workflow.
void apply_history_options(Model& model, const LoadOptions& options) {
    HistoryConfig& h = model.history;
    if (options.history_db) {
        h.db = options.history_db->string();
        h.loc = Loc{model.file, 0, 0};
        if (!options.history_level && h.level == HistoryLevel::off) h.level = HistoryLevel::steps;
    }
    if (options.history_level) h.level = *options.history_level;
    if (h.loc.file.empty()) h.loc = Loc{model.file, 0, 0};
    if (h.level != HistoryLevel::off && h.db.empty())
        h.db = (std::filesystem::path(model.dir) / "statenet-history.db").string();
}

/// Opens the history writer when the workflow records history; problems go to `diags`.
void open_history(WorkflowVersion& version, Model& model, std::string_view text, Diagnostics& diags) {
    if (model.history.level == HistoryLevel::off) return;
    model.scripts_hash = scripts_content_hash(model, text, version.engine->stdlib_dir);
    try {
        version.history = std::make_shared<HistoryWriter>(model.history, version.model);
    } catch (const HistoryError& e) {
        diags.error(model.history.loc, e.what());
    }
}

}  // namespace

std::string read_workflow_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw LoadError({Diagnostic{file.string(), 0, 0, "cannot open the workflow file"}});
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::shared_ptr<WorkflowVersion> load_version(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                              const std::filesystem::path& file, const LoadOptions& options,
                                              Diagnostics& diags) {
    auto model = std::make_shared<Model>();
    model->file = file.string();
    model->dir = file.parent_path().empty() ? std::string(".") : file.parent_path().string();
    model->lua_source = file.extension() == ".lua";
    model->sources = std::make_shared<SourceSnapshot>();

    Node root;
    if (!read_document(engine, text, *model, root, diags)) return nullptr;
    build_model(root, *model, diags);
    for (const auto& dir : engine->options.module_paths) model->module_dirs.push_back(dir.string());
    for (const auto& [key, value] : options.vars) {
        // ctx.vars is level 1 in Lua, so an override is level 2 there.
        if (exceeds_nesting_limit(Value(Value::Array{value})))
            diags.error(Loc{model->file, 0, 0},
                        fmt::format("the value given for var '{}' is nested deeper than {} levels", key,
                                    max_nesting_depth - 1));
        else model->vars.set(key, value);
    }
    if (options.data_mode == DataMode::reference && model->reference.resource < 0)
        diags.error(Loc{model->file, 1, 1},
                    "data mode 'reference' needs a [reference] table (resource, table, key, version)");
    if (options.data_mode) model->mode = *options.data_mode;
    apply_history_options(*model, options);
    if (model->networks.empty()) return nullptr;

    // Resolving functions needs a VM; do it even when the model has problems so that
    // every error is reported at once.
    auto version = std::make_shared<WorkflowVersion>();
    version->model = model;
    version->engine = engine;
    version->pools = std::make_shared<ResourcePools>(model->resources);
    auto runner = std::make_unique<Runner>(version->model, engine, version->pools, diags);
    std::stable_sort(diags.list.begin(), diags.list.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
    if (!diags.empty()) return nullptr;
    open_history(*version, *model, text, diags);
    if (!diags.empty()) return nullptr;
    if (version->history) runner->set_observer(version->history->recorder());
    version->idle.push_back(std::move(runner));
    return version;
}

std::shared_ptr<WorkflowImpl> load_workflow(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                            const std::filesystem::path& file, const LoadOptions& options,
                                            Diagnostics& diags) {
    auto version = load_version(engine, text, file, options, diags);
    return version ? std::make_shared<WorkflowImpl>(std::move(version)) : nullptr;
}

}  // namespace statenet::detail
