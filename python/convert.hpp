// Python objects <-> statenet::Value, straight through the CPython API (no JSON text).
#pragma once

#include <statenet/value.hpp>

#include <pybind11/pybind11.h>

namespace statenet::python {

/// None, bool, int, float, str, list, tuple and dict (str keys) become the JSON value
/// they stand for; ints beyond 64 bits become numbers. Anything else, a non-str key or
/// nesting deeper than max_nesting_depth raises TypeError / ValueError.
Value to_value(pybind11::handle object);

/// The Python object of a Value: dicts keep the key order.
pybind11::object to_python(const Value& value);

}  // namespace statenet::python
