// The pieces of the statenet Python module, each registered by its own file.
#pragma once

#include <statenet/result.hpp>

#include <pybind11/pybind11.h>

#include <vector>

namespace statenet::python {

/// A Result as Python sees it: the data becomes a dict on first access, so a caller
/// that reads only `ok` or `final_state` never pays for it.
struct PyResult {
    Result result;
    pybind11::object data{};
};

/// Token usage as {"prompt_tokens", "completion_tokens"}; resource calls as a list of dicts.
pybind11::dict usage_dict(const TokenUsage& usage);
pybind11::list resources_list(const std::vector<ResourceUse>& uses);

void register_results(pybind11::module_& module);   // results.cpp
void register_workflow(pybind11::module_& module);  // workflow.cpp
void register_stream(pybind11::module_& module);    // stream.cpp
void register_machines(pybind11::module_& module);  // machines.cpp
void register_history(pybind11::module_& module);   // history.cpp

}  // namespace statenet::python
