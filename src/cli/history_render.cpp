// Text forms of execution history: tables, the step tree, path graphs and replay reports.
#include "cli/history_render.hpp"

#include <fmt/format.h>

#include <map>

namespace statenet::cli {

namespace {

std::string micros(std::int64_t ns) {
    const double us = static_cast<double>(ns) / 1000.0;
    if (us >= 1000000) return fmt::format("{:.2f} s", us / 1000000);
    if (us >= 1000) return fmt::format("{:.2f} ms", us / 1000);
    return fmt::format("{:.1f} us", us);
}

std::string error_text(const std::optional<ErrorInfo>& e) {
    return e ? fmt::format("{}: {}", e->name, e->message) : std::string();
}

/// Cuts a one-line text to `width` characters.
std::string clip(const std::string& text, std::size_t width) {
    std::string line = text.substr(0, text.find('\n'));
    if (line.size() <= width) return line;
    return line.substr(0, width - 3) + "...";
}

std::string step_line(const HistoryStep& s, std::int64_t previous) {
    std::string line = fmt::format("{:>4}  {}{:<24} {:<6} {:>10}", s.seq, std::string(2 * s.depth, ' '), s.qualified(),
                                   s.status, micros(s.duration_ns));
    if (s.attempt > 0) line += fmt::format("  attempt {}", s.attempt);
    if (s.via != "arc" && s.via != "start") line += fmt::format("  via {}", s.via);
    if (s.parent && *s.parent != previous) line += fmt::format(" from {}", *s.parent);
    if (!s.arc.empty()) line += "  -> " + s.arc;
    if (!s.reason.empty()) line += " (" + s.reason + ")";
    if (s.error) line += "  " + error_text(s.error);
    return line;
}

std::string node_id(std::map<std::string, int>& ids, const std::string& state) {
    auto [it, added] = ids.emplace(state, static_cast<int>(ids.size()));
    return fmt::format("s{}", it->second);
}

struct PathGraph {
    std::map<std::string, int> ids;
    std::vector<std::pair<std::string, bool>> nodes;  // state, failed
    struct Edge {
        std::string from, to, label;
    };
    std::vector<Edge> edges;
};

PathGraph path_graph(const std::vector<HistoryStep>& steps) {
    PathGraph g;
    std::map<std::int64_t, const HistoryStep*> by_seq;
    for (const auto& s : steps) {
        by_seq[s.seq] = &s;
        const std::string state = s.qualified();
        if (!g.ids.count(state)) g.nodes.emplace_back(state, false);
        node_id(g.ids, state);
        if (s.status == "failed")
            for (auto& [name, failed] : g.nodes)
                if (name == state) failed = true;
        if (s.parent && by_seq.count(*s.parent)) {
            std::string label = std::to_string(s.seq);
            if (s.via != "arc") label += " " + s.via;
            g.edges.push_back({node_id(g.ids, by_seq[*s.parent]->qualified()), node_id(g.ids, state), label});
        }
    }
    return g;
}

std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("'") : std::string(1, c);
    return out + "\"";
}

}  // namespace

std::string runs_table(const std::vector<HistoryRun>& runs) {
    std::string out = fmt::format("{:>6}  {:<36}  {:<24}  {:<6}  {:<24}  {:>10}  {:>6}  {:>11}  {}\n", "ID", "RUN",
                                  "STARTED", "STATUS", "FINAL STATE", "DURATION", "CALLS", "TOKENS", "ERROR");
    for (const auto& r : runs) {
        std::uint64_t calls = 0;
        for (const auto& use : r.resources) calls += use.calls;
        const std::string tokens =
            r.usage.empty() ? "" : fmt::format("{}+{}", r.usage.prompt_tokens, r.usage.completion_tokens);
        out += fmt::format("{:>6}  {:<36}  {:<24}  {:<6}  {:<24}  {:>10}  {:>6}  {:>11}  {}\n",
                           "#" + std::to_string(r.id), r.run_id, format_history_time(r.started_us),
                           r.ok ? "ok" : "failed", r.final_state, micros(r.duration_ns),
                           calls ? std::to_string(calls) : std::string(), tokens, clip(error_text(r.error), 80));
    }
    return out;
}

namespace {

// "api (http) 3 calls, 1 error, 12.40 ms[, health open]"
std::string use_text(const ResourceUse& use) {
    std::string text =
        fmt::format("{} ({}) {} call{}, {} error{}, {}", use.name, use.type, use.calls, use.calls == 1 ? "" : "s",
                    use.errors, use.errors == 1 ? "" : "s", micros(static_cast<std::int64_t>(use.latency_ms * 1e6)));
    if (!use.health.empty()) text += ", health " + use.health;
    return text;
}

std::string tokens_text(const TokenUsage& usage) {
    return fmt::format("{} prompt + {} completion tokens", usage.prompt_tokens, usage.completion_tokens);
}

}  // namespace

std::string run_text(const HistoryRun& r, const std::vector<HistoryStep>& steps) {
    std::string out = fmt::format("run {} (#{})\n", r.run_id, r.id);
    out += fmt::format("workflow   {} {} ({}), scripts {}\n", r.workflow, r.version, r.file, r.scripts_hash);
    out += fmt::format("started    {}, took {}, {} transitions{}\n", format_history_time(r.started_us),
                       micros(r.duration_ns), r.transitions,
                       r.position ? fmt::format(", input position {}", *r.position) : std::string());
    out += fmt::format("status     {} in {}\n", r.ok ? "ok" : "failed", r.final_state);
    if (r.error) out += fmt::format("error      {} (in {})\n", error_text(r.error), r.error->state);
    if (r.input) out += fmt::format("input      {}\n", r.input->to_json());
    if (r.output) out += fmt::format("output     {}\n", r.output->to_json());
    for (std::size_t i = 0; i < r.resources.size(); ++i)
        out += fmt::format("{}{}\n", i == 0 ? "resources  " : "           ", use_text(r.resources[i]));
    if (!r.usage.empty()) out += fmt::format("usage      {}\n", tokens_text(r.usage));
    if (steps.empty()) {
        out += fmt::format("steps      none recorded (history level {})\n", history_level_name(r.level));
        return out;
    }
    out += "steps\n";
    std::int64_t previous = 0;
    for (const auto& s : steps) {
        out += step_line(s, previous) + "\n";
        if (s.changes)
            out += fmt::format("{:>6}{}changes {}\n", "", std::string(2 * s.depth, ' '), s.changes->to_json());
        previous = s.seq;
    }
    return out;
}

std::vector<std::string> run_path(const std::vector<HistoryStep>& steps) {
    std::vector<std::string> path;
    for (const auto& s : steps)
        if (s.attempt == 0) path.push_back(s.qualified());
    return path;
}

std::string path_mermaid(const HistoryRun& run, const std::vector<HistoryStep>& steps) {
    const PathGraph g = path_graph(steps);
    std::string out =
        fmt::format("%% run {}: {} in {}\nflowchart LR\n", run.run_id, run.ok ? "ok" : "failed", run.final_state);
    for (const auto& [state, failed] : g.nodes) out += fmt::format("  s{}[{}]\n", g.ids.at(state), quoted(state));
    for (const auto& e : g.edges) out += fmt::format("  {} -->|{}| {}\n", e.from, quoted(e.label), e.to);
    for (const auto& [state, failed] : g.nodes)
        if (failed) out += fmt::format("  class s{} failed\n", g.ids.at(state));
    out += "  classDef failed fill:#fdd,stroke:#c00\n";
    return out;
}

std::string path_dot(const HistoryRun& run, const std::vector<HistoryStep>& steps) {
    const PathGraph g = path_graph(steps);
    std::string out = fmt::format("// run {}: {} in {}\ndigraph run {{\n  rankdir=LR;\n  node [shape=box];\n",
                                  run.run_id, run.ok ? "ok" : "failed", run.final_state);
    for (const auto& [state, failed] : g.nodes)
        out += fmt::format("  s{} [label={}{}];\n", g.ids.at(state), quoted(state),
                           failed ? ", color=red, style=filled, fillcolor=\"#ffdddd\"" : "");
    for (const auto& e : g.edges) out += fmt::format("  {} -> {} [label={}];\n", e.from, e.to, quoted(e.label));
    out += "}\n";
    return out;
}

std::string stats_table(const HistoryStats& stats) {
    std::string out = fmt::format("runs: {} ({} ok, {} failed)\n\n", stats.runs, stats.ok, stats.failed);
    out += fmt::format("{:<32} {:>10} {:>10} {:>12} {:>12}\n", "STATE", "ENTRIES", "FAILURES", "P50", "P95");
    for (const auto& s : stats.states)
        out += fmt::format("{:<32} {:>10} {:>10} {:>12} {:>12}\n", s.state, s.entries, s.failures,
                           micros(static_cast<std::int64_t>(s.p50_us * 1000)),
                           micros(static_cast<std::int64_t>(s.p95_us * 1000)));
    if (!stats.errors.empty()) {
        out += fmt::format("\n{:<32} {:>10} {:>10}\n", "ERROR", "STEPS", "RUNS");
        for (const auto& e : stats.errors) out += fmt::format("{:<32} {:>10} {:>10}\n", e.name, e.steps, e.runs);
    }
    if (!stats.resources.empty()) {
        out += fmt::format("\n{:<32} {:>10} {:>10} {:>12}\n", "RESOURCE", "CALLS", "ERRORS", "LATENCY AVG");
        for (const auto& use : stats.resources)
            out += fmt::format(
                "{:<32} {:>10} {:>10} {:>12}\n", fmt::format("{} ({})", use.name, use.type), use.calls, use.errors,
                micros(use.calls ? static_cast<std::int64_t>(use.latency_ms * 1e6 / static_cast<double>(use.calls))
                                 : 0));
    }
    if (!stats.usage.empty()) out += fmt::format("\ntokens: {}\n", tokens_text(stats.usage));
    return out;
}

Value stats_value(const HistoryStats& stats) {
    Value states = Value::array(), errors = Value::array();
    for (const auto& s : stats.states)
        states.push_back(Value::object({{"state", s.state},
                                        {"entries", s.entries},
                                        {"failures", s.failures},
                                        {"p50_us", s.p50_us},
                                        {"p95_us", s.p95_us}}));
    for (const auto& e : stats.errors)
        errors.push_back(Value::object({{"name", e.name}, {"steps", e.steps}, {"runs", e.runs}}));
    Value out = Value::object({{"runs", stats.runs},
                               {"ok", stats.ok},
                               {"failed", stats.failed},
                               {"states", std::move(states)},
                               {"errors", std::move(errors)}});
    out.set("resources", resource_uses_value(stats.resources));
    out.set("usage", Value::object({{"prompt_tokens", static_cast<long long>(stats.usage.prompt_tokens)},
                                    {"completion_tokens", static_cast<long long>(stats.usage.completion_tokens)}}));
    return out;
}

namespace {

std::string step_summary(const std::optional<HistoryStep>& s) {
    if (!s) return "(no such step)";
    std::string text = fmt::format("{} {}", s->qualified(), s->status);
    if (s->attempt > 0) text += fmt::format(" attempt {}", s->attempt);
    if (!s->arc.empty()) text += " -> " + s->arc;
    if (s->error) text += "  " + error_text(s->error);
    if (s->changes) text += "  changes " + s->changes->to_json();
    return text;
}

std::string outcome(const std::string& state, const std::optional<ErrorInfo>& error, const std::string& output) {
    std::string text = state;
    if (error) text += "  " + error_text(error);
    return text + "  " + output;
}

}  // namespace

std::string replay_text(const ReplayReport& report) {
    std::string out;
    for (const auto& d : report.divergences) {
        const HistoryRun& r = d.recorded;
        std::string differences;
        for (const auto& what : d.differences) differences += (differences.empty() ? "" : ", ") + what;
        out += fmt::format("run {} (#{}{}): {} differ{}\n", r.run_id, r.id,
                           r.position ? fmt::format(", input position {}", *r.position) : std::string(), differences,
                           d.differences.size() == 1 ? "s" : "");
        out +=
            fmt::format("  recorded: {}\n", outcome(r.final_state, r.error, r.output ? r.output->to_json() : "null"));
        out += fmt::format("  now:      {}\n", outcome(d.final_state, d.error, d.output.to_json()));
        if (d.step_index > 0) {
            out += fmt::format("  first diverging step {}:\n", d.step_index);
            out += fmt::format("    recorded: {}\n", step_summary(d.recorded_step));
            out += fmt::format("    now:      {}\n", step_summary(d.replayed_step));
        }
    }
    out += fmt::format("replayed {} runs: {} diverged", report.replayed, report.divergences.size());
    if (!report.skipped.empty())
        out += fmt::format(", {} skipped (recorded below level full, so without their input)", report.skipped.size());
    return out + "\n";
}

Value replay_value(const ReplayReport& report) {
    Value divergences = Value::array();
    for (const auto& d : report.divergences) {
        Value what = Value::array();
        for (const auto& w : d.differences) what.push_back(w);
        Value v = Value::object({{"run", d.recorded.to_value()}, {"differences", std::move(what)}});
        Value now = Value::object({{"final_state", d.final_state}, {"output", d.output}});
        if (d.error)
            now.set("error",
                    Value::object({{"name", d.error->name}, {"message", d.error->message}, {"state", d.error->state}}));
        v.set("now", std::move(now));
        if (d.step_index > 0) {
            v.set("step_index", d.step_index);
            v.set("recorded_step", d.recorded_step ? d.recorded_step->to_value() : Value());
            v.set("replayed_step", d.replayed_step ? d.replayed_step->to_value() : Value());
        }
        divergences.push_back(std::move(v));
    }
    Value skipped = Value::array();
    for (const auto& r : report.skipped) skipped.push_back(r.run_id);
    return Value::object({{"replayed", report.replayed},
                          {"diverged", report.divergences.size()},
                          {"skipped", std::move(skipped)},
                          {"divergences", std::move(divergences)}});
}

}  // namespace statenet::cli
