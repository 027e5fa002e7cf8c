// The name of the ResourceFailure a resource call throws, for the resource tests.
#pragma once

#include "resources/binding.hpp"

#include <string>

namespace statenet_test {

/// Runs `call`; the name of the ResourceFailure it threw, or "no error".
std::string failure_name(auto&& call) {
    try {
        call();
    } catch (const statenet::detail::ResourceFailure& e) {
        return e.name();
    }
    return "no error";
}

}  // namespace statenet_test
