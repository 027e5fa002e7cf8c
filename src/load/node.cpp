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

}  // namespace statenet::detail
