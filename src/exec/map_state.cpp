// Map states: the record's items (a field of it, or an item reader) through the map's
// sub-network on runners leased from the workflow's pool; then the results (or, with a
// sink, a summary) and the failures set into the record, which leaves by the state's arcs.
#include "exec/branch.hpp"
#include "exec/child_observer.hpp"
#include "exec/in_flight.hpp"
#include "exec/item_readers.hpp"
#include "exec/map_items.hpp"
#include "exec/watermark_reader.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

const Value* at_path(const Value& record, const std::vector<std::string>& path) {
    const Value* v = &record;
    for (const auto& key : path) {
        if (!v->is_object()) return nullptr;
        v = v->find(key);
        if (!v) return nullptr;
    }
    return v;
}

std::string tolerated(const Map& m) {
    return m.tolerated_percent >= 0 ? fmt::format("{}%", m.tolerated_percent) : std::to_string(m.tolerated_count);
}

}  // namespace

Runner::Status Runner::run_map(Run& run, Branch& b, const State& s) {
    const Map& m = *s.map;
    auto pool = siblings_.lock();
    if (!pool) throw std::logic_error("statenet: a map state runs on a runner without a pool");
    // The record is read only for what the map takes from it.
    const Value record = m.items.empty() && m.map_in.empty() ? Value() : program_.read_whole(b.slot, Value());
    ChildObserver observer(run.steps, b.step, b.depth_offset + static_cast<int>(b.frames.size()) + 1);
    MapPlan plan{m, {}, Value::object(), &observer};
    plan.run.network = model_->networks[static_cast<std::size_t>(m.network)].name;
    plan.run.resume = run.resume;
    const RunId id = run_bits();
    plan.run_id = &id;
    plan.slots = in_flight_slots(*model_, static_cast<unsigned>(m.max_concurrency));
    for (const auto& [parent, child] : m.map_in)
        if (const Value* v = record.find(parent)) plan.map_in.set(child, *v);
    StreamOptions output;
    output.errors = m.errors;
    output.resume = run.resume && m.sink;
    output.batch_size = static_cast<std::size_t>(model_->transaction.batch_size);
    const std::string unit = m.batch_items > 0 ? "batches" : "items";
    Value results = Value::array();
    MapTally tally;
    std::optional<WatermarkWindow> window;
    try {
        std::unique_ptr<RecordSource> items;
        std::string identity;
        if (m.reader && !m.reader->watermark.empty()) {
            window = watermark_window(*m.reader, *model_, *m.sink, output.resume);
            items = open_watermark_reader(*m.reader, *model_, *window);
            identity = watermark_identity(item_reader_identity(*m.reader, *model_), *m.reader, *window);
        } else if (m.reader) {
            items = open_item_reader(*m.reader, *model_, *engine_);
            identity = item_reader_identity(*m.reader, *model_);
        } else {
            const std::string field = fmt::format("{}", fmt::join(m.items, "."));
            const Value* list = at_path(record, m.items);
            if (!list || !list->is_array())
                return fail(run, b,
                            {"MapFailed",
                             fmt::format("the items field '{}' holds {}, not a list", field,
                                         list ? type_name(list->type()) : "nothing"),
                             s.qualified});
            items = make_item_list_source(list->as_array());
            identity = "field " + field;
        }
        if (m.batch_items > 0) items = make_item_batcher(std::move(items), m.batch_items, m.batch_bytes);
        std::unique_ptr<RecordSink> sink;
        if (m.sink) {
            SinkSetup setup;
            setup.resume = output.resume;
            setup.input = identity;
            setup.checkpoint = m.checkpoint;
            setup.replace = m.replace;
            if (window) setup.watermark = window->high;
            if (setup.checkpoint.empty() && m.sink->kind == Sink::Kind::file)
                setup.checkpoint = m.sink->path + ".checkpoint";
            sink = project_sink(open_sink(*m.sink, setup), m.map_out);
            if (m.batch_flatten) sink = flatten_sink(std::move(sink));
        } else {
            sink = make_result_list_sink(results, m.map_out);
            plan.results = &results;
        }
        tally = run_map_items(pool, plan, *items, *sink, output, identity);
    } catch (const std::exception& e) {
        return fail(run, b, {"ResourceError", fmt::format("map over {}: {}", unit, e.what()), s.qualified});
    }
    const StreamStats& st = tally.stats;
    if (tally.stopped || over_tolerance(m, st.failed, st.total)) {
        std::string first;
        if (tally.first)
            first = fmt::format("; first: {} {}: {}: {}", unit == "items" ? "item" : "batch", tally.first_index,
                                tally.first->name, tally.first->message);
        return fail(run, b,
                    {"MapFailed",
                     fmt::format("{} of {}{} {} failed, {} tolerated{}", st.failed, tally.stopped ? "the first " : "",
                                 st.total, unit, tolerated(m), first),
                     s.qualified});
    }
    if (m.sink)
        results = Value::object({{"total", Value(st.total)},
                                 {"emitted", Value(st.emitted)},
                                 {"excluded", Value(st.excluded)},
                                 {"failed", Value(st.failed)},
                                 {"resumed", Value(st.resumed)}});
    if (window) results.set("watermark", window->high.is_null() ? window->low : window->high);
    for (const auto& [path, value] :
         {std::pair{&m.result_path, &results}, std::pair{&m.failures_path, &tally.failures}})
        if (auto error = put_field(b.slot, *path, *value)) return fail(run, b, std::move(*error));
    return route_after_join(run, b, s);
}

// Sets `value` at `path` in the record in `slot` (statenet/map.lua).
std::optional<ErrorInfo> Runner::put_field(int slot, const std::vector<std::string>& path, const Value& value) {
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("put");
    lua_pushinteger(L, slot);
    try {
        push_value(L, value, program_.convert());
    } catch (const std::exception& e) {
        return ErrorInfo{"MapFailed", e.what(), ""};
    }
    for (const auto& key : path) lua_pushlstring(L, key.data(), key.size());
    if (lua_pcall(L, 2 + static_cast<int>(path.size()), 0, 0) != 0) return pcall_error("");
    return std::nullopt;
}

}  // namespace statenet::detail
