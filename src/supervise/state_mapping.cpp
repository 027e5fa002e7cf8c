// State mapping: a child spec's `state_map` turns the parent's state into the state
// the child should be in; the supervisor sends the event of the child's arc that leads
// there. Hybrid control (docs/supervision.md#state-mapping): the mapping is applied
// once per parent state — on entering it, or when the child starts or its map changes —
// and the child's own moves in between are left alone. A child whose current state has
// no arc to the mapped state is waited for (checked each tick) until it has one; a
// child whose arc's condition refuses keeps its state (its decision, noted in the tree).
#include "supervise/supervisor_impl.hpp"

#include "api/workflow_impl.hpp"

#include <fmt/format.h>

namespace statenet::detail {

namespace {

/// The state `wanted` names (`network/state` or a state of `from`'s network).
const State* find_state(const Model& model, const State& from, std::string_view wanted) {
    for (const auto& net : model.networks)
        for (const auto& s : net.states)
            if (s.qualified == wanted || (s.network == from.network && s.name == wanted)) return &s;
    return nullptr;
}

const State* find_qualified(const Model& model, std::string_view qualified) {
    for (const auto& net : model.networks)
        for (const auto& s : net.states)
            if (s.qualified == qualified) return &s;
    return nullptr;
}

/// The event of `from`'s first arc (in priority order) into `to`, or "".
std::string event_into(const Model& model, const State& from, const State& to) {
    if (from.network != to.network) return {};
    const int target = model.networks[static_cast<std::size_t>(to.network)].find(to.name);
    for (int index : from.arc_order) {
        const Arc& arc = from.arcs[static_cast<std::size_t>(index)];
        if (!arc.on.empty() && !arc.is_push() && !arc.to_previous && arc.to == target) return arc.on;
    }
    return {};
}

}  // namespace

void SupervisorImpl::map_state(const Visit& v, ChildRow& row, SuperviseReport& report) {
    const std::string parent_state(bare_state(v.info.state));
    if (row.mapped == parent_state || v.info.completed) return;
    const Value* map = row.entry.find("state_map");
    const Value* wanted = map ? map->find(parent_state) : nullptr;
    if (!wanted) wanted = map ? map->find(v.info.state) : nullptr;
    if (!wanted || !wanted->is_string()) {
        row.mapped = parent_state;  // nothing mapped for this state
        tree_->save(row);
        return;
    }
    const Kind& kind = kinds_[static_cast<std::size_t>(kind_index(row.kind))];
    auto child = kind.machines->get_row(row.id);
    if (!child || child->completed) return;
    // The child workflow as loaded now: a hot reload's arcs are the ones to follow.
    const std::shared_ptr<const Model> model = kind.machines->workflow().impl().model();
    const State* from = find_qualified(*model, child->state);
    const State* to = from ? find_state(*model, *from, wanted->as_string()) : nullptr;
    std::string note;
    if (!to) {
        note = fmt::format("state_map: no state '{}' in {}", wanted->as_string(), kind.file);
    } else if (from == to) {
        row.mapped = parent_state;
    } else if (const std::string event = event_into(*model, *from, *to); event.empty()) {
        note = fmt::format("state_map: waiting, no arc from {} leads to {}", from->qualified, to->qualified);
    } else {
        SendResult r = kind.machines->send(row.id, event, Value::object({{"parent_state", parent_state}}),
                                           fmt::format("map:{}:{}", v.info.version, to->qualified));
        row.mapped = parent_state;
        if (r.status == SendStatus::rejected) note = fmt::format("state_map: {} refused: {}", event, r.reason);
        else ++report.mapped;
    }
    if (row.mapped == parent_state || note != row.note) {
        row.note = note;
        tree_->save(row);
    }
}

}  // namespace statenet::detail
