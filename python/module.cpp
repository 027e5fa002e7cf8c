// The statenet Python module: `import statenet`.
#include "bindings.hpp"
#include "errors.hpp"

#include <statenet/engine.hpp>

namespace py = pybind11;

PYBIND11_MODULE(statenet, module) {
    module.doc() = "statenet: state networks with LuaJIT logic, embedded in Python (see docs/python.md).";
    module.attr("__version__") = std::string(statenet::version());
    statenet::python::register_results(module);
    statenet::python::register_errors(module);
    statenet::python::register_workflow(module);
    statenet::python::register_stream(module);
    statenet::python::register_machines(module);
    statenet::python::register_history(module);
}
