// Loader: file -> document tree -> model, collecting every diagnostic.
#include "load/loader.hpp"

#include "load/compose.hpp"
#include "load/env_expand.hpp"
#include "load/lua_reader.hpp"
#include "load/params.hpp"
#include "load/sandbox_keys.hpp"
#include "lua/convert.hpp"
#include "lua/source_snapshot.hpp"
#include "lua/vm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace statenet::detail {

namespace {

bool read_document(std::string_view text, const Model& model, const LoadEnvironment& env, Node& root,
                   Diagnostics& diags) {
    if (!model.lua_source) return read_toml(text, model.file, root, diags);
    const auto sandbox = reader_sandbox(text, model.file, env.options, diags);
    if (!sandbox) return false;
    LuaVm vm({model.dir}, env.stdlib_dir, nullptr, *sandbox);
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

/// Where records of a workflow with `wait` states park: the history database, else the
/// one the load options name. With neither the workflow loads (to be validated, drawn,
/// run on records that never wait) but cannot park: see Runner::park and run_stream.
void choose_park_db(Model& model, const LoadOptions& options) {
    if (!model.has_wait()) return;
    if (model.history.level != HistoryLevel::off) model.park_db = model.history.db;
    else if (options.park_db) model.park_db = options.park_db->string();
}

ComposeContext compose_context(const LoadOptions& options, const LoadEnvironment& env, SourceSnapshot& sources) {
    ComposeContext context{env.stdlib_dir, options.profile, false, sources};
    if (!context.profile)
        if (const char* name = std::getenv("STATENET_PROFILE"); name && *name) {
            context.profile = name;
            context.profile_from_env = true;
        }
    return context;
}

}  // namespace

std::string read_workflow_file(const std::filesystem::path& file) {
    // `std:NAME` runs a pattern as it is: an instance file with nothing but its name.
    if (file.string().starts_with(pattern_prefix)) return fmt::format("pattern = \"{}\"\n", file.string());
    std::ifstream in(file, std::ios::binary);
    if (!in) throw LoadError({Diagnostic{file.string(), 0, 0, "cannot open the workflow file"}});
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::shared_ptr<Model> load_model(std::string_view text, const std::filesystem::path& file, const LoadOptions& options,
                                  const LoadEnvironment& env, Diagnostics& diags) {
    auto model = std::make_shared<Model>();
    model->file = file.string();
    model->dir = file.parent_path().empty() ? std::string(".") : file.parent_path().string();
    model->lua_source = file.extension() == ".lua";
    model->sources = std::make_shared<SourceSnapshot>();

    Node root;
    if (!read_document(text, *model, env, root, diags)) return nullptr;
    Node instance_params;
    const ComposeContext context = compose_context(options, env, *model->sources);
    compose(root, context, instance_params, diags);
    EnvSubstitutions from_env;
    model->params = read_params(root, instance_params, options.params, diags, from_env);
    if (const auto more = expand_env(root, diags, {}, &model->params); !more.empty())
        from_env.insert(from_env.end(), more.begin(), more.end());
    build_model(root, *model, diags);
    if (context.profile) model->profile = *context.profile;
    redact_env(diags, from_env);
    check_sandbox_policy(*model, text, env.options, diags);
    for (const auto& dir : env.options.module_paths) model->module_dirs.push_back(dir.string());
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
    choose_park_db(*model, options);
    if (model->networks.empty()) return nullptr;
    return model;
}

}  // namespace statenet::detail
