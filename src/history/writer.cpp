// HistoryWriter: a queue of finished runs drained by one thread into prepared inserts, committed in batches.
#include "history/writer.hpp"

#include "history/retention.hpp"
#include "history/schema.hpp"
#include "json/json_internal.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <optional>

#include <pthread.h>

namespace statenet::detail {

namespace {

void bind_json_or_null(SQLite::Statement& s, int index, const Value* value) {
    if (value) s.bind(index, value->to_json());
    else s.bind(index);
}

void bind_error(SQLite::Statement& s, int first, const ErrorInfo* error) {
    if (error) {
        s.bind(first, error->name);
        s.bind(first + 1, error->message);
        s.bind(first + 2, error->state);
    } else {
        s.bind(first);
        s.bind(first + 1);
        s.bind(first + 2);
    }
}

}  // namespace

HistoryWriter::HistoryWriter(const HistoryConfig& config, std::shared_ptr<const Model> model_ptr)
    : level_(config.level), model_(std::move(model_ptr)), states_(states_by_id(*model_)) {
    const Model& model = *model_;
    db_ = open_history_db(config.db, true, config.durability_full);
    // The writer's checkpoints (copying the WAL into the database, with an fsync) are the
    // I/O that slows the workers next to it: let the WAL grow to 16,384 pages between them
    // (1 GiB at history's 64 KiB pages: a million runs at level runs write ~130 MB), and
    // leave the last one to the next connection rather than to the end of this run.
    db_->exec("PRAGMA wal_autocheckpoint=16384");
    // Temporary tables and journals (pruning's list of doomed runs) stay in memory. The
    // inserts are INSERT OR FAIL: a multi-row INSERT that may abort halfway would keep a
    // statement journal (a copy of every page it changes, to undo it alone); one that
    // fails keeps its rows, which costs nothing, and a failed insert stops the writer
    // and rolls the whole batch back anyway.
    db_->exec("PRAGMA temp_store=MEMORY");
    sqlite3_db_config(db_->getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    try {
        PruneOptions retention;
        if (config.max_runs > 0) retention.max_runs = config.max_runs;
        if (config.max_age_seconds > 0) retention.max_age_seconds = config.max_age_seconds;
        prune_history(*db_, retention);
        std::error_code ec;
        auto file = std::filesystem::absolute(model.file, ec).lexically_normal().string();
        // The workflow's identity row: added once, found by every later writer.
        for (const char* sql :
             {"INSERT OR IGNORE INTO workflows (name, version, file, scripts_hash) VALUES (?1, ?2, ?3, ?4)",
              "SELECT id FROM workflows WHERE name = ?1 AND version = ?2 AND file = ?3 AND scripts_hash = ?4"}) {
            SQLite::Statement q(*db_, sql);
            q.bind(1, model.name);
            q.bind(2, model.version);
            q.bind(3, file);
            q.bind(4, model.scripts_hash);
            if (q.executeStep()) workflow_id_ = q.getColumn(0).getInt64();
        }
        // Its states' rows, which step rows point at.
        SQLite::Statement add(*db_,
                              "INSERT OR IGNORE INTO states (workflow, number, network, name, qualified) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)");
        for (const State* state : states_) {
            add.bind(1, workflow_id_);
            add.bind(2, state->id);
            add.bindNoCopy(3, model.networks[static_cast<std::size_t>(state->network)].name);
            add.bindNoCopy(4, state->name);
            add.bindNoCopy(5, state->qualified);
            add.exec();
            add.reset();
        }
        state_rows_.assign(states_.size(), 0);
        SQLite::Statement rows(*db_, "SELECT number, id FROM states WHERE workflow = ?1");
        rows.bind(1, workflow_id_);
        while (rows.executeStep()) {
            const auto number = static_cast<std::size_t>(rows.getColumn(0).getInt64());
            if (number < state_rows_.size()) state_rows_[number] = rows.getColumn(1).getInt64();
        }
    } catch (const SQLite::Exception& e) {
        throw HistoryError(fmt::format("history database '{}': {}", config.db, e.what()));
    }
    thread_ = std::thread([this] { loop(); });
    pthread_setname_np(thread_.native_handle(), "statenet-hist");  // visible in top and perf
}

HistoryWriter::~HistoryWriter() {
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

std::unique_ptr<RunObserver> HistoryWriter::recorder() {
    auto channel = std::make_shared<RunChannel>();
    {
        std::lock_guard lock(mutex_);
        channels_.push_back(channel);
    }
    return std::make_unique<RunRecorder>(level_, std::move(channel), shared_from_this());
}

void HistoryWriter::wake(RunChannel&) { wake_writer(); }

bool HistoryWriter::wait_for_room(RunChannel& channel) {
    if (failed_.load(std::memory_order_relaxed)) return false;  // reported by flush()
    // The timeout covers a wake-up that came between the writer's look and this wait.
    wake_writer();
    std::unique_lock lock(mutex_);
    progress_.wait_for(lock, std::chrono::milliseconds(1), [&] {
        return channel.runs.size() < channel.runs.capacity() || failed_.load(std::memory_order_relaxed);
    });
    return !failed_.load(std::memory_order_relaxed);
}

void HistoryWriter::wake_writer() {
    // Taking the lock orders this wake-up after the writer's look at the channels, so
    // it cannot fall between that look and its wait.
    { std::lock_guard lock(mutex_); }
    wake_.notify_one();
}

bool HistoryWriter::work_waiting() const {
    for (const auto& channel : channels_)
        if (channel->runs.size() >= RunChannel::wake_at) return true;
    return false;
}

void HistoryWriter::flush() {
    std::unique_lock lock(mutex_);
    std::vector<std::pair<std::shared_ptr<RunChannel>, std::uint64_t>> targets;
    for (const auto& channel : channels_) targets.emplace_back(channel, channel->runs.pushed());
    flush_requested_ = true;
    wake_.notify_one();
    progress_.wait(lock, [&] {
        return failure_ || std::all_of(targets.begin(), targets.end(),
                                       [](const auto& t) { return t.first->committed >= t.second; });
    });
    if (failure_) std::rethrow_exception(failure_);
}

void HistoryWriter::store_in_transaction(RunChannel& channel, std::size_t n) {
    try {
        if (!in_transaction_) {
            // Holding the write lock from the start, the next run ids are ours.
            db_->exec("BEGIN IMMEDIATE");
            next_run_id_ = db_->execAndGet("SELECT coalesce(max(id), 0) + 1 FROM runs").getInt64();
            in_transaction_ = true;
            rows_ = 0;
            deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(batch_ms);
        }
        store(channel, n);
        rows_ += n;
    } catch (const std::exception& e) {
        fail(e);
    }
}

void HistoryWriter::loop() {
    using clock = std::chrono::steady_clock;
    std::vector<std::shared_ptr<RunChannel>> channels;
    bool busy = false;  // the last look found runs
    for (;;) {
        bool flush_now = false, closing = false;
        {
            std::unique_lock lock(mutex_);
            wake_.wait_for(lock, std::chrono::milliseconds(busy ? busy_poll_ms : idle_poll_ms),
                           [&] { return work_waiting() || flush_requested_ || closing_; });
            flush_now = std::exchange(flush_requested_, false);
            closing = closing_;
            channels = channels_;
        }
        bool took = false;
        for (const auto& channel : channels) {
            const std::size_t n = channel->runs.available();
            if (n == 0) continue;
            took = true;
            if (!failure_) store_in_transaction(*channel, n);
            // Stored, or dropped once the writer stopped (so no worker waits forever).
            release(*channel, n);
        }
        busy = took;
        if (took) progress_.notify_all();  // room in the channels
        if (!failure_ && in_transaction_ &&
            (rows_ >= batch_rows || flush_now || closing || clock::now() >= deadline_)) {
            try {
                db_->exec("COMMIT");
                in_transaction_ = false;
            } catch (const std::exception& e) {
                fail(e);
            }
        }
        {
            std::lock_guard lock(mutex_);
            for (const auto& channel : channels)
                if (!in_transaction_ || failure_) channel->committed = channel->taken;
            // A channel whose recorder is gone leaves once everything it held is stored.
            std::erase_if(channels_, [](const std::shared_ptr<RunChannel>& channel) {
                return channel->closed.load(std::memory_order_acquire) && channel->runs.size() == 0 &&
                       channel->committed == channel->taken;
            });
            if (closing && !in_transaction_ && channels_.empty()) break;
        }
        progress_.notify_all();
    }
}

void HistoryWriter::fail(const std::exception& e) {
    {
        std::lock_guard lock(mutex_);
        failure_ = std::make_exception_ptr(HistoryError(fmt::format("history database: {}", e.what())));
        failed_.store(true, std::memory_order_relaxed);
    }
    if (in_transaction_) {
        try {
            db_->exec("ROLLBACK");
        } catch (...) {}
        in_transaction_ = false;
    }
}

namespace {

/// One INSERT that takes `rows` rows, and the same for a single row: a statement per
/// run of many rows shares one cursor and one program start, which costs SQLite
/// about half as much per row as a statement per row.
template <typename Row>
class BatchInsert {
public:
    using Bind = void (*)(const HistoryWriter::Binding&, SQLite::Statement&, int first, const Row&);

    /// `row` is one row's VALUES tuple, e.g. "(?, ?, 3)", with `columns` parameters.
    /// The statements are compiled when first used (a many-row one takes SQLite a few
    /// milliseconds; a run that never needs it should not pay for it).
    BatchInsert(SQLite::Database& db, const std::string& head, const std::string& row, int columns, int rows, Bind bind)
        : db_(db), head_(head), row_(row), columns_(columns), rows_(rows), bind_(bind) {}

    Row& add(const Row& row) { return pending_.emplace_back(row); }

    void flush(const HistoryWriter::Binding& binding) {
        std::size_t i = 0;
        for (; i + static_cast<std::size_t>(rows_) <= pending_.size(); i += static_cast<std::size_t>(rows_)) {
            SQLite::Statement& many = statement(many_, rows_);
            for (int r = 0; r < rows_; ++r)
                bind_(binding, many, r * columns_ + 1, pending_[i + static_cast<std::size_t>(r)]);
            many.exec();
            many.reset();
        }
        for (; i < pending_.size(); ++i) {
            SQLite::Statement& one = statement(one_, 1);
            bind_(binding, one, 1, pending_[i]);
            one.exec();
            one.reset();
        }
        pending_.clear();
    }

private:
    static std::string values(const std::string& row, int rows) {
        std::string all = " VALUES " + row;
        for (int r = 1; r < rows; ++r) all += ", " + row;
        return all;
    }

    SQLite::Statement& statement(std::optional<SQLite::Statement>& slot, int rows) {
        if (!slot) slot.emplace(db_, head_ + values(row_, rows));
        return *slot;
    }

    SQLite::Database& db_;
    std::string head_, row_;
    std::optional<SQLite::Statement> many_, one_;
    int columns_, rows_;
    Bind bind_;
    std::vector<Row> pending_;
};

}  // namespace

struct HistoryWriter::RunRow {
    std::int64_t id;
    const RunRecord* run;
    std::int64_t started_us;
    std::array<char, RunId::text_length + 1> run_id;  // its UUID text, NUL-terminated, bound without a copy
};

struct HistoryWriter::Inserts {
    BatchInsert<RunRow> used_runs;   // runs that called resources: every column
    BatchInsert<RunRow> runs;        // runs with extras (an error, data, steps): all but the usage columns
    BatchInsert<RunRow> plain_runs;  // the rest: the constant columns are in the statement
};

namespace {

std::string placeholders(int columns) {
    std::string row = "(?";
    for (int c = 1; c < columns; ++c) row += ", ?";
    return row + ")";
}

}  // namespace

HistoryWriter::Inserts& HistoryWriter::inserts() {
    // Prepared once, on the writer thread, and kept.
    if (!inserts_) {
        // A plain run (no error, no data, no steps) binds 8 values, not 15: the workflow
        // and the level are literals (an integer and one of four fixed words).
        const std::string plain_row =
            fmt::format("(?, ?, ?, ?, ?, ?, ?, ?, {}, '{}')", workflow_id_, history_level_name(level_));
        const std::string extras_columns =
            "INSERT OR FAIL INTO runs (id, run_id, position, ok, final_state, started_us, duration_ns, "
            "transitions, workflow, level, error_name, error_message, error_state, input, output, steps";
        inserts_ = std::make_unique<Inserts>(Inserts{
            BatchInsert<RunRow>(*db_, extras_columns + ", prompt_tokens, completion_tokens, resources)",
                                placeholders(19), 19, 16, &bind_used_run),
            BatchInsert<RunRow>(*db_, extras_columns + ")", placeholders(16), 16, 16, &bind_run),
            BatchInsert<RunRow>(
                *db_,
                "INSERT OR FAIL INTO runs (id, run_id, position, ok, final_state, started_us, duration_ns, "
                "transitions, workflow, level)",
                plain_row, 8, 64, &bind_plain_run),
        });
    }
    return *inserts_;
}

void HistoryWriter::bind_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row) {
    const RunExtras* extras = row.run->extras.get();
    bind_plain_run(b, r, first, row);
    r.bind(first + 8, b.workflow_id);
    r.bindNoCopy(first + 9, b.level);
    bind_error(r, first + 10, extras ? extras->error.get() : nullptr);
    bind_json_or_null(r, first + 13, extras ? extras->input.get() : nullptr);
    bind_json_or_null(r, first + 14, extras ? extras->output.get() : nullptr);
    if (extras && !extras->steps.empty()) r.bindNoCopy(first + 15, extras->steps_json);
    else r.bind(first + 15);
}

// A run with tokens or resource calls (so with extras): bind_run's columns and the usage.
void HistoryWriter::bind_used_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row) {
    const RunExtras& extras = *row.run->extras;
    bind_run(b, r, first, row);
    if (!extras.usage.empty()) {
        r.bind(first + 16, static_cast<std::int64_t>(extras.usage.prompt_tokens));
        r.bind(first + 17, static_cast<std::int64_t>(extras.usage.completion_tokens));
    } else {
        r.bind(first + 16);
        r.bind(first + 17);
    }
    if (!extras.resources.empty()) r.bindNoCopy(first + 18, extras.resources_json);
    else r.bind(first + 18);
}

// The columns every run has (the plain statement has the workflow and level as literals).
void HistoryWriter::bind_plain_run(const Binding& b, SQLite::Statement& r, int first, const RunRow& row) {
    const RunRecord& run = *row.run;
    const RunExtras* extras = run.extras.get();
    r.bind(first, row.id);
    r.bindNoCopy(first + 1, row.run_id.data());
    if (run.position >= 0) r.bind(first + 2, run.position);
    else r.bind(first + 2);
    r.bind(first + 3, run.ok ? 1 : 0);
    // Names live in the model (or the run's extras), which outlive the statement's use.
    if (run.final_state >= 0)
        r.bindNoCopy(first + 4, (*b.states)[static_cast<std::size_t>(run.final_state)]->qualified);
    else if (const ErrorInfo* error = extras ? extras->error.get() : nullptr) r.bindNoCopy(first + 4, error->state);
    else r.bindNoCopy(first + 4, "");
    r.bind(first + 5, row.started_us);
    r.bind(first + 6, run.duration_ns);
    r.bind(first + 7, run.transitions);
}

void HistoryWriter::release(RunChannel& channel, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        std::unique_ptr<RunExtras>& extras = channel.runs.peek(i).extras;
        if (!extras) continue;
        extras->clear();
        // When the spares ring is full, the extras are freed.
        if (!channel.spares.push(extras)) extras.reset();
    }
    channel.runs.pop(n);
    channel.taken += n;
}

void HistoryWriter::store(RunChannel& channel, std::size_t n) {
    Inserts& insert = inserts();
    const Binding binding{model_.get(), &states_, &state_rows_, workflow_id_, history_level_name(level_).data()};
    for (std::size_t i = 0; i < n; ++i) {
        RunRecord& run = channel.runs.peek(i);
        const std::int64_t id = next_run_id_++;
        const bool plain = !run.extras && run.final_state >= 0;
        const bool used = run.extras && (!run.extras->usage.empty() || !run.extras->resources.empty());
        RunRow& row = (plain  ? insert.plain_runs
                       : used ? insert.used_runs
                              : insert.runs)
                          .add(RunRow{id, &run, channel.wall_us(run.started), {}});
        run.id.format(row.run_id.data());
        if (run.extras && !run.extras->steps.empty()) write_steps(binding, *run.extras);
        if (run.extras && !run.extras->resources.empty()) write_resources(*run.extras);
    }
    insert.plain_runs.flush(binding);
    insert.runs.flush(binding);
    insert.used_runs.flush(binding);
}

// {"NAME": {"type":, "calls":, "errors":, "latency_ms":[, "health":]}, ...} (see the schema).
void HistoryWriter::write_resources(RunExtras& extras) {
    extras.resources_json = resource_uses_value(extras.resources).to_json();
}

// One array per step (see the schema): numbers for the common step, and the arcs, error
// and changes only for a step that has any.
void HistoryWriter::write_steps(const Binding& b, RunExtras& extras) {
    std::string& out = extras.steps_json;
    auto number = [&out](std::int64_t n) {
        char digits[24];
        out.append(digits, static_cast<std::size_t>(std::to_chars(digits, digits + sizeof digits, n).ptr - digits));
    };
    auto text_or_null = [&out](const std::string* text) {
        if (text) append_json_string(out, *text);
        else out += "null";
    };
    out.clear();
    out += '[';
    std::int64_t seq = 0;
    for (const StepRow& step : extras.steps) {
        if (++seq > max_steps_per_run) break;  // the recorder stops there too
        if (seq > 1) out += ',';
        out += '[';
        number(step.parent);
        out += ',';
        number(static_cast<int>(step.via));
        out += ',';
        number((*b.state_rows)[static_cast<std::size_t>(step.state)]);
        out += ',';
        if (step.target >= 0) number((*b.state_rows)[static_cast<std::size_t>(step.target)]);
        else out += "null";
        for (std::int64_t n : {std::int64_t{step.attempt}, std::int64_t{step.depth},
                               std::int64_t{static_cast<int>(step.end)}, step.duration_ns}) {
            out += ',';
            number(n);
        }
        if (step.more >= 0) {
            const StepMore& more = extras.more[static_cast<std::size_t>(step.more)];
            out += ',';
            if (more.more_targets.empty()) out += "null";
            else append_json_string(out, step_arcs(step, &more, *b.states));
            const ErrorInfo* error = more.error.get();
            for (const std::string* field :
                 {error ? &error->name : nullptr, error ? &error->message : nullptr, error ? &error->state : nullptr}) {
                out += ',';
                text_or_null(field);
            }
            out += ',';
            if (more.changes) append_json(out, *more.changes);
            else out += "null";
            if (!more.reason.empty()) {
                out += ',';
                append_json_string(out, more.reason);
            }
        }
        out += ']';
    }
    out += ']';
}

}  // namespace statenet::detail
