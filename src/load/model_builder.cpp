// Builds the immutable model from a located document tree: networks, states and arcs,
// every problem reported.
#include "load/builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace statenet::detail {

void Builder::read_networks(const Node& root) {
    const Node* nets = root.field("networks");
    if (!nets) {
        d_.error(root.loc, "missing required key 'networks'");
        return;
    }
    if (nets->kind != Kind::table || nets->fields.empty()) {
        d_.error(nets->loc, "'networks' must be a table with at least one network");
        return;
    }
    // Two passes: every state must be known before arcs can name them.
    for (const auto& [name, net] : nets->fields) declare_network(name, net);
    any_.resize(m_.networks.size());
    for (std::size_t n = 0; n < m_.networks.size(); ++n) {
        const Node& net = nets->fields[n].second;
        if (net.kind != Kind::table) continue;
        if (const Node* states = net.field("states")) read_state_bodies(static_cast<int>(n), *states);
        if (const Node* any = net.field("any")) read_any(static_cast<int>(n), *any);
    }
    resolve_targets();
    expand_any();
    sort_arcs();
    choose_main(root);
    check_waits();
}

void Builder::declare_network(const std::string& name, const Node& net) {
    Network network;
    network.name = name;
    network.loc = net.loc;
    int index = static_cast<int>(m_.networks.size());
    if (net.kind != Kind::table) {
        wrong_kind(net, "networks." + name, "table");
        m_.networks.push_back(std::move(network));
        return;
    }
    check_keys(net, network_keys, fmt::format("network '{}'", name));
    const Node* states = net.field("states");
    if (!states) {
        d_.error(net.loc, fmt::format("network '{}' has no states", name));
    } else if (is_list(*states) && states->items.empty()) {
        d_.error(states->loc, fmt::format("network '{}' has no states", name));
    } else {
        for_each_state(*states, [&](const std::string& state_name, const Node& body, const Loc& at) {
            if (network.find(state_name) >= 0) {
                d_.error(at, fmt::format("duplicate state '{}' in network '{}'", state_name, name));
                return;
            }
            State state;
            state.name = state_name;
            state.qualified = name + "/" + state_name;
            state.network = index;
            state.id = m_.state_count++;
            state.loc = body.loc;
            if (auto start = bool_of(body, "start"); start && *start) {
                state.start = true;
                if (network.start >= 0)
                    d_.error(body.field("start")->loc,
                             fmt::format("network '{}' has two start states: '{}' and '{}'", name,
                                         network.states[network.start].name, state_name));
                else network.start = static_cast<int>(network.states.size());
            }
            network.states.push_back(std::move(state));
        });
        if (network.start < 0 && !network.states.empty())
            d_.error(net.loc, fmt::format("network '{}' has no start state (mark one with start = true)", name));
    }
    m_.networks.push_back(std::move(network));
}

// Walks the states declared in the first pass: malformed and duplicate entries were
// reported there and are not visited again.
void Builder::read_state_bodies(int n, const Node& states) {
    auto& declared = m_.networks[n].states;
    for (std::size_t i = 0; i < declared.size(); ++i)
        if (const Node* body = find_body(states, declared[i].name))
            read_state(n, static_cast<int>(i), declared[i], *body);
}

const Node* Builder::find_body(const Node& states, const std::string& name) {
    if (states.kind == Kind::table) return states.field(name);
    for (const auto& body : states.items)
        if (const Node* nm = body.field("name"); nm && nm->kind == Kind::string && nm->str == name) return &body;
    return nullptr;
}

void Builder::read_state(int n, int index, State& state, const Node& body) {
    const std::string& net_name = m_.networks[n].name;
    check_keys(body, state_keys, fmt::format("state '{}/{}'", net_name, state.name));
    string_of(body, "description", false);
    if (auto e = bool_of(body, "end")) state.is_end = *e;
    if (auto e = bool_of(body, "emit")) state.emit = *e;
    if (auto mode = string_of(body, "data_mode", false)) {
        state.mode = data_mode(*mode, *body.field("data_mode"));
        if (state.mode == DataMode::reference) {
            d_.error(body.field("data_mode")->loc,
                     "data_mode 'reference' is set for the whole workflow, not per state (use copy or direct here)");
            state.mode.reset();
        }
    }
    if (const Node* r = body.field("resources")) use_resources(state, *r);
    if (const Node* schema = body.field("schema")) read_schema(state, *schema);
    state.pre_validate = fn_list(body.field("pre_validate"), "pre_validate");
    state.transform = fn_list(body.field("transform"), "transform");
    state.validate = fn_list(body.field("validate"), "validate");
    state.entry = fn_list(body.field("entry"), "entry");
    state.exit = fn_list(body.field("exit"), "exit");
    if (const Node* t = body.field("end_test")) state.end_test = fn_ref(*t, "end_test");
    if (const Node* c = body.field("children")) state.children = fn_ref(*c, "children");
    if (const Node* retry = body.field("retry")) read_retry(state, *retry);
    if (const Node* catchers = body.field("on_error")) read_catchers(n, index, state, *catchers);
    if (const Node* p = body.field("parallel")) read_parallel(state, *p);
    if (const Node* m = body.field("map")) read_map(state, *m);
    if (const Node* w = body.field("wait")) read_wait(state, *w);
    read_strategies(state, body);
    if (const Node* arcs = body.field("arcs")) {
        if (!is_list(*arcs)) return wrong_kind(*arcs, "arcs", "list of tables");
        for (const auto& arc : arcs->items) read_arc(n, index, state, arc);
    }
}

/// `parallel = { branches = ["net_a", "net_b"], join = "all" | "any" | { quorum = N },
/// merge = "namespaced" | "deep" | function }`.
void Builder::read_parallel(State& state, const Node& body) {
    if (body.kind != Kind::table) return wrong_kind(body, "parallel", "table");
    check_keys(body, parallel_keys, "parallel");
    Parallel p;
    p.loc = body.loc;
    const Node* branches = body.field("branches");
    if (!branches || !is_list(*branches) || branches->items.empty()) {
        d_.error(branches ? branches->loc : body.loc, "'parallel' needs 'branches', a list of network names");
        return;
    }
    std::vector<std::string_view> nets;
    for (const auto& net : m_.networks) nets.push_back(net.name);
    for (const Node& item : branches->items) {
        if (item.kind != Kind::string) {
            wrong_kind(item, "parallel branch", "network name");
            continue;
        }
        const auto it = std::find(nets.begin(), nets.end(), item.str);
        if (it == nets.end()) {
            d_.error(item.loc,
                     fmt::format("unknown network '{}' in parallel branches{}", item.str, suggest(item.str, nets)));
            continue;
        }
        const int net = static_cast<int>(it - nets.begin());
        if (std::find(p.branches.begin(), p.branches.end(), net) != p.branches.end())
            d_.error(item.loc, fmt::format("network '{}' is listed twice in parallel branches", item.str));
        else p.branches.push_back(net);
    }
    read_join(p, body, branches->items.size());
    state.parallel = std::move(p);
}

/// `join = "all" | "any" | { quorum = N }` and `merge = "namespaced" | "deep" | function`
/// of a parallel state or of `[branches]`; `max_quorum` 0 = no upper bound known.
void Builder::read_join(Parallel& p, const Node& body, std::size_t max_quorum) {
    if (const Node* join = body.field("join")) {
        if (join->kind == Kind::string && join->str == "all") p.join = Parallel::Join::all;
        else if (join->kind == Kind::string && join->str == "any") p.join = Parallel::Join::any;
        else if (join->kind == Kind::table && join->field("quorum")) {
            check_keys(*join, {"quorum"}, "join");
            const Node* q = join->field("quorum");
            const std::int64_t most = max_quorum > 0 ? static_cast<std::int64_t>(max_quorum) : 1 << 20;
            if (q->kind != Kind::integer || q->integer < 1 || q->integer > most)
                d_.error(q->loc, max_quorum > 0 ? fmt::format("'quorum' must be an integer from 1 to {} (the number "
                                                              "of branches)",
                                                              max_quorum)
                                                : std::string("'quorum' must be a positive integer"));
            else p.quorum = static_cast<int>(q->integer);
            p.join = Parallel::Join::quorum;
        } else {
            d_.error(join->loc, fmt::format("'join' must be \"all\", \"any\" or {{ quorum = N }}{}",
                                            join->kind == Kind::string ? suggest(join->str, {"all", "any"}) : ""));
        }
    }
    if (const Node* merge = body.field("merge")) {
        if (merge->kind == Kind::string && merge->str == "namespaced") p.merge = Parallel::Merge::namespaced;
        else if (merge->kind == Kind::string && merge->str == "deep") p.merge = Parallel::Merge::deep;
        else if (merge->kind == Kind::string && merge->str.find('.') == std::string::npos)
            d_.error(merge->loc, fmt::format("'merge' must be \"namespaced\", \"deep\" or a function{}",
                                             suggest(merge->str, {"namespaced", "deep"})));
        else if ((p.merge_fn = fn_ref(*merge, "merge"))) p.merge = Parallel::Merge::fn;
    }
}

/// `[branches] join = ..., merge = ...`: a breadth-first record's branches joined into one.
void Builder::read_branch_join(const Node* b) {
    if (!b) return;
    if (b->kind != Kind::table) return wrong_kind(*b, "branches", "table");
    check_keys(*b, branch_join_keys, "[branches]");
    if (m_.strategy != Strategy::breadth_first)
        return d_.error(b->loc, "[branches] joins breadth-first branches: it needs strategy = \"breadth_first\"");
    Parallel p;
    p.loc = b->loc;
    read_join(p, *b, 0);
    m_.branch_join = std::move(p);
}

/// `[networks.<n>.any]`: arcs = [...] (or directly a list of arcs) that apply from
/// every non-end state of the network; index -1 marks them in pending targets.
void Builder::read_any(int n, const Node& any) {
    State& holder = any_[n];
    holder.name = "any";
    holder.network = n;
    const Node* arcs = &any;
    if (any.kind == Kind::table && !any.fields.empty()) {
        check_keys(any, any_keys, fmt::format("[networks.{}.any]", m_.networks[n].name));
        arcs = any.field("arcs");
        if (!arcs) return d_.error(any.loc, "[networks.<n>.any] needs 'arcs' (a list of arcs)");
    }
    if (!is_list(*arcs)) return wrong_kind(*arcs, "any arcs", "list of tables");
    for (const auto& arc : arcs->items) read_arc(n, -1, holder, arc);
}

/// Copies the `any` arcs into every non-end state, after the state's own arcs.
void Builder::expand_any() {
    for (std::size_t n = 0; n < any_.size(); ++n) {
        if (any_[n].arcs.empty()) continue;
        for (auto& state : m_.networks[n].states) {
            if (state.is_end) continue;
            for (const Arc& shared : any_[n].arcs) {
                Arc arc = shared;
                arc.id = m_.arc_count++;
                arc.index = static_cast<int>(state.arcs.size());
                arc.from_any = true;
                state.arcs.push_back(std::move(arc));
            }
            for (int r : any_[n].resources)
                if (std::find(state.resources.begin(), state.resources.end(), r) == state.resources.end())
                    state.resources.push_back(r);
        }
    }
}

void Builder::read_schema(State& state, const Node& schema) {
    if (schema.kind != Kind::table) return wrong_kind(schema, "schema", "table of field = type");
    for (const auto& [field, type] : schema.fields) {
        if (type.kind != Kind::string) {
            wrong_kind(type, "schema." + field, "type name string");
            continue;
        }
        SchemaField f{field, type.str, false};
        if (!f.type.empty() && f.type.back() == '?') {
            f.optional = true;
            f.type.pop_back();
        }
        if (std::find(schema_types.begin(), schema_types.end(), f.type) == schema_types.end()) {
            d_.error(type.loc, fmt::format("unknown schema type '{}' for field '{}'{}", type.str, field,
                                           suggest(f.type, schema_types)));
            continue;
        }
        state.schema.push_back(std::move(f));
    }
}

void Builder::read_retry(State& state, const Node& list) {
    for_each_table(list, "retry", [&](const Node& item) {
        check_keys(item, retry_keys, "retry");
        Retrier r;
        r.errors = error_names(item, "retry");
        if (auto a = integer_in(item, "attempts", 0, max_attempts)) r.attempts = static_cast<int>(*a);
        if (auto v = number_in(item, "interval_ms", 0, max_duration_ms)) r.interval_ms = *v;
        read_backoff(r, item);
        if (auto v = number_in(item, "max_delay_ms", 0, max_duration_ms)) r.max_delay_ms = *v;
        if (auto j = string_of(item, "jitter", false)) {
            if (*j == "full") r.full_jitter = true;
            else if (*j != "none")
                d_.error(item.field("jitter")->loc, fmt::format("unknown jitter '{}' (expected none or full)", *j));
        }
        state.retry.push_back(std::move(r));
    });
}

void Builder::read_catchers(int n, int index, State& state, const Node& list) {
    for_each_table(list, "on_error", [&](const Node& item) {
        check_keys(item, catcher_keys, "on_error");
        Catcher c;
        c.errors = error_names(item, "on_error");
        if (auto comp = bool_of(item, "compensate")) c.compensate = *comp;
        const Node* to = item.field("to");
        if (!to || to->kind != Kind::string) d_.error(item.loc, "on_error entry needs 'to' (a state name)");
        else pending_catchers_.push_back({n, index, state.on_error.size(), to});
        state.on_error.push_back(std::move(c));
    });
}

void Builder::read_arc(int n, int index, State& state, const Node& body) {
    if (body.kind != Kind::table) return wrong_kind(body, "arc", "table");
    check_keys(body, arc_keys, fmt::format("arc of state '{}'", state.name));
    // An arc's resources are acquired with its state: conditions and transforms
    // run in the same step.
    if (const Node* r = body.field("resources")) use_resources(state, *r);
    Arc arc;
    arc.id = m_.arc_count++;
    arc.index = static_cast<int>(state.arcs.size());
    arc.loc = body.loc;
    if (const Node* p = body.field("priority")) {
        if (p->kind != Kind::integer) wrong_kind(*p, "priority", "integer");
        else arc.priority = p->integer;
    }
    read_trigger(arc, body);
    if (const Node* w = body.field("when")) arc.when = fn_ref(*w, "when");
    arc.transform = fn_list(body.field("transform"), "transform");
    PendingTarget target{n, index, state.arcs.size(), body.field("to"), body.field("push"), body.field("return_to")};
    if (target.to && target.push) d_.error(body.loc, "an arc has either 'to' or 'push', not both");
    else if (!target.to && !target.push) d_.error(body.loc, "an arc needs 'to' (a state) or 'push' (a network)");
    if (target.return_to && !target.push) d_.error(target.return_to->loc, "'return_to' needs 'push'");
    if (auto iso = string_of(body, "isolation", false)) {
        if (*iso == "share") arc.isolation_copy = false;
        else if (*iso != "copy")
            d_.error(body.field("isolation")->loc, fmt::format("unknown isolation '{}' (expected copy or share){}",
                                                               *iso, suggest(*iso, {"copy", "share"})));
    }
    arc.map_in = field_map(body.field("map_in"), "map_in");
    arc.map_out = field_map(body.field("map_out"), "map_out");
    for (auto map_key : {"map_in", "map_out"}) {
        const Node* map = body.field(map_key);
        if (map && !target.push) d_.error(map->loc, fmt::format("'{}' needs 'push'", map_key));
        else if (map && !arc.isolation_copy)
            d_.error(map->loc,
                     fmt::format("'{}' needs isolation = \"copy\" (a shared sub-network sees every field)", map_key));
    }
    pending_targets_.push_back(target);
    state.arcs.push_back(std::move(arc));
}

/// `on = "event"` or `after_ms = N`: what makes a machine take the arc.
void Builder::read_trigger(Arc& arc, const Node& body) {
    const Node* on = body.field("on");
    const Node* after = body.field("after_ms");
    if (on && after) d_.error(body.loc, "an arc has either 'on' or 'after_ms', not both");
    if (auto event = string_of(body, "on", false)) {
        if (event->empty()) d_.error(on->loc, "'on' must name an event, not be empty");
        arc.on = *event;
    }
    if (auto ms = number_of(body, "after_ms")) {
        if (*ms < 0 || !std::isfinite(*ms)) d_.error(after->loc, "'after_ms' must be a non-negative number");
        else arc.after_ms = *ms;
    }
}

std::vector<std::string_view> Builder::state_names(int n) const {
    std::vector<std::string_view> names;
    for (const auto& s : m_.networks[n].states) names.push_back(s.name);
    return names;
}

int Builder::resolve_state(int n, const Node& ref, std::string_view what) {
    if (ref.kind != Kind::string) {
        wrong_kind(ref, what, "state name");
        return -1;
    }
    int index = m_.networks[n].find(ref.str);
    if (index < 0)
        d_.error(ref.loc, fmt::format("{}: unknown state '{}' in network '{}'{}", what, ref.str, m_.networks[n].name,
                                      suggest(ref.str, state_names(n))));
    return index;
}

void Builder::resolve_targets() {
    for (const auto& t : pending_targets_) {
        State& owner = t.state < 0 ? any_[t.network] : m_.networks[t.network].states[t.state];
        Arc& arc = owner.arcs[t.arc];
        if (t.to && t.to->kind == Kind::string && t.to->str == "@previous") arc.to_previous = true;
        else if (t.to) arc.to = resolve_state(t.network, *t.to, "arc 'to'");
        if (t.push) resolve_push(t, arc);
        if (t.return_to) arc.return_to = resolve_state(t.network, *t.return_to, "'return_to'");
    }
    for (const auto& c : pending_catchers_)
        m_.networks[c.network].states[c.state].on_error[c.catcher].to =
            resolve_state(c.network, *c.to, "on_error 'to'");
}

void Builder::resolve_push(const PendingTarget& t, Arc& arc) {
    const Node& push = *t.push;
    if (push.kind != Kind::string) return wrong_kind(push, "push", "\"network\" or \"network:state\" string");
    std::string net = push.str, state;
    if (auto colon = net.find(':'); colon != std::string::npos) {
        state = net.substr(colon + 1);
        net.resize(colon);
    }
    std::vector<std::string_view> nets;
    for (std::size_t i = 0; i < m_.networks.size(); ++i) {
        nets.push_back(m_.networks[i].name);
        if (m_.networks[i].name == net) arc.push_network = static_cast<int>(i);
    }
    if (arc.push_network < 0) {
        d_.error(push.loc, fmt::format("push target '{}': unknown network '{}'{}", push.str, net, suggest(net, nets)));
        return;
    }
    if (state.empty()) {
        arc.push_state = m_.networks[arc.push_network].start;
        return;
    }
    arc.push_state = m_.networks[arc.push_network].find(state);
    if (arc.push_state < 0)
        d_.error(push.loc, fmt::format("push target '{}': unknown state '{}' in network '{}'{}", push.str, state, net,
                                       suggest(state, state_names(arc.push_network))));
}

void Builder::sort_arcs() {
    for (auto& net : m_.networks)
        for (auto& state : net.states) {
            state.arc_order.resize(state.arcs.size());
            for (std::size_t i = 0; i < state.arcs.size(); ++i) state.arc_order[i] = static_cast<int>(i);
            std::stable_sort(state.arc_order.begin(), state.arc_order.end(),
                             [&](int a, int b) { return state.arcs[a].priority > state.arcs[b].priority; });
        }
}

void build_model(const Node& root, Model& model, Diagnostics& diags) { Builder(model, diags).build(root); }

std::string FnRef::describe() const {
    switch (kind) {
    case Kind::named: return module + "." + function;
    case Kind::factory: return module + "." + function + "(" + args.to_json() + ")";
    case Kind::inline_lua: return "lua: " + code;
    case Kind::lua_value: break;
    }
    return fmt::format("function at {}:{}", loc.file, loc.line);
}

}  // namespace statenet::detail
