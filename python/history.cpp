// statenet.History: an execution history database opened for queries — runs, a run's
// steps, per state and per error figures, parked records, pruning — with the GIL
// released while SQLite reads.
#include "bindings.hpp"
#include "convert.hpp"

#include <statenet/history.hpp>

#include <fmt/format.h>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;

namespace statenet::python {

namespace {

using release = py::call_guard<py::gil_scoped_release>;

py::object optional_python(const std::optional<Value>& value) {
    return value ? to_python(*value) : py::object(py::none());
}

/// A query over the runs a filter selects, the filter given as keyword arguments
/// (STATENET_FILTER_ARGS), run with the GIL released.
template <typename Query>
auto filtered(Query query) {
    return [query](const History& h, std::optional<bool> ok, std::string state, std::string workflow,
                   std::optional<std::int64_t> since_us, std::optional<std::int64_t> until_us,
                   std::vector<std::string> runs, std::size_t limit) {
        HistoryFilter f;
        f.ok = ok;
        f.state = std::move(state);
        f.workflow = std::move(workflow);
        f.since_us = since_us;
        f.until_us = until_us;
        f.runs = std::move(runs);
        f.limit = limit;
        py::gil_scoped_release unlocked;
        return query(h, f);
    };
}

// The filter's keywords, as `statenet history list` takes them.
#define STATENET_FILTER_ARGS                                                                          \
    py::kw_only(), "ok"_a = py::none(), "state"_a = "", "workflow"_a = "", "since_us"_a = py::none(), \
                   "until_us"_a = py::none(), "runs"_a = std::vector<std::string>{}, "limit"_a = 0

void register_rows(py::module_& module) {
    py::class_<HistoryRun>(module, "HistoryRun", "One recorded record run (include/statenet/history.hpp).")
        .def_readonly("id", &HistoryRun::id, "row id in this database (`#12` on the command line)")
        .def_readonly("run_id", &HistoryRun::run_id)
        .def_readonly("workflow", &HistoryRun::workflow)
        .def_readonly("version", &HistoryRun::version)
        .def_readonly("file", &HistoryRun::file)
        .def_readonly("scripts_hash", &HistoryRun::scripts_hash)
        .def_readonly("position", &HistoryRun::position, "input position: stream line, batch index (or None)")
        .def_readonly("ok", &HistoryRun::ok)
        .def_readonly("final_state", &HistoryRun::final_state)
        .def_readonly("error", &HistoryRun::error, "an ErrorInfo when the run failed, else None")
        .def_readonly("started_us", &HistoryRun::started_us, "Unix time in microseconds")
        .def_readonly("duration_ns", &HistoryRun::duration_ns)
        .def_readonly("transitions", &HistoryRun::transitions)
        .def_property_readonly(
            "level", [](const HistoryRun& r) { return std::string(history_level_name(r.level)); },
            "'runs', 'steps' or 'full'")
        .def_property_readonly(
            "input", [](const HistoryRun& r) { return optional_python(r.input); },
            "level full: the record as it came in (else None)")
        .def_property_readonly(
            "output", [](const HistoryRun& r) { return optional_python(r.output); },
            "level full: the record's data at the end (else None)")
        .def_property_readonly("usage", [](const HistoryRun& r) { return usage_dict(r.usage); })
        .def_property_readonly("resources", [](const HistoryRun& r) { return resources_list(r.resources); })
        .def(
            "to_dict", [](const HistoryRun& r) { return to_python(r.to_value()); },
            "the run as `statenet history list --format json` prints it")
        .def("__repr__", [](const HistoryRun& r) {
            return fmt::format("HistoryRun(#{} {} {}, {})", r.id, r.run_id, r.ok ? "ok" : "failed", r.final_state);
        });
    py::class_<HistoryStep>(module, "HistoryStep", "One step of a run: a state entered and the transition taken.")
        .def_readonly("seq", &HistoryStep::seq, "1, 2, ... in the order steps started")
        .def_readonly("parent", &HistoryStep::parent, "the step this one came from (None for the first)")
        .def_readonly("via", &HistoryStep::via, "start, arc, push, return, retry or on_error")
        .def_readonly("network", &HistoryStep::network)
        .def_readonly("state", &HistoryStep::state, "the state's name in its network")
        .def_property_readonly("qualified", &HistoryStep::qualified, "`network/state`")
        .def_readonly("arc", &HistoryStep::arc, "where the record went from here")
        .def_readonly("reason", &HistoryStep::reason)
        .def_readonly("event", &HistoryStep::event, "the machine event that drove the step ('' for records)")
        .def_readonly("attempt", &HistoryStep::attempt, "0 first try, 1.. retries")
        .def_readonly("depth", &HistoryStep::depth, "push depth (0 in the main network)")
        .def_readonly("status", &HistoryStep::status, "ok, end or failed")
        .def_readonly("duration_ns", &HistoryStep::duration_ns)
        .def_readonly("error", &HistoryStep::error)
        .def_property_readonly(
            "changes", [](const HistoryStep& s) { return optional_python(s.changes); },
            "level full: {'set': {...}, 'unset': [...]} or {'replace': record} (else None)")
        .def(
            "to_dict", [](const HistoryStep& s) { return to_python(s.to_value()); },
            "the step as `statenet history show --format json` prints it")
        .def("__repr__",
             [](const HistoryStep& s) { return fmt::format("HistoryStep({} {} {})", s.seq, s.qualified(), s.status); });
    py::class_<ParkedRun>(module, "ParkedRun", "A record parked in a wait state.")
        .def_readonly("run_id", &ParkedRun::run_id)
        .def_readonly("workflow", &ParkedRun::workflow)
        .def_readonly("version", &ParkedRun::version)
        .def_readonly("file", &ParkedRun::file)
        .def_readonly("state", &ParkedRun::state, "`network/state` it waits in")
        .def_readonly("signal", &ParkedRun::signal, "the signal it waits for")
        .def_readonly("deadline_us", &ParkedRun::deadline_us)
        .def_readonly("parked_us", &ParkedRun::parked_us)
        .def_readonly("status", &ParkedRun::status, "waiting, resuming or resumed")
        .def_readonly("resumed_us", &ParkedRun::resumed_us)
        .def_readonly("resumed_by", &ParkedRun::resumed_by)
        .def("to_dict", [](const ParkedRun& p) { return to_python(p.to_value()); });
}

void register_stats(py::module_& module) {
    py::class_<StateStats>(module, "StateStats", "One state's figures over the selected runs.")
        .def_readonly("state", &StateStats::state, "`network/state`")
        .def_readonly("entries", &StateStats::entries, "steps, attempts included")
        .def_readonly("failures", &StateStats::failures)
        .def_readonly("p50_us", &StateStats::p50_us)
        .def_readonly("p95_us", &StateStats::p95_us);
    py::class_<ErrorStats>(module, "ErrorStats", "One error's figures over the selected runs.")
        .def_readonly("name", &ErrorStats::name)
        .def_readonly("steps", &ErrorStats::steps, "failed steps with this error (retried and handled ones too)")
        .def_readonly("runs", &ErrorStats::runs, "runs that failed with it");
    py::class_<HistoryStats>(module, "HistoryStats", "Per state and per error figures (`statenet history stats`).")
        .def_readonly("runs", &HistoryStats::runs)
        .def_readonly("ok", &HistoryStats::ok)
        .def_readonly("failed", &HistoryStats::failed)
        .def_readonly("states", &HistoryStats::states, "by entries, most first")
        .def_readonly("errors", &HistoryStats::errors, "by count, most first")
        .def_property_readonly("usage", [](const HistoryStats& s) { return usage_dict(s.usage); })
        .def_property_readonly("resources", [](const HistoryStats& s) { return resources_list(s.resources); })
        .def("__repr__", [](const HistoryStats& s) {
            return fmt::format("HistoryStats(runs={}, ok={}, failed={})", s.runs, s.ok, s.failed);
        });
}

void register_history_class(py::module_& module) {
    py::class_<History>(module, "History", "An execution history database opened for queries (history.hpp).")
        .def(py::init([](const std::filesystem::path& db) {
                 py::gil_scoped_release unlocked;
                 return History(db);
             }),
             "db"_a, "Opens an existing history database; HistoryError when it is missing or not a history.")
        .def("runs", filtered([](const History& h, const HistoryFilter& f) { return h.runs(f); }), STATENET_FILTER_ARGS,
             "Matching runs, oldest first (with a limit: the newest `limit`).")
        .def("run", &History::run, "id"_a, release(),
             "A run by run id, unique prefix or '#rowid'; HistoryError when none or several match.")
        .def(
            "steps",
            [](const History& h, const py::object& run) {
                if (py::isinstance<HistoryRun>(run)) {
                    const auto& r = run.cast<const HistoryRun&>();
                    py::gil_scoped_release unlocked;
                    return h.steps(r);
                }
                const auto id = run.cast<std::string>();
                py::gil_scoped_release unlocked;
                return h.steps(h.run(id));
            },
            "run"_a, "A run's steps in seq order (a HistoryRun or an id as run() takes; empty below level steps).")
        .def("stats", filtered([](const History& h, const HistoryFilter& f) { return h.stats(f); }),
             STATENET_FILTER_ARGS, "Per state and per error figures over the matching runs.")
        .def("parked", &History::parked, "all"_a = false, release(),
             "Records parked in wait states, oldest first (with all=True the resumed ones too).")
        .def(
            "prune",
            [](History& h, std::optional<std::int64_t> max_runs, std::optional<std::int64_t> max_age_seconds,
               std::optional<std::int64_t> before_us) {
                PruneOptions options;
                options.max_runs = max_runs;
                options.max_age_seconds = max_age_seconds;
                options.before_us = before_us;
                py::gil_scoped_release unlocked;
                return h.prune(options);
            },
            py::kw_only(), "max_runs"_a = py::none(), "max_age_seconds"_a = py::none(), "before_us"_a = py::none(),
            "Deletes runs (and their steps) past every given limit; returns how many went.")
        .def_property_readonly("path", &History::path)
        .def("__repr__", [](const History& h) { return fmt::format("History('{}')", h.path().string()); });
}

}  // namespace

void register_history(py::module_& module) {
    register_rows(module);
    register_stats(module);
    register_history_class(module);
}

}  // namespace statenet::python
