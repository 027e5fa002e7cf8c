// An XML element to a record through pugixml's DOM, one element at a time.
#include "io/xml_record.hpp"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <string>

namespace statenet::detail {

namespace {

bool is_blank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

/// Character data directly inside `node` (text and CDATA), in order.
std::string own_text(const pugi::xml_node& node) {
    std::string text;
    for (const pugi::xml_node& child : node.children())
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) text += child.value();
    return text;
}

bool is_leaf(const pugi::xml_node& node) {
    if (node.first_attribute()) return false;
    for (const pugi::xml_node& child : node.children())
        if (child.type() == pugi::node_element) return false;
    return true;
}

/// A field that appears again becomes a list of its values, in document order.
void add_field(Value& record, const char* name, Value value) {
    Value* existing = record.find(name);
    if (!existing) return record.set(name, std::move(value));
    if (!existing->is_array()) *existing = Value(Value::Array{std::move(*existing)});
    existing->push_back(std::move(value));
}

Value element_value(const pugi::xml_node& node) {
    Value record = Value::object();
    for (const pugi::xml_attribute& attribute : node.attributes())
        record.set(attribute.name(), Value(std::string(attribute.value())));
    for (const pugi::xml_node& child : node.children()) {
        if (child.type() != pugi::node_element) continue;
        add_field(record, child.name(), is_leaf(child) ? Value(own_text(child)) : element_value(child));
    }
    const std::string text = own_text(node);
    if (!is_blank(text)) add_field(record, "text", Value(text));
    return record;
}

class XmlRecordParser final : public RecordParser {
public:
    std::optional<ParseFailure> parse(std::string_view text, Value& record) const override {
        pugi::xml_document document;
        const pugi::xml_parse_result result =
            document.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_utf8);
        if (!result)
            return ParseFailure{
                {"InvalidXml", fmt::format("{} (at byte {} of the element)", result.description(), result.offset), ""},
                true};
        const pugi::xml_node element = document.document_element();
        if (!element) return ParseFailure{{"InvalidXml", "no element", ""}, true};
        record = element_value(element);
        return std::nullopt;
    }
};

}  // namespace

const RecordParser& xml_record_parser() {
    static const XmlRecordParser parser;
    return parser;
}

}  // namespace statenet::detail
