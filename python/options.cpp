// Keyword arguments of the Python API -> the C++ option structs, and Python callables
// the engine calls from its own threads.
#include "options.hpp"

#include "convert.hpp"

#include <statenet/history.hpp>

#include <stdexcept>

namespace py = pybind11;

namespace statenet::python {

std::optional<DataMode> data_mode(const std::optional<std::string>& name) {
    if (!name) return std::nullopt;
    if (auto mode = parse_data_mode(*name)) return mode;
    throw std::invalid_argument("unknown data mode '" + *name + "' (copy, reference or direct)");
}

std::optional<RecordFormat> record_format(const std::optional<std::string>& name) {
    if (!name) return std::nullopt;
    if (auto format = parse_record_format(*name)) return format;
    throw std::invalid_argument("unknown record format '" + *name + "' (jsonl, json, csv, text or xml)");
}

LoadOptions load_options(const py::object& vars, const std::optional<std::string>& mode,
                         const std::optional<std::filesystem::path>& history_db,
                         const std::optional<std::string>& history_level,
                         const std::optional<std::filesystem::path>& park_db) {
    LoadOptions options;
    if (!vars.is_none()) {
        if (!py::isinstance<py::dict>(vars)) throw py::type_error("vars must be a dict");
        for (auto [key, value] : vars.cast<py::dict>()) options.vars[py::str(key)] = to_value(value);
    }
    options.data_mode = data_mode(mode);
    options.history_db = history_db;
    if (history_level) {
        options.history_level = parse_history_level(*history_level);
        if (!options.history_level)
            throw std::invalid_argument("unknown history level '" + *history_level + "' (off, runs, steps or full)");
    }
    options.park_db = park_db;
    return options;
}

Callback::Callback(py::object callable)
    : callable_(new py::object(std::move(callable)), [](py::object* object) {
          if (!Py_IsInitialized()) return;  // the interpreter is gone: nothing left to release
          py::gil_scoped_acquire gil;
          delete object;
      }) {}

}  // namespace statenet::python
