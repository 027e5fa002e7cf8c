// The JSON shapes of machine results, instances, audit rows and outbox messages.
#include "machine/machine_json.hpp"

#include <cstdint>
#include <string>

namespace statenet::detail {

Value time_value(double ms) {
    const auto whole = static_cast<std::int64_t>(ms);
    return static_cast<double>(whole) == ms ? Value(whole) : Value(ms);
}

Value result_json(const SendResult& r) {
    Value out = Value::object({{"instance", Value(r.instance)},
                               {"event", Value(r.event)},
                               {"status", Value(std::string(to_string(r.status)))}});
    if (r.status == SendStatus::duplicate) out.set("first", Value(std::string(to_string(r.first))));
    if (!r.key.empty()) out.set("key", Value(r.key));
    out.set("from", Value(r.from));
    out.set("to", Value(r.to));
    out.set("completed", Value(r.completed));
    if (!r.reason.empty()) out.set("reason", Value(r.reason));
    if (r.error)
        out.set("error", Value::object({{"name", Value(r.error->name)},
                                        {"message", Value(r.error->message)},
                                        {"state", Value(r.error->state)}}));
    return out;
}

Value instance_json(const InstanceInfo& info) {
    Value out = Value::object({{"id", Value(info.id)},
                               {"state", Value(info.state)},
                               {"completed", Value(info.completed)},
                               {"version", Value(info.version)},
                               {"since_ms", time_value(info.since_ms)}});
    if (info.timer_due_ms) out.set("timer_due_ms", time_value(*info.timer_due_ms));
    if (info.orphaned) out.set("orphaned", Value(true));
    if (!info.stack.empty()) out.set("stack", stack_json(info.stack));
    out.set("data", info.data);
    return out;
}

Value stack_json(const std::vector<PushFrame>& stack) {
    Value out = Value::array();
    for (const PushFrame& f : stack) {
        Value frame = Value::object({{"state", Value(f.state)}, {"network", Value(f.network)}});
        if (f.return_to) frame.set("return_to", Value(*f.return_to));
        out.push_back(std::move(frame));
    }
    return out;
}

Value audit_json(const AuditEntry& e) {
    Value out = Value::object({{"seq", Value(e.seq)},
                               {"time_ms", time_value(e.time_ms)},
                               {"event", Value(e.event)},
                               {"outcome", Value(e.outcome)},
                               {"from", Value(e.from)},
                               {"to", Value(e.to)}});
    if (!e.key.empty()) out.set("key", Value(e.key));
    if (!e.reason.empty()) out.set("reason", Value(e.reason));
    return out;
}

Value outbox_json(const OutboxMessage& m) {
    return Value::object({{"seq", Value(m.seq)},
                          {"instance", Value(m.instance)},
                          {"topic", Value(m.topic)},
                          {"event", Value(m.event)},
                          {"time_ms", time_value(m.time_ms)},
                          {"payload", m.payload}});
}

}  // namespace statenet::detail
