// statenet.Machines: long-lived instances of a workflow driven by events and timers,
// over a durable SQLite store or in memory, with the GIL released during every call.
#include "bindings.hpp"
#include "convert.hpp"
#include "errors.hpp"
#include "options.hpp"

#include <statenet/machines.hpp>

#include <fmt/format.h>

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;

namespace statenet::python {

namespace {

using release = py::call_guard<py::gil_scoped_release>;

std::unique_ptr<Machines> open(Engine& engine, const std::filesystem::path& workflow,
                               const std::optional<std::filesystem::path>& store, bool recover_on_open, bool full_sync,
                               bool create_store, bool read_only, const py::object& vars) {
    MachinesOptions options;
    if (store) options.store = *store;
    options.recover_on_open = recover_on_open;
    options.full_sync = full_sync;
    options.create_store = create_store;
    options.read_only = read_only;
    options.load = load_options(vars, {}, {}, {}, {});
    py::gil_scoped_release unlocked;
    return std::make_unique<Machines>(engine, workflow, std::move(options));
}

Value optional_value(const py::object& object) { return object.is_none() ? Value() : to_value(object); }

SendResult send(Machines& machines, const std::string& id, const std::string& event, const py::object& payload,
                const std::string& key) {
    const Value value = optional_value(payload);
    py::gil_scoped_release unlocked;
    try {
        return machines.send(id, event, value, key);
    } catch (const std::invalid_argument& e) {  // Machines::send: no such instance
        throw NotFound(e.what());
    }
}

InstanceInfo show(Machines& machines, const std::string& id) {
    std::optional<InstanceInfo> info;
    {
        py::gil_scoped_release unlocked;
        info = machines.get(id);
    }
    if (!info) throw NotFound(fmt::format("no machine instance '{}'", id));
    return std::move(*info);
}

std::vector<OutboxMessage> outbox(Machines& machines, std::int64_t after_seq, const std::optional<std::string>& topic,
                                  std::size_t limit) {
    OutboxOptions options;
    options.after_seq = after_seq;
    options.topic = topic;
    options.limit = limit;
    py::gil_scoped_release unlocked;
    return machines.outbox(options);
}

std::vector<InstanceInfo> list(Machines& machines, const std::optional<std::string>& state, bool include_completed,
                               std::size_t limit) {
    ListOptions options;
    options.state = state;
    options.include_completed = include_completed;
    options.limit = limit;
    py::gil_scoped_release unlocked;
    return machines.list(options);
}

void register_machine_types(py::module_& module) {
    py::class_<SendResult>(module, "SendResult", "The outcome of start, send, a timer or a recovery event.")
        .def_property_readonly(
            "status", [](const SendResult& r) { return std::string(to_string(r.status)); },
            "'applied', 'rejected' or 'duplicate'")
        .def_property_readonly(
            "first", [](const SendResult& r) { return std::string(to_string(r.first)); },
            "for a duplicate: what the first send with that key did")
        .def_readonly("instance", &SendResult::instance)
        .def_readonly("event", &SendResult::event)
        .def_readonly("key", &SendResult::key)
        .def_readonly("from_state", &SendResult::from, "`network/state` before")
        .def_readonly("to_state", &SendResult::to, "`network/state` after (equal when rejected)")
        .def_readonly("completed", &SendResult::completed)
        .def_readonly("reason", &SendResult::reason)
        .def_readonly("error", &SendResult::error)
        .def("__repr__", [](const SendResult& r) {
            return fmt::format("SendResult('{}' {} -> {}, {})", r.event, r.from, r.to, to_string(r.status));
        });
    py::class_<PushFrame>(module, "PushFrame", "A sub-network a machine instance is inside (a push arc's frame).")
        .def_readonly("state", &PushFrame::state, "the pushing state, `network/state`")
        .def_readonly("network", &PushFrame::network, "the sub-network it pushed into")
        .def_readonly("return_to", &PushFrame::return_to, "where it returns (None: the caller ends too)")
        .def("__repr__", [](const PushFrame& f) { return fmt::format("PushFrame({} -> {})", f.state, f.network); });
    py::class_<InstanceInfo>(module, "Instance", "A machine instance as stored.")
        .def_readonly("id", &InstanceInfo::id)
        .def_readonly("network", &InstanceInfo::network)
        .def_readonly("state", &InstanceInfo::state, "`network/state`")
        .def_property_readonly("data", [](const InstanceInfo& i) { return to_python(i.data); })
        .def_readonly("version", &InstanceInfo::version, "applied transitions")
        .def_readonly("completed", &InstanceInfo::completed)
        .def_readonly("orphaned", &InstanceInfo::orphaned)
        .def_readonly("since_ms", &InstanceInfo::since_ms)
        .def_readonly("timer_due_ms", &InstanceInfo::timer_due_ms)
        .def_readonly("stack", &InstanceInfo::stack, "the sub-networks it is inside, outermost first")
        .def("__repr__", [](const InstanceInfo& i) { return fmt::format("Instance('{}' in {})", i.id, i.state); });
    py::class_<OutboxMessage>(module, "OutboxMessage", "A message a transition emitted with ctx.emit.")
        .def_readonly("seq", &OutboxMessage::seq)
        .def_readonly("instance", &OutboxMessage::instance)
        .def_readonly("topic", &OutboxMessage::topic)
        .def_property_readonly("payload", [](const OutboxMessage& m) { return to_python(m.payload); })
        .def_readonly("event", &OutboxMessage::event)
        .def_readonly("time_ms", &OutboxMessage::time_ms);
    py::class_<AuditEntry>(module, "AuditEntry", "One applied or rejected transition.")
        .def_readonly("seq", &AuditEntry::seq)
        .def_readonly("instance", &AuditEntry::instance)
        .def_readonly("from_state", &AuditEntry::from)
        .def_readonly("to_state", &AuditEntry::to)
        .def_readonly("event", &AuditEntry::event)
        .def_readonly("key", &AuditEntry::key)
        .def_readonly("time_ms", &AuditEntry::time_ms)
        .def_readonly("outcome", &AuditEntry::outcome)
        .def_readonly("reason", &AuditEntry::reason);
}

void register_machines_class(py::module_& module) {
    py::class_<Machines>(module, "Machines", "Long-lived instances of a workflow's main network (machines.hpp).")
        .def(py::init(&open), "engine"_a, "workflow"_a, "store"_a = py::none(), py::kw_only(),
             "recover_on_open"_a = true, "full_sync"_a = false, "create_store"_a = true, "read_only"_a = false,
             "vars"_a = py::none(), py::keep_alive<1, 2>(),
             "Loads `workflow` and opens the SQLite `store` (None: in memory, with a manual clock at 0).")
        .def(
            "start",
            [](Machines& machines, const std::string& id, const py::object& data) {
                const Value value = data.is_none() ? Value::object() : to_value(data);
                py::gil_scoped_release unlocked;
                return machines.start(id, value);
            },
            "id"_a, "data"_a = py::none(), "Creates instance `id` (idempotent: an existing one is a duplicate).")
        .def("send", &send, "id"_a, "event"_a, "payload"_a = py::none(), "key"_a = "",
             "Sends an event (payload is ctx.event); `key` makes it idempotent. NotFound for an unknown id.")
        .def("show", &show, "id"_a, "The instance; NotFound for an unknown id.")
        .def(
            "get", [](Machines& machines, const std::string& id) { return machines.get(id); }, "id"_a, release(),
            "The instance, or None.")
        .def("list", &list, "state"_a = py::none(), "include_completed"_a = true, "limit"_a = 0)
        .def(
            "accepts",
            [](Machines& machines, const std::string& id) {
                try {
                    return machines.accepts(id);
                } catch (const std::invalid_argument& e) {
                    throw NotFound(e.what());
                }
            },
            "id"_a, release(), "The events the instance's state has arcs for.")
        .def(
            "tick",
            [](Machines& machines, std::optional<double> now_ms) {
                return now_ms ? machines.tick(*now_ms) : machines.tick();
            },
            "now_ms"_a = py::none(), release(), "Fires every timer due (at the clock's time when now_ms is None).")
        .def("step", &Machines::step, "dt_ms"_a, release(),
             "A game frame on the manual clock: queued events, clock += dt_ms, due timers.")
        .def(
            "post",
            [](Machines& machines, const std::string& id, const std::string& event, const py::object& payload) {
                const Value value = optional_value(payload);
                py::gil_scoped_release unlocked;
                machines.post(id, event, value);
            },
            "id"_a, "event"_a, "payload"_a = py::none(), "Queues an event for the next step().")
        .def("next_due", &Machines::next_due, release(), "When the earliest timer is due (ms), or None.")
        .def(
            "audit",
            [](Machines& machines, const std::string& id, std::size_t limit) { return machines.audit(id, limit); },
            "id"_a = "", "limit"_a = 0, release())
        .def("outbox", &outbox, "after_seq"_a = 0, "topic"_a = py::none(), "limit"_a = 0,
             "Unacknowledged outbox messages, oldest first.")
        .def("ack", &Machines::ack, "seqs"_a, release(), "Acknowledges outbox messages; returns how many were pending.")
        .def(
            "census",
            [](Machines& machines) {
                MachineCensus census;
                {
                    py::gil_scoped_release unlocked;
                    census = machines.census();
                }
                return py::dict("by_state"_a = census.by_state, "timers_due"_a = census.timers_due);
            },
            "Instances per state and timers due.")
        .def(
            "subscribe",
            [](Machines& machines, py::object listener) {
                Callback callback(std::move(listener));
                return machines.subscribe([callback](const SendResult& result, const std::vector<OutboxMessage>& sent) {
                    callback([&](const py::object& function) { function(result, sent); });
                });
            },
            "listener"_a,
            "Calls listener(SendResult, [OutboxMessage]) after every committed transition, on the calling "
            "thread; returns an id for unsubscribe.")
        .def("unsubscribe", &Machines::unsubscribe, "id"_a)
        .def("reload", &Machines::reload, release(), "Loads the workflow again; instances keep state and data.")
        .def("reload_if_changed", &Machines::reload_if_changed, release(),
             "Reloads when the workflow's files changed; None when nothing did.");
}

}  // namespace

void register_machines(py::module_& module) {
    register_machine_types(module);
    register_machines_class(module);
}

}  // namespace statenet::python
