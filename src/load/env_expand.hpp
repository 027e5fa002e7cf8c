// `${NAME}` / `${NAME:-default}` / `$$` expansion of a workflow's string values, done on
// the located Node tree before the model is built.
#pragma once

#include "load/node.hpp"
#include "model/diagnostics.hpp"

#include <statenet/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statenet::detail {

/// Looks a variable up; nullopt when it is not set. The default reads the process
/// environment (getenv); tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

/// What the expansion took from the environment: (variable name, value) pairs, so that
/// later messages can hide the values (they may be secrets).
using EnvSubstitutions = std::vector<std::pair<std::string, std::string>>;

/// Expands one string. `${NAME}` is the variable's value, `${NAME:-default}` its value
/// or `default` when it is unset or empty, `$$` a literal `$`; any other `$` stays as it
/// is. NAME is [A-Za-z_][A-Za-z0-9_]*. With `params` (the workflow's param values),
/// `${params.NAME}` is that param's value as text (JSON for arrays and tables). Problems
/// (an unset variable without a default, an unknown param, an unterminated or malformed
/// `${...}`) go to `diags` at `loc`, naming the variable, never showing a value.
std::string expand_env_string(std::string_view text, const Loc& loc, const EnvLookup& lookup, Diagnostics& diags,
                              EnvSubstitutions& used, const Value* params = nullptr);

/// Expands every string value of the tree in place (table keys are left alone). With
/// `params`, a string that is exactly `${params.NAME}` becomes the param's typed value.
EnvSubstitutions expand_env(Node& root, Diagnostics& diags, const EnvLookup& lookup = {},
                            const Value* params = nullptr);

/// Replaces, in every diagnostic message, each substituted value (of 4 characters or
/// more: shorter ones would mangle ordinary words) with `${NAME}`.
void redact_env(Diagnostics& diags, const EnvSubstitutions& used);

}  // namespace statenet::detail
