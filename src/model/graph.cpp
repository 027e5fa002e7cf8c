// Renders a model as Graphviz dot or Mermaid for `statenet graph`.
#include "model/model.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

namespace statenet::detail {

namespace {

struct Edge {
    std::string from, to, label;
    enum class Style { plain, push, ret, error } style = Style::plain;
};

std::string arc_label(const Model& m, const Arc& arc) {
    std::vector<std::string> parts;
    if (arc.priority != 0) parts.push_back(fmt::format("[p={}]", arc.priority));
    if (!arc.on.empty()) parts.push_back("on " + arc.on);
    if (arc.after_ms >= 0) parts.push_back(fmt::format("after {} ms", arc.after_ms));
    if (arc.when) parts.push_back("when " + m.functions[*arc.when].describe());
    for (FnId t : arc.transform) parts.push_back("/ " + m.functions[t].describe());
    return fmt::format("{}", fmt::join(parts, " "));
}

std::vector<Edge> edges_of(const Model& m) {
    std::vector<Edge> edges;
    for (std::size_t n = 0; n < m.networks.size(); ++n) {
        const Network& net = m.networks[n];
        for (std::size_t s = 0; s < net.states.size(); ++s) {
            const State& state = net.states[s];
            std::string from = m.qualified(static_cast<int>(n), static_cast<int>(s));
            for (int index : state.arc_order) {
                const Arc& arc = state.arcs[index];
                if (arc.is_push() && arc.push_state >= 0) {
                    std::string label = arc_label(m, arc);
                    label +=
                        (label.empty() ? "" : " ") + fmt::format("push ({})", arc.isolation_copy ? "copy" : "share");
                    edges.push_back({from, m.qualified(arc.push_network, arc.push_state), label, Edge::Style::push});
                    if (arc.return_to >= 0)
                        edges.push_back({m.networks[arc.push_network].name,
                                         m.qualified(static_cast<int>(n), arc.return_to), "return", Edge::Style::ret});
                } else if (arc.to >= 0) {
                    edges.push_back({from, m.qualified(static_cast<int>(n), arc.to), arc_label(m, arc)});
                }
            }
            // A parallel state's branches and a map's sub-network, drawn as pushes are.
            auto fan_out = [&](int network, const std::string& label) {
                const int start = m.networks[static_cast<std::size_t>(network)].start;
                if (start >= 0) edges.push_back({from, m.qualified(network, start), label, Edge::Style::push});
            };
            if (state.parallel)
                for (int branch : state.parallel->branches) fan_out(branch, "branch");
            if (state.map && state.map->network >= 0) fan_out(state.map->network, "map");
            for (const Catcher& c : state.on_error) {
                if (c.to < 0) continue;
                std::string errors;
                for (const auto& e : c.errors) errors += (errors.empty() ? "" : ",") + e;
                edges.push_back(
                    {from, m.qualified(static_cast<int>(n), c.to), "on_error " + errors, Edge::Style::error});
            }
        }
    }
    return edges;
}

std::string quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string dot(const Model& m) {
    std::string out = fmt::format("digraph {} {{\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", quote(m.name));
    for (std::size_t n = 0; n < m.networks.size(); ++n) {
        const Network& net = m.networks[n];
        out += fmt::format("  subgraph {} {{\n    label={};\n", quote("cluster_" + net.name), quote(net.name));
        // A cluster node stands for the whole network, as the source of return edges.
        out += fmt::format("    {} [shape=point, style=invis];\n", quote(net.name));
        for (std::size_t s = 0; s < net.states.size(); ++s) {
            const State& st = net.states[s];
            std::string attrs = fmt::format("label={}", quote(st.name));
            if (st.is_end) attrs += ", shape=doubleoctagon";
            if (st.start) attrs += ", penwidth=2";
            out += fmt::format("    {} [{}];\n", quote(m.qualified(static_cast<int>(n), static_cast<int>(s))), attrs);
        }
        out += "  }\n";
    }
    for (const Edge& e : edges_of(m)) {
        std::string attrs = fmt::format("label={}", quote(e.label));
        if (e.style == Edge::Style::push) attrs += ", style=dashed";
        if (e.style == Edge::Style::ret) attrs += ", style=dotted";
        if (e.style == Edge::Style::error) attrs += ", color=red, fontcolor=red";
        out += fmt::format("  {} -> {} [{}];\n", quote(e.from), quote(e.to), attrs);
    }
    return out + "}\n";
}

std::string mermaid_id(const std::string& qualified) {
    std::string id;
    for (char c : qualified) id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return id;
}

std::string mermaid_text(const std::string& s) {
    std::string out;
    for (char c : s) out += c == '"' ? '\'' : (c == '|' ? '/' : c);
    return out;
}

std::string mermaid(const Model& m) {
    std::string out = "flowchart LR\n";
    for (std::size_t n = 0; n < m.networks.size(); ++n) {
        const Network& net = m.networks[n];
        out += fmt::format("  subgraph {}[\"{}\"]\n", mermaid_id("net_" + net.name), mermaid_text(net.name));
        for (std::size_t s = 0; s < net.states.size(); ++s) {
            const State& st = net.states[s];
            std::string id = mermaid_id(m.qualified(static_cast<int>(n), static_cast<int>(s)));
            if (st.is_end) out += fmt::format("    {}([\"{}\"])\n", id, mermaid_text(st.name));
            else if (st.start) out += fmt::format("    {}[[\"{}\"]]\n", id, mermaid_text(st.name));
            else out += fmt::format("    {}[\"{}\"]\n", id, mermaid_text(st.name));
        }
        out += "  end\n";
    }
    for (const Edge& e : edges_of(m)) {
        std::string from = e.style == Edge::Style::ret ? mermaid_id("net_" + e.from) : mermaid_id(e.from);
        std::string arrow = e.style == Edge::Style::plain ? "-->" : (e.style == Edge::Style::error ? "--x" : "-.->");
        if (e.label.empty()) out += fmt::format("  {} {} {}\n", from, arrow, mermaid_id(e.to));
        else out += fmt::format("  {} {}|\"{}\"| {}\n", from, arrow, mermaid_text(e.label), mermaid_id(e.to));
    }
    return out;
}

}  // namespace

std::string render_graph(const Model& model, GraphFormat format) {
    return format == GraphFormat::dot ? dot(model) : mermaid(model);
}

std::string render_run_graph(const Model& model, GraphFormat format, const std::vector<HistoryStep>& steps) {
    std::string out = render_graph(model, format);
    const bool is_dot = format == GraphFormat::dot;
    if (is_dot) out.resize(out.rfind('}'));  // reopen the digraph
    auto id = [&](const std::string& state) { return is_dot ? quote(state) : mermaid_id(state); };
    std::vector<std::pair<std::string, bool>> visited;  // state, failed
    for (const HistoryStep& s : steps) {
        auto found =
            std::find_if(visited.begin(), visited.end(), [&](const auto& v) { return v.first == s.qualified(); });
        if (found == visited.end()) found = visited.insert(visited.end(), {s.qualified(), false});
        if (s.status == "failed") found->second = true;
    }
    for (const auto& [state, failed] : visited) {
        if (is_dot)
            out += fmt::format("  {} [style=\"rounded,filled\", fillcolor=\"{}\"];\n", id(state),
                               failed ? "#ffdddd" : "#ddffdd");
        else out += fmt::format("  class {} {}\n", id(state), failed ? "run_failed" : "run_visited");
    }
    // A step's edge comes from its parent step's state.
    for (const HistoryStep& s : steps) {
        if (!s.parent || *s.parent < 1 || static_cast<std::size_t>(*s.parent) > steps.size()) continue;
        const HistoryStep& from = steps[static_cast<std::size_t>(*s.parent) - 1];
        std::string label = std::to_string(s.seq) + (s.via == "arc" ? "" : " " + s.via);
        if (is_dot)
            out += fmt::format("  {} -> {} [label={}, color=blue, fontcolor=blue, penwidth=2];\n", id(from.qualified()),
                               id(s.qualified()), quote(label));
        else out += fmt::format("  {} ==>|\"{}\"| {}\n", id(from.qualified()), mermaid_text(label), id(s.qualified()));
    }
    if (is_dot) return out + "}\n";
    return out + "  classDef run_visited fill:#dfd\n  classDef run_failed fill:#fdd,stroke:#c00\n";
}

}  // namespace statenet::detail
