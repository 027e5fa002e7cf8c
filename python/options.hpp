// Keyword arguments of the Python API -> the C++ option structs, and Python callables
// the engine calls from its own threads.
#pragma once

#include <statenet/engine.hpp>
#include <statenet/stream.hpp>
#include <statenet/workflow.hpp>

#include <pybind11/pybind11.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace statenet::python {

/// "copy" / "reference" / "direct"; raises InvalidArgument otherwise.
std::optional<DataMode> data_mode(const std::optional<std::string>& name);
/// "jsonl" / "json" / "csv" / "text"; raises InvalidArgument otherwise.
std::optional<RecordFormat> record_format(const std::optional<std::string>& name);

/// Engine.load's keywords: vars (a dict), data_mode, history_db, history_level, park_db.
LoadOptions load_options(const pybind11::object& vars, const std::optional<std::string>& mode,
                         const std::optional<std::filesystem::path>& history_db,
                         const std::optional<std::string>& history_level,
                         const std::optional<std::filesystem::path>& park_db);

/// A Python callable held by C++ code that may run (and drop it) on threads without
/// the GIL: every call and the final release take the GIL first. An exception the
/// callable raises is reported with sys.unraisablehook, never thrown into the engine.
class Callback {
public:
    explicit Callback(pybind11::object callable);
    /// Runs `call(callable)` with the GIL held; `call` builds the arguments (Python
    /// objects need the GIL too) and calls it.
    template <typename F>
    void operator()(F&& call) const {
        pybind11::gil_scoped_acquire gil;
        try {
            call(*callable_);
        } catch (pybind11::error_already_set& e) {
            e.discard_as_unraisable(*callable_);
        }
    }

private:
    std::shared_ptr<pybind11::object> callable_;
};

}  // namespace statenet::python
