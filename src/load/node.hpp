// A workflow document as a located tree: what the TOML and Lua readers produce and
// the model builder consumes, so both formats share one set of checks.
#pragma once

#include "model/diagnostics.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statenet::detail {

struct Node {
    enum class Kind { table, array, string, integer, number, boolean, function };
    // Declared here, defaulted in node.cpp: defined in the class, clang (with libstdc++
    // 12) instantiates std::pair<std::string, Node> while Node is still incomplete.
    Node();
    Node(const Node&);
    Node(Node&&) noexcept;
    Node& operator=(const Node&);
    Node& operator=(Node&&) noexcept;
    ~Node();

    Kind kind = Kind::table;
    Loc loc;
    std::string str;    // string
    int text_line = 0;  // string: the line its text starts on, when the literal drops a first newline (`"""`, `[[`)
    std::int64_t integer = 0;
    double number = 0;
    bool boolean = false;
    std::vector<std::pair<std::string, Node>> fields;  // table, in definition order
    std::vector<Loc> field_locs;                       // table: where each key of `fields` is written, same order
    std::vector<Node> items;                           // array
    std::vector<PathKey> fn_path;                      // function: where it sits in the Lua workflow table

    const Node* field(std::string_view key) const {
        for (const auto& [k, v] : fields)
            if (k == key) return &v;
        return nullptr;
    }
};

std::string_view kind_name(Node::Kind kind) noexcept;

/// Removes `key` from the table `table` and returns its value; nullopt when absent.
std::optional<Node> take_field(Node& table, std::string_view key);

/// True when the string literal at the start of `literal` is a multi-line one whose
/// newline right after the opening delimiter is not part of the string (TOML `"""` and
/// `'''`, Lua `[[` and `[==[`): its text then starts on the next line.
bool drops_first_newline(std::string_view literal) noexcept;

/// Reads a TOML workflow. On a syntax error, reports it and returns false.
/// Tables keep their keys in source order.
bool read_toml(std::string_view text, const std::string& file, Node& out, Diagnostics& diags);

}  // namespace statenet::detail
