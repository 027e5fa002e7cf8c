// `wait = { signal = "approval", timeout_ms = N }` on a state: the record parks after the
// state's functions until the signal comes (docs/fanout.md#waiting-for-a-signal).
#include "load/builder.hpp"

#include <fmt/format.h>

namespace statenet::detail {

void Builder::read_wait(State& state, const Node& body) {
    if (body.kind != Kind::table) return wrong_kind(body, "wait", "table");
    check_keys(body, wait_keys, "wait");
    Wait w;
    w.loc = body.loc;
    const Node* signal = body.field("signal");
    if (!signal || signal->kind != Kind::string || signal->str.empty()) {
        d_.error(signal ? signal->loc : body.loc, "'wait' needs 'signal', the name of the signal it waits for");
        return;
    }
    w.signal = signal->str;
    if (auto ms = number_in(body, "timeout_ms", 0, max_wait_ms)) w.timeout_ms = *ms;
    state.wait = std::move(w);
}

// A parked record is its data, its state and its path: nothing that lives only in a
// running process (push frames, sibling branches, a parallel join) can wait with it.
void Builder::check_waits() {
    for (const auto& net : m_.networks)
        for (const auto& s : net.states) {
            if (!s.wait) continue;
            const Loc& at = s.wait->loc;
            if (s.is_end || s.end_test)
                d_.error(at, fmt::format("state '{}' waits for a signal, so it cannot be an end state (it leaves by "
                                         "its arcs once the signal comes)",
                                         s.qualified));
            if (s.parallel) d_.error(at, fmt::format("state '{}' has both 'wait' and 'parallel'", s.qualified));
            if (s.network != m_.main)
                d_.error(at, fmt::format("'wait' states must be in the main network ('{}' is in network '{}', which "
                                         "runs inside a push or parallel state)",
                                         s.qualified, net.name));
            if (m_.strategy == Strategy::breadth_first)
                d_.error(at, "'wait' states need strategy = \"depth_first\" (a parked record is one branch)");
            if (m_.mode == DataMode::reference)
                d_.error(at, "'wait' states need data_mode copy or direct (a reference-mode record lives in its row)");
        }
}

}  // namespace statenet::detail
