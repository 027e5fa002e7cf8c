// Reads a TOML workflow into a located Node tree, keeping keys in source order.
#include "load/node.hpp"
#include "load/toml_nesting.hpp"

#include <statenet/value.hpp>

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <tuple>

#if !TOML_EXCEPTIONS
#error "the TOML reader relies on toml::parse_error exceptions"
#endif

namespace statenet::detail {

namespace {

Loc loc_of(const toml::source_region& region, const std::string& file) {
    return {file, static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

bool before(const toml::source_position& a, const toml::source_position& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
}

class toml_converter {
public:
    toml_converter(std::string_view text, const std::string& file, Diagnostics& diags)
        : text_(text), file_(file), diags_(diags) {
        line_starts_.push_back(0);
        for (std::size_t i = 0; i < text_.size(); ++i)
            if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }

    /// False when the value cannot be represented; it has been reported and is left out.
    bool convert(const toml::node& in, Node& out) {
        out.loc = loc_of(in.source(), file_);
        switch (in.type()) {
        case toml::node_type::table: return convert_table(*in.as_table(), out);
        case toml::node_type::array: return convert_array(*in.as_array(), out);
        case toml::node_type::string:
            out.kind = Node::Kind::string;
            out.str = in.as_string()->get();
            if (drops_first_newline(text_at(out.loc))) out.text_line = out.loc.line + 1;
            return true;
        case toml::node_type::integer:
            out.kind = Node::Kind::integer;
            out.integer = in.as_integer()->get();
            return true;
        case toml::node_type::floating_point:
            out.kind = Node::Kind::number;
            out.number = in.as_floating_point()->get();
            return true;
        case toml::node_type::boolean:
            out.kind = Node::Kind::boolean;
            out.boolean = in.as_boolean()->get();
            return true;
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time: diags_.error(out.loc, "dates are not supported here"); return false;
        case toml::node_type::none: break;  // only an empty node_view has no type
        }
        return false;
    }

private:
    /// The text from a (1-based line, column in code points) position to the end.
    std::string_view text_at(const Loc& at) const {
        if (at.line < 1 || static_cast<std::size_t>(at.line) > line_starts_.size()) return {};
        std::size_t i = line_starts_[static_cast<std::size_t>(at.line) - 1];
        for (int column = 1; i < text_.size() && text_[i] != '\n'; ++i) {
            if ((static_cast<unsigned char>(text_[i]) & 0xC0) == 0x80) continue;
            if (column++ == at.column) break;
        }
        return text_.substr(std::min(i, text_.size()));
    }

    bool convert_table(const toml::table& in, Node& out) {
        out.kind = Node::Kind::table;
        // toml++ keeps tables as sorted maps; the key's first mention is its definition
        // point (a super-table's own [header] may come after its sub-tables).
        std::vector<std::pair<const toml::key*, const toml::node*>> entries;
        for (auto&& [key, value] : in) entries.emplace_back(&key, &value);
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return before(a.first->source().begin, b.first->source().begin);
        });
        for (const auto& [key, value] : entries) {
            Node child;
            if (!convert(*value, child)) continue;
            out.fields.emplace_back(std::string(key->str()), std::move(child));
            out.field_locs.push_back(loc_of(key->source(), file_));
        }
        return true;
    }

    bool convert_array(const toml::array& in, Node& out) {
        out.kind = Node::Kind::array;
        for (const toml::node& item : in) {
            Node child;
            if (convert(item, child)) out.items.push_back(std::move(child));
        }
        return true;
    }

    std::string_view text_;
    std::vector<std::size_t> line_starts_;
    const std::string& file_;
    Diagnostics& diags_;
};

}  // namespace

bool read_toml(std::string_view text, const std::string& file, Node& out, Diagnostics& diags) {
    // Before toml++, which recurses once per dotted-key segment and so can overflow the stack.
    if (auto at = find_excess_nesting(text, file)) {
        diags.error(*at, fmt::format("nested deeper than {} levels (tables, dotted-key segments, arrays and "
                                     "inline tables each count)",
                                     max_nesting_depth));
        return false;
    }
    toml::table root;
    try {
        root = toml::parse(text, std::string_view{file});
    } catch (const toml::parse_error& e) {
        diags.error(loc_of(e.source(), file), std::string(e.description()));
        return false;
    }
    out = Node{};
    toml_converter(text, file, diags).convert(root, out);
    // The root table has no header; its position is the start of the file.
    out.loc = {file, 1, 1};
    return true;
}

}  // namespace statenet::detail
