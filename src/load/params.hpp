// A parameterised workflow's `[params.NAME]` declarations, the values a load gives them,
// and the checks between the two (docs/workflow-format.md#parameters).
#pragma once

#include "load/env_expand.hpp"
#include "load/node.hpp"
#include "model/diagnostics.hpp"

#include <statenet/value.hpp>

#include <map>
#include <string>

namespace statenet::detail {

/// Takes the `params` declarations out of the composed `root` and gives each declared
/// param its value: the host's (`given`: LoadOptions::params, `--param`; a string is
/// read as the declared type, so `--param workers=4` is an int), else the instance
/// file's (`instance`: its `[params]` table, typed as written), else the declaration's
/// `default`. Returns them as an object, name -> value; params without a value are
/// left out. Reports unknown names, missing required params, wrong types and malformed
/// declarations. String defaults and instance values take `${ENV}` references (what
/// they used is added to `used`).
Value read_params(Node& root, const Node& instance, const std::map<std::string, Value>& given, Diagnostics& diags,
                  EnvSubstitutions& used);

}  // namespace statenet::detail
