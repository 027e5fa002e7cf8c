// statenet's Python exceptions: one hierarchy under statenet.Error, mapped from what the
// C++ API throws.
#include "errors.hpp"

#include <statenet/error.hpp>
#include <statenet/history.hpp>
#include <statenet/value.hpp>

#include <string>

namespace py = pybind11;

namespace statenet::python {

namespace {

// Owned by the module object (added as attributes), so they live as long as it does.
struct Classes {
    PyObject* error = nullptr;
    PyObject* load_error = nullptr;
    PyObject* invalid_argument = nullptr;
    PyObject* json_error = nullptr;
    PyObject* not_found = nullptr;
    PyObject* state_error = nullptr;
    PyObject* history_error = nullptr;
    PyObject* signal_error = nullptr;
};

Classes classes;

PyObject* define(py::module_& module, const char* name, py::tuple bases, const char* doc) {
    const std::string qualified = std::string("statenet.") + name;
    PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!type) throw py::error_already_set();
    module.add_object(name, py::reinterpret_borrow<py::object>(type));
    return type;
}

/// Raises `type(message)` with extra attributes set on the instance.
void raise(PyObject* type, const char* message, const py::dict& attributes = {}) {
    py::object instance = py::reinterpret_borrow<py::object>(type)(message);
    for (auto [name, value] : attributes) py::setattr(instance, name, value);
    PyErr_SetObject(type, instance.ptr());
}

void raise_load_error(const LoadError& error) {
    py::list diagnostics;
    std::string message;
    for (const auto& d : error.diagnostics()) {
        diagnostics.append(py::cast(d));
        message += (message.empty() ? "" : "\n") + d.str();
    }
    if (message.empty()) message = error.what();
    py::dict attributes;
    attributes["diagnostics"] = diagnostics;
    const bool located = !error.diagnostics().empty();
    const Diagnostic first = located ? error.diagnostics().front() : Diagnostic{};
    attributes["file"] = located ? py::object(py::str(first.file)) : py::object(py::none());
    attributes["line"] = located && first.line > 0 ? py::object(py::int_(first.line)) : py::object(py::none());
    attributes["col"] = located && first.column > 0 ? py::object(py::int_(first.column)) : py::object(py::none());
    raise(classes.load_error, message.c_str(), attributes);
}

void translate(std::exception_ptr pointer) {
    try {
        std::rethrow_exception(pointer);
    } catch (const py::builtin_exception&) {
        throw;  // pybind11's own (TypeError, ValueError...) keep their Python type
    } catch (const py::error_already_set&) {
        throw;
    } catch (const LoadError& e) {
        raise_load_error(e);
    } catch (const JsonError& e) {
        py::dict attributes;
        attributes["offset"] = e.offset();
        raise(classes.json_error, e.what(), attributes);
    } catch (const NotFound& e) {
        raise(classes.not_found, e.what());
    } catch (const SignalError& e) {
        raise(classes.signal_error, e.what());
    } catch (const HistoryError& e) {
        raise(classes.history_error, e.what());
    } catch (const std::invalid_argument& e) {
        raise(classes.invalid_argument, e.what());
    } catch (const std::logic_error& e) {
        raise(classes.state_error, e.what());
    } catch (const std::runtime_error& e) {
        raise(classes.error, e.what());
    }
}

}  // namespace

void register_errors(py::module_& module) {
    const auto base = [](PyObject* type) { return py::reinterpret_borrow<py::object>(type); };
    classes.error = define(module, "Error", py::make_tuple(base(PyExc_Exception)),
                           "Base class of every statenet error (a store or resource failing, anything else).");
    classes.load_error = define(
        module, "LoadError", py::make_tuple(base(classes.error)),
        "A workflow does not load. `diagnostics` lists every problem (file, line, column, message); "
        "`file`, `line` and `col` locate the first one; str() is one 'file:line:col: message' line per problem.");
    classes.invalid_argument =
        define(module, "InvalidArgument", py::make_tuple(base(classes.error), base(PyExc_ValueError)),
               "Bad arguments: an unknown data mode, format or option, an unusable file.");
    classes.json_error = define(module, "JsonError", py::make_tuple(base(classes.invalid_argument)),
                                "Text that is not valid JSON; `offset` is where parsing stopped.");
    classes.not_found = define(module, "NotFound", py::make_tuple(base(classes.error), base(PyExc_LookupError)),
                               "No machine instance with that id.");
    classes.state_error = define(module, "StateError", py::make_tuple(base(classes.error)),
                                 "A call the object's state does not allow (a read-only store, step() without a "
                                 "manual clock).");
    classes.history_error =
        define(module, "HistoryError", py::make_tuple(base(classes.error)), "The execution history database failed.");
    classes.signal_error = define(module, "SignalError", py::make_tuple(base(classes.error)),
                                  "No parked record waits for that signal under that run id.");
    py::register_exception_translator(translate);
}

}  // namespace statenet::python
