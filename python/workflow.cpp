// statenet.Engine and statenet.Workflow: load workflows, run records one at a time or in
// batches, with the GIL released while the engine works.
#include "bindings.hpp"
#include "convert.hpp"
#include "options.hpp"

#include <statenet/engine.hpp>
#include <statenet/workflow.hpp>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;

namespace statenet::python {

namespace {

const char* level_name(LogLevel level) {
    switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    }
    return "info";
}

std::unique_ptr<Engine> make_engine(const std::optional<std::filesystem::path>& stdlib_dir,
                                    const std::vector<std::filesystem::path>& module_paths, bool strict_sandbox,
                                    double call_limit_ms, double memory_limit_mb, const py::object& log) {
    EngineOptions options;
    options.module_paths = module_paths;
    if (stdlib_dir) options.stdlib_dir = *stdlib_dir;
    options.strict_sandbox = strict_sandbox;
    options.call_limit_ms = call_limit_ms;
    options.memory_limit_mb = memory_limit_mb;
    if (!log.is_none()) {
        // ctx.log from Lua, on whichever thread runs the record: back into Python with the GIL.
        Callback callback(log);
        options.log = [callback](const LogRecord& record) {
            callback([&](const py::object& function) {
                function(level_name(record.level), std::string(record.state), std::string(record.message),
                         to_python(record.fields));
            });
        };
    }
    return std::make_unique<Engine>(std::move(options));
}

RunOptions run_options(const std::optional<std::string>& mode, const std::string& network) {
    RunOptions options;
    options.mode = data_mode(mode);
    options.network = network;
    return options;
}

PyResult process(const Workflow& workflow, const py::handle record, const std::optional<std::string>& mode,
                 const std::string& network) {
    const RunOptions options = run_options(mode, network);
    Value value = to_value(record);
    py::gil_scoped_release release;
    return PyResult{workflow.process(std::move(value), options)};
}

std::vector<PyResult> process_batch(const Workflow& workflow, const py::iterable& records, unsigned workers,
                                    const std::optional<std::string>& mode) {
    BatchOptions options;
    options.workers = workers;
    options.run = run_options(mode, {});
    std::vector<Value> values;
    for (auto record : records) values.push_back(to_value(record));
    std::vector<Result> results;
    {
        py::gil_scoped_release release;
        results = workflow.process_batch(values, options);
    }
    std::vector<PyResult> wrapped;
    wrapped.reserve(results.size());
    for (auto& result : results) wrapped.push_back(PyResult{std::move(result)});
    return wrapped;
}

py::list resource_stats(const Workflow& workflow) {
    py::list list;
    for (const auto& s : workflow.resource_stats())
        list.append(py::dict(
            "name"_a = s.name, "type"_a = s.type, "calls"_a = s.calls, "errors"_a = s.errors, "retries"_a = s.retries,
            "latency_ms_sum"_a = s.latency_ms_sum, "latency_ms_max"_a = s.latency_ms_max, "health"_a = s.health,
            "prompt_tokens"_a = s.tokens.prompt_tokens, "completion_tokens"_a = s.tokens.completion_tokens));
    return list;
}

void register_engine(py::module_& module) {
    py::class_<Engine>(module, "Engine", "Loads workflows and owns the runtime they share (engine.hpp).")
        .def(py::init(&make_engine), py::kw_only(), "stdlib_dir"_a = py::none(),
             "module_paths"_a = std::vector<std::filesystem::path>{}, "strict_sandbox"_a = false,
             "call_limit_ms"_a = 10000.0, "memory_limit_mb"_a = 1024.0, "log"_a = py::none(),
             "log: a callable(level, state, message, fields) receiving ctx.log calls (default: stderr)")
        .def(
            "load",
            [](Engine& engine, const std::filesystem::path& file, const py::object& vars,
               const std::optional<std::string>& data_mode, const std::optional<std::filesystem::path>& history_db,
               const std::optional<std::string>& history_level, const std::optional<std::filesystem::path>& park_db) {
                const LoadOptions options = load_options(vars, data_mode, history_db, history_level, park_db);
                py::gil_scoped_release release;
                return engine.load(file, options);
            },
            "file"_a, py::kw_only(), "vars"_a = py::none(), "data_mode"_a = py::none(), "history_db"_a = py::none(),
            "history_level"_a = py::none(), "park_db"_a = py::none(),
            "Loads a .toml or .lua workflow; raises LoadError with every problem found.")
        .def(
            "load_string",
            [](Engine& engine, const std::string& text, const std::filesystem::path& name, const py::object& vars,
               const std::optional<std::string>& data_mode) {
                const LoadOptions options = load_options(vars, data_mode, {}, {}, {});
                py::gil_scoped_release release;
                return engine.load_string(text, name, options);
            },
            "text"_a, "name"_a, py::kw_only(), "vars"_a = py::none(), "data_mode"_a = py::none(),
            "Loads a workflow given as text; `name`'s extension (.toml, .lua) picks the format.")
        .def(
            "check", [](Engine& engine, const std::filesystem::path& file) { return engine.check(file); }, "file"_a,
            py::call_guard<py::gil_scoped_release>(),
            "Every problem in a workflow file, as Diagnostic objects (empty when it loads).")
        .def("reload", &Engine::reload, py::call_guard<py::gil_scoped_release>(),
             "Hot reload of every workflow and machine set loaded from files.")
        .def(
            "signal",
            [](Engine& engine, const std::filesystem::path& db, const std::string& run_id, const std::string& signal,
               const py::object& payload) {
                const Value value = payload.is_none() ? Value::object() : to_value(payload);
                py::gil_scoped_release release;
                return PyResult{engine.signal(db, run_id, signal, value)};
            },
            "db"_a, "run_id"_a, "signal"_a, "payload"_a = py::none(),
            "Resumes the record parked under run_id in the park or history database db.");
}

void register_workflow_class(py::module_& module) {
    py::class_<Workflow>(module, "Workflow", "A loaded workflow (workflow.hpp); thread-safe, cheap to copy.")
        .def("process", &process, "record"_a, py::kw_only(), "mode"_a = py::none(), "network"_a = "",
             "Runs one record (a dict) through the main network (or `network`'s start state). Record failures "
             "are in the Result, never raised.")
        .def("process_batch", &process_batch, "records"_a, py::kw_only(), "workers"_a = 0, "mode"_a = py::none(),
             "Runs every record on `workers` threads (0 = one per core); the results come back in input order.")
        .def("flush", &Workflow::flush, py::call_guard<py::gil_scoped_release>(),
             "Commits the batch transactions left open ([transaction] strategy = \"batch\").")
        .def("flush_history", &Workflow::flush_history, py::call_guard<py::gil_scoped_release>(),
             "Waits until the history of every record processed so far is committed.")
        .def(
            "signal",
            [](const Workflow& workflow, const std::string& run_id, const std::string& signal,
               const py::object& payload) {
                const Value value = payload.is_none() ? Value::object() : to_value(payload);
                py::gil_scoped_release release;
                return PyResult{workflow.signal(run_id, signal, value)};
            },
            "run_id"_a, "signal"_a, "payload"_a = py::none(), "Resumes a record this workflow parked.")
        .def("resource_stats", &resource_stats, "Counters of the workflow's resources, one dict each.")
        .def(
            "graph",
            [](const Workflow& workflow, const std::string& format) {
                if (format != "dot" && format != "mermaid")
                    throw std::invalid_argument("unknown graph format '" + format + "' (dot or mermaid)");
                return workflow.graph(format == "dot" ? GraphFormat::dot : GraphFormat::mermaid);
            },
            "format"_a = "dot", "The network graph as Graphviz dot or Mermaid text.")
        .def_property_readonly("name", &Workflow::name)
        .def_property_readonly("version", &Workflow::version)
        .def_property_readonly("file", &Workflow::file)
        .def("__repr__",
             [](const Workflow& w) { return "Workflow('" + w.name() + "', version '" + w.version() + "')"; });
}

}  // namespace

void register_workflow(py::module_& module) {
    register_engine(module);
    register_workflow_class(module);
}

}  // namespace statenet::python
