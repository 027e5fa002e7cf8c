// The pieces of the statenet Python module, each registered by its own file.
#pragma once

#include <statenet/result.hpp>

#include <pybind11/pybind11.h>

namespace statenet::python {

/// A Result as Python sees it: the data becomes a dict on first access, so a caller
/// that reads only `ok` or `final_state` never pays for it.
struct PyResult {
    Result result;
    pybind11::object data{};
};

void register_results(pybind11::module_& module);   // results.cpp
void register_workflow(pybind11::module_& module);  // workflow.cpp
void register_stream(pybind11::module_& module);    // stream.cpp
void register_machines(pybind11::module_& module);  // machines.cpp

}  // namespace statenet::python
