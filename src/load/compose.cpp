// Workflow composition: extends / include / pattern layers merged into one document tree,
// then the chosen profile overlaid.
#include "load/compose.hpp"

#include "load/builder.hpp"
#include "lua/source_snapshot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace statenet::detail {

namespace {

namespace fs = std::filesystem;

// A chain of bases deeper than this is surely a mistake (and a cycle is caught anyway).
constexpr std::size_t max_layers_deep = 32;

std::string where(const Loc& loc) { return fmt::format("{}:{}:{}", loc.file, loc.line, loc.column); }

void put(Node& table, std::string key, Node value, const Loc& key_at) {
    table.fields.emplace_back(std::move(key), std::move(value));
    if (table.field_locs.size() + 1 == table.fields.size()) table.field_locs.push_back(key_at);
}

bool same_value(const Node& a, const Node& b) {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
    case Node::Kind::string: return a.str == b.str;
    case Node::Kind::integer: return a.integer == b.integer;
    case Node::Kind::number: return a.number == b.number;
    case Node::Kind::boolean: return a.boolean == b.boolean;
    case Node::Kind::function: return false;
    case Node::Kind::array:
        return a.items.size() == b.items.size() &&
               std::equal(a.items.begin(), a.items.end(), b.items.begin(), same_value);
    case Node::Kind::table:
        if (a.fields.size() != b.fields.size()) return false;
        for (const auto& [key, value] : a.fields) {
            const Node* other = b.field(key);
            if (!other || !same_value(value, *other)) return false;
        }
        return true;
    }
    return false;
}

/// Merges `src` over `dst`: tables deep, every other value replaced. With `peers` (two
/// included files) a value both set differently is a conflict. A key that is a table in
/// one and not in the other is always a conflict.
void merge_into(Node& dst, const Node& src, bool peers, const std::string& prefix, Diagnostics& diags) {
    for (std::size_t i = 0; i < src.fields.size(); ++i) {
        const std::string& key = src.fields[i].first;
        const Node& value = src.fields[i].second;
        auto it = std::find_if(dst.fields.begin(), dst.fields.end(), [&](const auto& f) { return f.first == key; });
        if (it == dst.fields.end()) {
            put(dst, key, value, key_loc(src, i));
            continue;
        }
        Node& old = it->second;
        const std::string path = prefix + key;
        const bool old_table = old.kind == Node::Kind::table, new_table = value.kind == Node::Kind::table;
        if (old_table && new_table) {
            merge_into(old, value, peers, path + ".", diags);
        } else if (old_table != new_table) {
            diags.error(key_loc(src, i), fmt::format("'{}' is a {} here but a {} at {}: a table cannot be merged "
                                                     "with another kind of value",
                                                     path, kind_name(value.kind), kind_name(old.kind), where(old.loc)));
        } else if (peers && !same_value(old, value)) {
            diags.error(key_loc(src, i),
                        fmt::format("'{}' conflicts with the value set at {}: included files may not override each "
                                    "other (set it in the including file, which overrides both)",
                                    path, where(old.loc)));
        } else {
            old = value;
        }
    }
}

std::vector<std::string> known_patterns(const std::string& stdlib_dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::path(stdlib_dir) / "patterns", ec))
        if (fs::exists(entry.path() / "workflow.toml", ec)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

class Composer {
public:
    Composer(const ComposeContext& context, const fs::path& entry, Diagnostics& diags)
        : context_(context), diags_(diags) {
        std::error_code ec;
        stack_.push_back(fs::weakly_canonical(entry, ec).string());
        stack_names_.push_back(entry.string());
    }

    /// The composed tree of the file whose own tree is `own`, in directory `dir`.
    Node compose_file(Node own, const fs::path& dir, bool entry, Node* param_values) {
        const std::optional<Node> extends = take_field(own, "extends");
        const std::optional<Node> include = take_field(own, "include");
        const std::optional<Node> pattern = take_field(own, "pattern");
        if (pattern && !entry)
            diags_.error(pattern->loc, "'pattern' makes an instance file, which cannot be extended or included");
        if (pattern && extends) diags_.error(extends->loc, "an instance file ('pattern') cannot also have 'extends'");
        if (pattern && entry && param_values) {
            if (auto values = take_field(own, "params")) *param_values = std::move(*values);
        }
        Node composed;
        composed.loc = own.loc;
        std::vector<Node> inherited_scripts;  // the bases' and includes' scripts, nearest first
        if (const Node* base = pattern && entry ? &*pattern : extends ? &*extends : nullptr) {
            Node layer;
            if (read_layer(*base, dir, pattern ? "pattern" : "extends", layer)) {
                take_scripts(layer, inherited_scripts);
                composed = std::move(layer);
            }
        }
        if (include) read_includes(*include, dir, composed, inherited_scripts);

        std::vector<Node> scripts;
        // A file on its own keeps its scripts exactly as written (the builder checks them).
        if (entry && inherited_scripts.empty()) {
            merge_into(composed, own, false, "", diags_);
            return composed;
        }
        if (std::optional<Node> own_scripts = take_field(own, "scripts")) {
            if (!entry) absolutize_scripts(*own_scripts, dir);
            scripts.push_back(std::move(*own_scripts));
        }
        if (!entry) scripts.push_back(dir_node(dir, own.loc));
        std::move(inherited_scripts.begin(), inherited_scripts.end(), std::back_inserter(scripts));
        merge_into(composed, own, false, "", diags_);
        if (!scripts.empty()) put(composed, "scripts", joined(scripts, own.loc), own.loc);
        return composed;
    }

private:
    /// Reads and composes the file `ref` names (relative to `from`); false when it could not.
    bool read_layer(const Node& ref, const fs::path& from, std::string_view key, Node& out) {
        if (ref.kind != Node::Kind::string || ref.str.empty()) {
            diags_.error(ref.loc, fmt::format("'{}' must be a file name (a string)", key));
            return false;
        }
        fs::path file = pattern_file(ref.str, context_.stdlib_dir);
        if (file.empty()) file = from / ref.str;
        else if (!fs::exists(file)) {
            const auto names = known_patterns(context_.stdlib_dir);
            std::vector<std::string_view> views(names.begin(), names.end());
            diags_.error(ref.loc,
                         fmt::format("unknown pattern '{}' (available: {}){}", ref.str,
                                     names.empty() ? "none" : fmt::format("std:{}", fmt::join(names, ", std:")),
                                     suggest(ref.str.substr(pattern_prefix.size()), views)));
            return false;
        }
        if (file.extension() != ".toml") {
            diags_.error(ref.loc, fmt::format("'{}' names '{}': only TOML files can be extended or included", key,
                                              file.string()));
            return false;
        }
        std::error_code ec;
        const std::string canonical = fs::weakly_canonical(file, ec).string();
        if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end()) {
            diags_.error(ref.loc, fmt::format("'{}' makes a cycle: {} -> {}", key, fmt::join(stack_names_, " -> "),
                                              file.string()));
            return false;
        }
        if (stack_.size() >= max_layers_deep) {
            diags_.error(ref.loc, fmt::format("more than {} files deep in extends/include", max_layers_deep));
            return false;
        }
        const std::optional<std::string> text = context_.sources.text(file.string());
        if (!text) {
            diags_.error(ref.loc, fmt::format("cannot read '{}', named by '{}'", file.string(), key));
            return false;
        }
        Node tree;
        if (!read_toml(*text, file.string(), tree, diags_)) return false;
        stack_.push_back(canonical);
        stack_names_.push_back(file.string());
        out = compose_file(std::move(tree), file.parent_path(), false, nullptr);
        stack_.pop_back();
        stack_names_.pop_back();
        return true;
    }

    void read_includes(const Node& include, const fs::path& dir, Node& composed, std::vector<Node>& scripts) {
        std::vector<const Node*> refs;
        if (include.kind == Node::Kind::array)
            for (const auto& item : include.items) refs.push_back(&item);
        else refs.push_back(&include);
        Node peers;
        peers.loc = include.loc;
        std::vector<Node> include_scripts;
        for (const Node* ref : refs) {
            Node layer;
            if (!read_layer(*ref, dir, "include", layer)) continue;
            take_scripts(layer, include_scripts);
            merge_into(peers, layer, true, "", diags_);
        }
        // The later include's modules are searched first, as its values would win over a base's.
        std::reverse(include_scripts.begin(), include_scripts.end());
        scripts.insert(scripts.begin(), std::make_move_iterator(include_scripts.begin()),
                       std::make_move_iterator(include_scripts.end()));
        merge_into(composed, peers, false, "", diags_);
    }

    static void take_scripts(Node& layer, std::vector<Node>& into) {
        if (auto s = take_field(layer, "scripts")) into.push_back(std::move(*s));
    }

    static void absolutize_scripts(Node& scripts, const fs::path& dir) {
        auto fix = [&](Node& n) {
            if (n.kind == Node::Kind::string) n.str = (fs::absolute(dir) / n.str).lexically_normal().string();
        };
        if (scripts.kind == Node::Kind::array)
            for (auto& item : scripts.items) fix(item);
        else fix(scripts);
    }

    static Node dir_node(const fs::path& dir, const Loc& loc) {
        Node n;
        n.kind = Node::Kind::string;
        n.loc = loc;
        n.str = fs::absolute(dir).lexically_normal().string();
        return n;
    }

    /// One `scripts` list from several (each a list or a single string), duplicates dropped.
    static Node joined(std::vector<Node>& lists, const Loc& loc) {
        Node out;
        out.kind = Node::Kind::array;
        out.loc = loc;
        auto add = [&](Node& n) {
            if (n.kind == Node::Kind::string)
                for (const auto& seen : out.items)
                    if (seen.kind == Node::Kind::string && seen.str == n.str) return;
            out.items.push_back(std::move(n));
        };
        for (auto& list : lists) {
            if (list.kind == Node::Kind::array)
                for (auto& item : list.items) add(item);
            else add(list);
        }
        return out;
    }

    const ComposeContext& context_;
    Diagnostics& diags_;
    std::vector<std::string> stack_;        // canonical paths of the files being composed
    std::vector<std::string> stack_names_;  // the same, as written, for messages
};

void apply_profile(Node& root, const ComposeContext& context, Diagnostics& diags) {
    const std::optional<Node> profiles = take_field(root, "profiles");
    if (profiles && profiles->kind != Node::Kind::table) {
        diags.error(profiles->loc,
                    fmt::format("'profiles' must be a table of tables, not a {}", kind_name(profiles->kind)));
        return;
    }
    if (profiles)
        for (std::size_t i = 0; i < profiles->fields.size(); ++i)
            if (profiles->fields[i].second.kind != Node::Kind::table)
                diags.error(key_loc(*profiles, i), fmt::format("profile '{}' must be a table (an overlay of the "
                                                               "workflow's keys)",
                                                               profiles->fields[i].first));
    if (!context.profile) return;
    const std::string& name = *context.profile;
    if (!profiles) {
        // One STATENET_PROFILE may serve a shell that runs many workflows.
        if (!context.profile_from_env)
            diags.error(root.loc, fmt::format("profile '{}' asked for, but the workflow has no [profiles]", name));
        return;
    }
    const Node* chosen = profiles->field(name);
    if (!chosen) {
        std::vector<std::string_view> names;
        for (const auto& field : profiles->fields) names.push_back(field.first);
        diags.error(profiles->loc, fmt::format("unknown profile '{}'{} (defined: {}){}", name,
                                               context.profile_from_env ? " (from STATENET_PROFILE)" : "",
                                               fmt::join(names, ", "), suggest(name, names)));
        return;
    }
    if (chosen->kind == Node::Kind::table) merge_into(root, *chosen, false, "", diags);
}

}  // namespace

std::string pattern_file(std::string_view ref, const std::string& stdlib_dir) {
    if (!ref.starts_with(pattern_prefix)) return {};
    const std::string_view name = ref.substr(pattern_prefix.size());
    const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    // A name that could climb out of the patterns directory names no pattern.
    return (fs::path(stdlib_dir) / "patterns" / (plain ? std::string(name) : std::string("?")) / "workflow.toml")
        .string();
}

void compose(Node& root, const ComposeContext& context, Node& param_values, Diagnostics& diags) {
    if (root.kind != Node::Kind::table) return;  // the builder reports it
    const fs::path entry(root.loc.file);
    const fs::path dir = entry.parent_path();
    Composer composer(context, entry, diags);
    root = composer.compose_file(std::move(root), dir.empty() ? fs::path(".") : dir, true, &param_values);
    apply_profile(root, context, diags);
}

}  // namespace statenet::detail
