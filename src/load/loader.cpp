// Loader: file -> document tree -> model -> first runner, collecting every diagnostic.
#include "exec/workflow_impl.hpp"
#include "history/scripts_hash.hpp"
#include "history/writer.hpp"
#include "load/lua_reader.hpp"
#include "lua/vm.hpp"

#include <algorithm>

namespace statenet::detail {

namespace {

bool read_document(const std::shared_ptr<EngineImpl>& engine, std::string_view text, const Model& model,
                   Node& root, Diagnostics& diags) {
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
void open_history(WorkflowImpl& impl, Model& model, std::string_view text, Diagnostics& diags) {
    if (model.history.level == HistoryLevel::off) return;
    model.scripts_hash = scripts_content_hash(model, text, impl.engine->stdlib_dir);
    try {
        impl.history = std::make_shared<HistoryWriter>(model.history, impl.model);
    } catch (const HistoryError& e) {
        diags.error(model.history.loc, e.what());
    }
}

}  // namespace

std::shared_ptr<WorkflowImpl> load_workflow(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                            const std::filesystem::path& file, const LoadOptions& options,
                                            Diagnostics& diags) {
    auto model = std::make_shared<Model>();
    model->file = file.string();
    model->dir = file.parent_path().empty() ? std::string(".") : file.parent_path().string();
    model->lua_source = file.extension() == ".lua";

    Node root;
    if (!read_document(engine, text, *model, root, diags)) return nullptr;
    build_model(root, *model, diags);
    for (const auto& dir : engine->options.module_paths) model->module_dirs.push_back(dir.string());
    for (const auto& [key, value] : options.vars) model->vars.set(key, value);
    if (options.data_mode == DataMode::reference && model->reference.resource < 0)
        diags.error(Loc{model->file, 1, 1}, "data mode 'reference' needs a [reference] table (resource, table, key, version)");
    if (options.data_mode) model->mode = *options.data_mode;
    apply_history_options(*model, options);
    if (model->networks.empty()) return nullptr;

    // Resolving functions needs a VM; do it even when the model has problems so that
    // every error is reported at once.
    auto impl = std::make_shared<WorkflowImpl>();
    impl->model = model;
    impl->engine = engine;
    impl->pools = std::make_shared<ResourcePools>(model->resources);
    auto runner = std::make_unique<Runner>(impl->model, engine, impl->pools, diags);
    std::stable_sort(diags.list.begin(), diags.list.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
    if (!diags.empty()) return nullptr;
    open_history(*impl, *model, text, diags);
    if (!diags.empty()) return nullptr;
    if (impl->history) runner->set_observer(impl->history->recorder());
    impl->idle.push_back(std::move(runner));
    return impl;
}

std::unique_ptr<Runner> WorkflowImpl::acquire() {
    {
        std::lock_guard lock(mutex);
        if (!idle.empty()) {
            auto runner = std::move(idle.back());
            idle.pop_back();
            return runner;
        }
    }
    Diagnostics diags;
    auto runner = std::make_unique<Runner>(model, engine, pools, diags);
    if (!diags.empty()) throw LoadError(std::move(diags.list));
    if (history) runner->set_observer(history->recorder());
    return runner;
}

void WorkflowImpl::release(std::unique_ptr<Runner> runner) {
    std::lock_guard lock(mutex);
    idle.push_back(std::move(runner));
}

}  // namespace statenet::detail
