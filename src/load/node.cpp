// Names of document node kinds, for messages such as "expected a table, got a string".
#include "load/node.hpp"

namespace statenet::detail {

Node::Node() = default;
Node::Node(const Node&) = default;
Node::Node(Node&&) noexcept = default;
Node& Node::operator=(const Node&) = default;
Node& Node::operator=(Node&&) noexcept = default;
Node::~Node() = default;

std::string_view kind_name(Node::Kind kind) noexcept {
    switch (kind) {
    case Node::Kind::table: return "table";
    case Node::Kind::array: return "array";
    case Node::Kind::string: return "string";
    case Node::Kind::integer: return "integer";
    case Node::Kind::number: return "number";
    case Node::Kind::boolean: return "boolean";
    case Node::Kind::function: return "function";
    }
    return "unknown";
}

std::optional<Node> take_field(Node& table, std::string_view key) {
    for (std::size_t i = 0; i < table.fields.size(); ++i) {
        if (table.fields[i].first != key) continue;
        Node value = std::move(table.fields[i].second);
        const auto at = static_cast<std::ptrdiff_t>(i);
        table.fields.erase(table.fields.begin() + at);
        if (i < table.field_locs.size()) table.field_locs.erase(table.field_locs.begin() + at);
        return value;
    }
    return std::nullopt;
}

bool drops_first_newline(std::string_view literal) noexcept {
    std::size_t open = 0;
    if (literal.starts_with("\"\"\"") || literal.starts_with("'''")) {
        open = 3;
    } else if (literal.starts_with("[")) {
        open = 1;
        while (open < literal.size() && literal[open] == '=') ++open;
        if (open >= literal.size() || literal[open] != '[') return false;
        ++open;
    } else {
        return false;
    }
    const std::string_view rest = literal.substr(open);
    return rest.starts_with("\n") || rest.starts_with("\r\n");
}

}  // namespace statenet::detail
