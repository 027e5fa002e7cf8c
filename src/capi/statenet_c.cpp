// The C ABI (include/statenet/statenet.h) over the C++ API: handles own C++ objects,
// JSON text crosses the boundary, and every exception becomes a status and a message.
#include "machine/machine_json.hpp"

#include <statenet/statenet.h>
#include <statenet/statenet.hpp>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct statenet_engine {
    statenet::Engine engine;
};

struct statenet_workflow {
    statenet::Workflow workflow;
};

struct statenet_machines {
    std::unique_ptr<statenet::Machines> machines;
};

namespace {

using statenet::Value;

/// A malloc'ed copy of `text`, freed by statenet_free.
char* copy_out(std::string_view text) {
    auto* out = static_cast<char*>(std::malloc(text.size() + 1));
    if (!out) throw std::bad_alloc();
    std::memcpy(out, text.data(), text.size());
    out[text.size()] = '\0';
    return out;
}

void set(char** out, std::string_view text) {
    if (out) *out = copy_out(text);
}

/// Thrown for arguments the caller got wrong.
struct Invalid : std::invalid_argument {
    using std::invalid_argument::invalid_argument;
};

/// Thrown when a file or store cannot be opened, read or written.
struct IoError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Runs `body`, which opens or uses files and stores: what it throws, a load error
/// aside, is an I/O failure.
template <typename F>
void doing_io(F&& body) {
    try {
        body();
    } catch (const statenet::LoadError&) {
        throw;
    } catch (const std::exception& e) {
        throw IoError(e.what());
    }
}

/// Thrown when a machine instance does not exist.
struct NotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void require(const void* argument, const char* name) {
    if (!argument) throw Invalid(std::string(name) + " must not be NULL");
}

Value parse(const char* json, const char* what) {
    try {
        return Value::from_json(json);
    } catch (const statenet::JsonError& e) {
        throw Invalid(std::string(what) + " is not valid JSON: " + e.what());
    }
}

std::string diagnostics_text(const statenet::LoadError& e) {
    std::string text;
    for (const auto& d : e.diagnostics()) text += (text.empty() ? "" : "\n") + d.str();
    return text.empty() ? std::string(e.what()) : text;
}

/// Result::to_value without copying the record's data: it moves into the JSON value (the
/// copy cost as much as writing the text).
Value result_value(statenet::Result&& result) {
    Value data = std::move(result.data);
    Value value = result.to_value();
    value.set("data", std::move(data));
    return value;
}

Value report_value(const statenet::ReloadReport& report) {
    Value::Array errors;
    for (const auto& d : report.errors) errors.push_back(Value(d.str()));
    Value::Array orphaned;
    for (const auto& id : report.orphaned) orphaned.push_back(Value(id));
    return Value::object(
        {{"ok", Value(report.ok)}, {"errors", Value(std::move(errors))}, {"orphaned", Value(std::move(orphaned))}});
}

/// Runs `body`; maps what it throws to a status and message. Nothing escapes.
template <typename F>
statenet_status guarded(char** error, F&& body) noexcept {
    if (error) *error = nullptr;
    statenet_status status = STATENET_FAILED;
    std::string message;
    try {
        body();
        return STATENET_OK;
    } catch (const statenet::LoadError& e) {
        status = STATENET_LOAD_ERROR;
        message = diagnostics_text(e);
    } catch (const Invalid& e) {
        status = STATENET_INVALID;
        message = e.what();
    } catch (const NotFound& e) {
        status = STATENET_NOT_FOUND;
        message = e.what();
    } catch (const std::invalid_argument& e) {  // what the C++ API throws for bad input
        status = STATENET_INVALID;
        message = e.what();
    } catch (const IoError& e) {
        status = STATENET_IO_ERROR;
        message = e.what();
    } catch (const std::exception& e) {
        message = e.what();
    } catch (...) {
        message = "unknown error";
    }
    try {
        set(error, message);
    } catch (...) {
        // Out of memory for the message: the status still says what happened.
    }
    return status;
}

}  // namespace

extern "C" {

const char* statenet_version(void) {
    static const std::string version(statenet::version());
    return version.c_str();
}

void statenet_free(void* buffer) { std::free(buffer); }

statenet_engine* statenet_engine_new(void) {
    try {
        return new statenet_engine{statenet::Engine()};
    } catch (...) {
        return nullptr;
    }
}

void statenet_engine_free(statenet_engine* engine) { delete engine; }

statenet_status statenet_engine_reload(statenet_engine* engine, char** report_json, char** error) {
    return guarded(error, [&] {
        require(engine, "engine");
        set(report_json, report_value(engine->engine.reload()).to_json());
    });
}

statenet_status statenet_workflow_load(statenet_engine* engine, const char* path, statenet_workflow** workflow,
                                       char** error) {
    return guarded(error, [&] {
        require(engine, "engine");
        require(path, "path");
        require(workflow, "workflow");
        *workflow = nullptr;
        *workflow = new statenet_workflow{engine->engine.load(path)};
    });
}

void statenet_workflow_free(statenet_workflow* workflow) { delete workflow; }

statenet_status statenet_process(statenet_workflow* workflow, const char* record_json, char** result_json,
                                 char** error) {
    return guarded(error, [&] {
        require(workflow, "workflow");
        require(record_json, "record_json");
        // The JSON fast path: the record's fields are read from its text as functions ask
        // for them, and the data written back from that text plus what the run changed.
        std::string data;
        statenet::Result result;
        try {
            result = workflow->workflow.process_json(record_json, data, {}, statenet::JsonData::always);
        } catch (const statenet::JsonError& e) {
            throw Invalid(std::string("record_json is not valid JSON: ") + e.what());
        }
        set(result_json, result.to_json(data));
    });
}

statenet_status statenet_process_batch(statenet_workflow* workflow, const char* records_json, unsigned workers,
                                       char** results_json, char** error) {
    return guarded(error, [&] {
        require(workflow, "workflow");
        require(records_json, "records_json");
        const Value records = parse(records_json, "records_json");
        if (!records.is_array()) throw Invalid("records_json must be a JSON array of records");
        statenet::BatchOptions options;
        options.workers = workers;
        Value::Array results;
        for (auto& result : workflow->workflow.process_batch(records.as_array(), options))
            results.push_back(result_value(std::move(result)));
        set(results_json, Value(std::move(results)).to_json());
    });
}

statenet_status statenet_process_file(statenet_workflow* workflow, const char* input_path, const char* output_path,
                                      const char* errors_path, unsigned workers, char** stats_json, char** error) {
    return guarded(error, [&] {
        require(workflow, "workflow");
        require(input_path, "input_path");
        require(output_path, "output_path");
        statenet::StreamOptions options;
        options.workers = workers;
        if (errors_path) options.errors = errors_path;
        statenet::StreamStats stats;
        doing_io([&] {
            stats = workflow->workflow.process_stream(statenet::file_source(input_path),
                                                      statenet::file_sink(output_path), options);
        });
        const auto count = [](std::uint64_t n) { return Value(static_cast<std::int64_t>(n)); };
        set(stats_json, Value::object({{"total", count(stats.total)},
                                       {"emitted", count(stats.emitted)},
                                       {"excluded", count(stats.excluded)},
                                       {"failed", count(stats.failed)},
                                       {"parked", count(stats.parked)},
                                       {"seconds", Value(stats.duration.count())}})
                            .to_json());
    });
}

statenet_status statenet_machines_open(statenet_engine* engine, const char* workflow_path, const char* store_path,
                                       statenet_machines** machines, char** error) {
    return guarded(error, [&] {
        require(engine, "engine");
        require(workflow_path, "workflow_path");
        require(machines, "machines");
        *machines = nullptr;
        statenet::MachinesOptions options;
        if (store_path) options.store = store_path;
        std::unique_ptr<statenet::Machines> opened;
        doing_io(
            [&] { opened = std::make_unique<statenet::Machines>(engine->engine, workflow_path, std::move(options)); });
        *machines = new statenet_machines{std::move(opened)};
    });
}

void statenet_machines_free(statenet_machines* machines) { delete machines; }

statenet_status statenet_machines_start(statenet_machines* machines, const char* id, const char* data_json,
                                        char** result_json, char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        require(id, "id");
        const Value data = data_json ? parse(data_json, "data_json") : Value::object();
        set(result_json, statenet::detail::result_json(machines->machines->start(id, data)).to_json());
    });
}

statenet_status statenet_machines_send(statenet_machines* machines, const char* id, const char* event,
                                       const char* payload_json, const char* key, char** result_json, char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        require(id, "id");
        require(event, "event");
        const Value payload = payload_json ? parse(payload_json, "payload_json") : Value();
        statenet::SendResult result;
        try {
            result = machines->machines->send(id, event, payload, key ? key : "");
        } catch (const std::invalid_argument& e) {  // Machines::send: no such instance
            throw NotFound(e.what());
        }
        set(result_json, statenet::detail::result_json(result).to_json());
    });
}

statenet_status statenet_machines_show(statenet_machines* machines, const char* id, char** instance_json,
                                       char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        require(id, "id");
        const auto info = machines->machines->get(id);
        if (!info) throw NotFound(std::string("no machine instance '") + id + "'");
        set(instance_json, statenet::detail::instance_json(*info).to_json());
    });
}

statenet_status statenet_machines_tick(statenet_machines* machines, char** results_json, char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        Value::Array results;
        for (const auto& r : machines->machines->tick()) results.push_back(statenet::detail::result_json(r));
        set(results_json, Value(std::move(results)).to_json());
    });
}

statenet_status statenet_machines_reload(statenet_machines* machines, char** report_json, char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        const auto report = machines->machines->reload_if_changed();
        Value value = report ? report_value(*report) : Value::object({{"ok", Value(true)}});
        value.set("changed", Value(report.has_value()));
        set(report_json, value.to_json());
    });
}

statenet_status statenet_machines_outbox(statenet_machines* machines, int64_t after_seq, const char* topic,
                                         size_t limit, char** messages_json, char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        statenet::OutboxOptions options;
        options.after_seq = after_seq;
        if (topic) options.topic = topic;
        options.limit = limit;
        Value::Array messages;
        for (const auto& m : machines->machines->outbox(options)) messages.push_back(statenet::detail::outbox_json(m));
        set(messages_json, Value(std::move(messages)).to_json());
    });
}

statenet_status statenet_machines_ack(statenet_machines* machines, const int64_t* seqs, size_t count,
                                      size_t* acknowledged, char** error) {
    return guarded(error, [&] {
        require(machines, "machines");
        if (count > 0) require(seqs, "seqs");
        const std::vector<std::int64_t> list(seqs, seqs + count);
        const std::size_t pending = count > 0 ? machines->machines->ack(list) : 0;
        if (acknowledged) *acknowledged = pending;
    });
}

statenet_status statenet_history_runs(const char* db_path, size_t limit, char** runs_json, char** error) {
    return guarded(error, [&] {
        require(db_path, "db_path");
        statenet::HistoryFilter filter;
        filter.limit = limit;
        std::vector<statenet::HistoryRun> runs;
        doing_io([&] { runs = statenet::History(db_path).runs(filter); });
        Value::Array list;
        for (const auto& run : runs) list.push_back(run.to_value());
        set(runs_json, Value(std::move(list)).to_json());
    });
}

}  // extern "C"
