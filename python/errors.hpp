// statenet's Python exceptions: one hierarchy under statenet.Error, mapped from what the
// C++ API throws.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>

namespace statenet::python {

/// Thrown by the bindings for an unknown machine instance; raised as statenet.NotFound.
struct NotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Creates statenet.Error and its subclasses in `module` and registers the translator
/// from C++ exceptions to them.
void register_errors(pybind11::module_& module);

}  // namespace statenet::python
