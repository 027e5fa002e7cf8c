// Python objects <-> statenet::Value, straight through the CPython API (no JSON text).
#include "convert.hpp"

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace py = pybind11;

namespace statenet::python {

namespace {

Value convert(PyObject* object, int depth);

Value sequence(PyObject* object, int depth) {
    const Py_ssize_t size = PySequence_Fast_GET_SIZE(object);
    PyObject** items = PySequence_Fast_ITEMS(object);
    Value::Array array;
    array.reserve(static_cast<std::size_t>(size));
    for (Py_ssize_t i = 0; i < size; ++i) array.push_back(convert(items[i], depth + 1));
    return Value(std::move(array));
}

Value mapping(PyObject* object, int depth) {
    Value::Object members;
    members.reserve(static_cast<std::size_t>(PyDict_Size(object)));
    PyObject* key = nullptr;
    PyObject* item = nullptr;
    Py_ssize_t position = 0;
    while (PyDict_Next(object, &position, &key, &item)) {
        if (!PyUnicode_Check(key))
            throw py::type_error(fmt::format("statenet records have str keys, not {}", Py_TYPE(key)->tp_name));
        Py_ssize_t length = 0;
        const char* text = PyUnicode_AsUTF8AndSize(key, &length);
        if (!text) throw py::error_already_set();
        members.emplace_back(std::string(text, static_cast<std::size_t>(length)), convert(item, depth + 1));
    }
    return Value(std::move(members));
}

Value convert(PyObject* object, int depth) {
    if (depth > max_nesting_depth)
        throw py::value_error(fmt::format("value is nested deeper than {} levels", max_nesting_depth));
    if (object == Py_None) return Value();
    if (PyBool_Check(object)) return Value(object == Py_True);
    if (PyLong_Check(object)) {
        int overflow = 0;
        const long long integer = PyLong_AsLongLongAndOverflow(object, &overflow);
        if (overflow == 0) {
            if (integer == -1 && PyErr_Occurred()) throw py::error_already_set();
            return Value(integer);
        }
        const double number = PyLong_AsDouble(object);
        if (number == -1.0 && PyErr_Occurred()) throw py::error_already_set();
        return Value(number);
    }
    if (PyFloat_Check(object)) return Value(PyFloat_AS_DOUBLE(object));
    if (PyUnicode_Check(object)) {
        Py_ssize_t length = 0;
        const char* text = PyUnicode_AsUTF8AndSize(object, &length);
        if (!text) throw py::error_already_set();
        return Value(std::string(text, static_cast<std::size_t>(length)));
    }
    if (PyDict_Check(object)) return mapping(object, depth);
    if (PyList_Check(object) || PyTuple_Check(object)) return sequence(object, depth);
    throw py::type_error(
        fmt::format("cannot pass a {} to statenet (None, bool, int, float, str, list, tuple and "
                    "dict with str keys can)",
                    Py_TYPE(object)->tp_name));
}

py::object text(const std::string& string) {
    // Lua strings may hold any bytes: invalid UTF-8 is replaced rather than refused.
    PyObject* object = PyUnicode_DecodeUTF8(string.data(), static_cast<Py_ssize_t>(string.size()), "replace");
    if (!object) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(object);
}

}  // namespace

Value to_value(py::handle object) { return convert(object.ptr(), 0); }

py::object to_python(const Value& value) {
    switch (value.type()) {
    case Value::Type::null: return py::none();
    case Value::Type::boolean: return py::bool_(value.as_bool());
    case Value::Type::integer: return py::reinterpret_steal<py::object>(PyLong_FromLongLong(value.as_int()));
    case Value::Type::number: return py::reinterpret_steal<py::object>(PyFloat_FromDouble(value.as_number()));
    case Value::Type::string: return text(value.as_string());
    case Value::Type::array: {
        const auto& array = value.as_array();
        py::list list(array.size());
        for (std::size_t i = 0; i < array.size(); ++i) list[i] = to_python(array[i]);
        return list;
    }
    case Value::Type::object: {
        py::dict dict;
        for (const auto& [key, member] : value.as_object()) dict[text(key)] = to_python(member);
        return dict;
    }
    }
    return py::none();
}

}  // namespace statenet::python
