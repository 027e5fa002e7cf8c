// Assembly: model -> resource pools, a first runner (functions resolved), history writer
// and the runner pool that makes more runners wired the same way.
#include "api/assembly.hpp"

#include "api/workflow_impl.hpp"
#include "exec/item_readers.hpp"
#include "history/park_store.hpp"
#include "history/scripts_hash.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

/// Opens the history writer when the workflow records history; problems go to `diags`.
std::shared_ptr<HistoryWriter> open_history(const std::shared_ptr<Model>& model, Diagnostics& diags) {
    if (model->history.level == HistoryLevel::off) return nullptr;
    try {
        return std::make_shared<HistoryWriter>(model->history, model);
    } catch (const HistoryError& e) {
        diags.error(model->history.loc, e.what());
    }
    return nullptr;
}

/// Every map reader's type is built in or registered on the engine.
void check_item_readers(const Model& model, EngineImpl& engine, Diagnostics& diags) {
    for (const auto& net : model.networks)
        for (const auto& s : net.states)
            if (s.map && s.map->reader && !s.map->reader->type.empty() &&
                !known_item_reader(engine, s.map->reader->type))
                diags.error(s.map->reader->loc,
                            fmt::format("unknown item reader type '{}' (built in: jsonl, csv, json, sqlite, postgres, "
                                        "glob; a host adds others with Engine::add_item_reader)",
                                        s.map->reader->type));
}

/// Opens the park store when some state waits for a signal; problems go to `diags`.
std::shared_ptr<ParkStore> open_park_store(const Model& model, Diagnostics& diags) {
    if (model.park_db.empty()) return nullptr;
    try {
        return std::make_shared<SqliteParkStore>(model);
    } catch (const std::exception& e) {
        diags.error(Loc{model.file, 0, 0}, fmt::format("park database: {}", e.what()));
    }
    return nullptr;
}

std::shared_ptr<SharedStrategies> open_strategies(const std::shared_ptr<Model>& model, Diagnostics& diags) {
    if (!model->has_strategies()) return nullptr;
    try {
        return std::make_shared<SharedStrategies>(model);
    } catch (const std::exception& e) {
        diags.error(Loc{model->file, 0, 0}, e.what());
    }
    return nullptr;
}

}  // namespace

LoadEnvironment load_environment(const EngineImpl& engine) {
    return LoadEnvironment{engine.stdlib_dir, engine.options};
}

std::shared_ptr<WorkflowVersion> assemble(const std::shared_ptr<EngineImpl>& engine, std::shared_ptr<Model> model,
                                          std::string_view text, Diagnostics& diags) {
    auto pools = std::make_shared<ResourcePools>(model->resources);
    // Resolving functions needs a VM; do it even when the model has problems so that
    // every error is reported at once.
    auto first = std::make_unique<Runner>(model, engine, pools, diags);
    check_item_readers(*model, *engine, diags);
    diags.sort();
    if (!diags.empty()) return nullptr;
    // Every history row and parked record names the version's code by this hash.
    if (model->history.level != HistoryLevel::off || !model->park_db.empty())
        model->scripts_hash = scripts_content_hash(*model, text);
    auto history = open_history(model, diags);
    auto parking = open_park_store(*model, diags);
    auto strategies = open_strategies(model, diags);
    if (!diags.empty()) return nullptr;

    auto version = std::make_shared<WorkflowVersion>();
    version->model = model;
    version->engine = engine;
    version->pools = pools;
    version->history = history;
    version->parking = parking;
    version->strategies = strategies;
    // Map states lease their items' runners from the pool their own runner came from.
    auto pool_of_runners = std::make_shared<std::weak_ptr<RunnerPool>>();
    auto make = [model, engine, pools, history, parking, strategies, pool_of_runners]() -> std::unique_ptr<Runner> {
        Diagnostics late;
        auto runner = std::make_unique<Runner>(model, engine, pools, late);
        if (!late.empty()) throw LoadError(std::move(late.list));
        if (history) runner->set_observer(history->recorder());
        runner->set_siblings(*pool_of_runners);
        if (parking) runner->set_park_store(parking);
        if (strategies) runner->set_strategies(strategies);
        return runner;
    };
    version->runners = std::make_shared<RunnerPool>(model, engine, std::move(make));
    *pool_of_runners = version->runners;
    first->set_siblings(version->runners);
    if (history) first->set_observer(history->recorder());
    if (parking) first->set_park_store(parking);
    if (strategies) first->set_strategies(strategies);
    version->runners->add_idle(std::move(first));
    return version;
}

std::shared_ptr<WorkflowVersion> load_version(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                              const std::filesystem::path& file, const LoadOptions& options,
                                              Diagnostics& diags) {
    auto model = load_model(text, file, options, load_environment(*engine), diags);
    if (!model) return nullptr;
    return assemble(engine, std::move(model), text, diags);
}

std::shared_ptr<WorkflowImpl> load_workflow(const std::shared_ptr<EngineImpl>& engine, std::string_view text,
                                            const std::filesystem::path& file, const LoadOptions& options,
                                            Diagnostics& diags) {
    auto version = load_version(engine, text, file, options, diags);
    return version ? std::make_shared<WorkflowImpl>(std::move(version)) : nullptr;
}

}  // namespace statenet::detail
