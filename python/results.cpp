// What the engine hands back to Python: Result, its error and branches, load diagnostics,
// reload reports and stream totals, read-only mirrors of include/statenet/*.hpp.
#include "bindings.hpp"
#include "convert.hpp"

#include <statenet/engine.hpp>
#include <statenet/stream.hpp>

#include <fmt/format.h>

#include <pybind11/stl.h>

namespace py = pybind11;

namespace statenet::python {

namespace {

/// "emitted", "excluded", "parked" or "failed": the StreamStats bucket a record lands in.
const char* outcome(const Result& result) {
    if (result.parked) return "parked";
    if (!result.ok) return "failed";
    return result.emit ? "emitted" : "excluded";
}

void register_error_types(py::module_& module) {
    py::class_<ErrorInfo>(module, "ErrorInfo", "Why a record failed: a catalogue or user error name, message, state.")
        .def_readonly("name", &ErrorInfo::name)
        .def_readonly("message", &ErrorInfo::message)
        .def_readonly("state", &ErrorInfo::state, "`network/state` where it failed")
        .def("__str__", [](const ErrorInfo& e) { return fmt::format("{}: {} (in {})", e.name, e.message, e.state); })
        .def("__repr__",
             [](const ErrorInfo& e) { return fmt::format("ErrorInfo(name='{}', state='{}')", e.name, e.state); });
    py::class_<Diagnostic>(module, "Diagnostic", "One problem in a workflow file, located as file:line:col.")
        .def_readonly("file", &Diagnostic::file)
        .def_readonly("line", &Diagnostic::line, "0 when unknown")
        .def_readonly("column", &Diagnostic::column, "0 when unknown")
        .def_readonly("message", &Diagnostic::message)
        .def("__str__", &Diagnostic::str)
        .def("__repr__", [](const Diagnostic& d) { return fmt::format("Diagnostic('{}')", d.str()); });
    py::class_<ReloadReport>(module, "ReloadReport", "What a hot reload did.")
        .def_readonly("ok", &ReloadReport::ok, "False when the new version failed to load (the old one runs on)")
        .def_readonly("errors", &ReloadReport::errors)
        .def_readonly("orphaned", &ReloadReport::orphaned, "machine instances whose state no longer exists");
}

void register_result(py::module_& module) {
    py::class_<Branch>(module, "Branch", "A breadth-first branch that reached an end state.")
        .def_readonly("final_state", &Branch::final_state)
        .def_property_readonly("data", [](const Branch& b) { return to_python(b.data); })
        .def_readonly("path", &Branch::path)
        .def_readonly("emit", &Branch::emit);
    py::class_<PyResult>(module, "Result", "The outcome of one record run (include/statenet/result.hpp).")
        .def_property_readonly(
            "ok", [](const PyResult& r) { return r.result.ok; }, "True when the record reached an end state")
        .def_property_readonly(
            "outcome", [](const PyResult& r) { return outcome(r.result); },
            "'emitted', 'excluded' (an end state with emit = false), 'parked' or 'failed'")
        .def_property_readonly("final_state", [](const PyResult& r) { return r.result.final_state; })
        .def_property_readonly(
            "data",
            [](PyResult& r) {
                if (!r.data) r.data = to_python(r.result.data);
                return r.data;
            },
            "the record's data at the end, a dict (the same object on every access)")
        .def_property_readonly(
            "path", [](const PyResult& r) { return r.result.path; }, "every state entered, as `network/state`")
        .def_property_readonly(
            "error", [](const PyResult& r) { return r.result.error; }, "an ErrorInfo when the record failed, else None")
        .def_property_readonly("branches", [](const PyResult& r) { return r.result.branches; })
        .def_property_readonly("run_id", [](const PyResult& r) { return r.result.run_id; })
        .def_property_readonly("transitions", [](const PyResult& r) { return r.result.transitions; })
        .def_property_readonly(
            "duration", [](const PyResult& r) { return std::chrono::duration<double>(r.result.duration).count(); },
            "seconds the record took")
        .def_property_readonly("emit", [](const PyResult& r) { return r.result.emit; })
        .def_property_readonly("parked", [](const PyResult& r) { return r.result.parked; })
        .def_property_readonly(
            "signal", [](const PyResult& r) { return r.result.signal; }, "the signal a parked record waits for")
        .def_property_readonly(
            "usage", [](const PyResult& r) { return usage_dict(r.result.usage); }, "tokens the record's llm calls used")
        .def_property_readonly("resources", [](const PyResult& r) { return resources_list(r.result.resources); })
        .def(
            "to_dict", [](const PyResult& r) { return to_python(r.result.to_value()); },
            "the result as `statenet run --data` prints it")
        .def("__repr__", [](const PyResult& r) {
            return fmt::format("Result(outcome='{}', final_state='{}'{})", outcome(r.result), r.result.final_state,
                               r.result.error ? fmt::format(", error='{}'", r.result.error->name) : "");
        });
}

void register_stream_stats(py::module_& module) {
    py::class_<StreamStats>(module, "StreamStats", "What a stream did: total = emitted + excluded + failed + parked.")
        .def_readonly("total", &StreamStats::total)
        .def_readonly("emitted", &StreamStats::emitted)
        .def_readonly("excluded", &StreamStats::excluded)
        .def_readonly("failed", &StreamStats::failed)
        .def_readonly("parked", &StreamStats::parked)
        .def_readonly("parked_runs", &StreamStats::parked_runs)
        .def_readonly("resumed", &StreamStats::resumed)
        .def_property_readonly(
            "duration", [](const StreamStats& s) { return s.duration.count(); }, "seconds")
        .def_property_readonly("records_per_second", &StreamStats::records_per_second)
        .def("__repr__", [](const StreamStats& s) {
            return fmt::format("StreamStats(total={}, emitted={}, excluded={}, failed={}, parked={})", s.total,
                               s.emitted, s.excluded, s.failed, s.parked);
        });
}

}  // namespace

py::dict usage_dict(const TokenUsage& usage) {
    py::dict dict;
    dict["prompt_tokens"] = usage.prompt_tokens;
    dict["completion_tokens"] = usage.completion_tokens;
    return dict;
}

py::list resources_list(const std::vector<ResourceUse>& uses) {
    py::list list;
    for (const auto& use : uses) {
        py::dict dict;
        dict["name"] = use.name;
        dict["type"] = use.type;
        dict["calls"] = use.calls;
        dict["errors"] = use.errors;
        dict["latency_ms"] = use.latency_ms;
        dict["health"] = use.health;
        list.append(dict);
    }
    return list;
}

void register_results(py::module_& module) {
    register_error_types(module);
    register_result(module);
    register_stream_stats(module);
}

}  // namespace statenet::python
