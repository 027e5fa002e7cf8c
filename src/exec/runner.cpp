// Runner: a record's run — begin (the record enters the runtime), drive (its branches
// step until they end), collect (the result, the output line, the commit).
#include "exec/branch.hpp"
#include "exec/retry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace statenet::detail {

namespace {

// splitmix64: run ids need uniqueness, not a cryptographic source; seeded from
// std::random_device per runner, so processes and runners do not share a sequence.
std::uint64_t next_id_bits(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
std::uint64_t random_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

Runner::Runner(std::shared_ptr<const Model> model, std::shared_ptr<EngineImpl> engine,
               std::shared_ptr<ResourcePools> pools, Diagnostics& diags)
    : model_(std::move(model)),
      engine_(std::move(engine)),
      pools_(std::move(pools)),
      program_(model_, engine_, diags, ProgramFor::records),
      binder_(*model_, *pools_, program_, tx_),
      tx_(*model_, pools_, [this](const std::string& message) { warn(message); }),
      reference_(model_->reference, tx_, *pools_),
      rng_(engine_->options.seed + engine_->runner_seq.fetch_add(1)),
      ids_(random_seed()) {
    state_index_.resize(static_cast<std::size_t>(model_->state_count));
    for (const auto& net : model_->networks)
        for (std::size_t i = 0; i < net.states.size(); ++i) {
            state_index_[static_cast<std::size_t>(net.states[i].id)] = static_cast<int>(i);
            if (net.states[i].mode == DataMode::direct) has_direct_state_ = true;
        }
    install_context();
    json_.install(program_);
    install_step_hook();
    if (model_->reference.resource >= 0) reference_.install(program_);
}

Runner::~Runner() = default;

// What ctx offers that needs this runner: ctx.resources, the manual strategy's
// ctx.commit() / ctx.rollback(), and ctx.run_id made on first read.
void Runner::install_context() {
    lua_State* L = program_.state();
    StackGuard guard(L);
    program_.vm().push_runtime("ctx");
    RecordMeter::install(L, &meter_);
    lua_getfield(L, -1, "resources");
    pools_->network().bind(L, -1, program_.convert());
    resources_table_ = luaL_ref(L, LUA_REGISTRYINDEX);
    binder_.use_table(resources_table_);
    for (const bool commit : {true, false}) {
        lua_pushlightuserdata(L, this);
        lua_pushboolean(L, commit);
        lua_pushcclosure(L, lua_commit_or_rollback, 2);
        lua_setfield(L, -2, commit ? "commit" : "rollback");
    }
    lua_pop(L, 1);
    program_.vm().push_runtime("set_run_id_source");
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_run_id, 1);
    lua_call(L, 1, 0);
}

void Runner::set_observer(std::unique_ptr<RunObserver> observer) { observer_ = std::move(observer); }

void Runner::set_park_store(std::shared_ptr<ParkStore> store) { park_store_ = std::move(store); }

Result Runner::run(Value input, const RunOptions& options, RunObserver* observer) {
    const DataMode mode = options.mode.value_or(model_->mode);
    if (mode != DataMode::reference) return run_once(std::move(input), mode, 0, options, observer);
    if (model_->reference.resource < 0)
        throw std::invalid_argument("data mode 'reference' needs a [reference] table in the workflow");
    // A Conflict at the commit means the row changed since it was read: re-running the
    // record from its start state reads it again. The start state's retriers decide.
    const auto started = std::chrono::steady_clock::now();
    const State& start = model_->state(model_->main, model_->networks[model_->main].start);
    std::vector<int> counts(start.retry.size(), 0);
    for (int attempt = 0;; ++attempt) {
        Result result = run_once(input, mode, attempt, options, observer);
        result.duration = std::chrono::steady_clock::now() - started;
        if (!reference_.conflict()) return result;
        bool again = false;
        for (std::size_t i = 0; i < start.retry.size(); ++i) {
            const Retrier& r = start.retry[i];
            if (!error_matches(r.errors, "Conflict")) continue;
            if (counts[i] < r.attempts) {
                const double delay = retry_delay_ms(r, counts[i], rng_);
                if (delay > 0) engine_->clock->sleep_ms(delay);
                ++counts[i];
                again = true;
            }
            break;
        }
        if (!again) return result;
    }
}

Result Runner::run_json(std::string_view text, std::string& out, const RunOptions& options, bool lean,
                        RunObserver* observer, JsonData data) {
    out.clear();
    const DataMode mode = options.mode.value_or(model_->mode);
    // The lazy path keeps one record's JSON; reference records and breadth-first
    // branches, and text simdjson alone cannot take, go the Value way.
    if (mode != DataMode::reference && model_->strategy != Strategy::breadth_first && json_.record().parse(text)) {
        // History at level full keeps the input as a value (the run itself ignores it).
        RunObserver* watching = observer ? observer : observer_.get();
        Value input = watching && watching->wants_changes() ? Value::from_json(text) : Value();
        return run_once(std::move(input), mode, 0, options, observer, &out, lean, nullptr, data);
    }
    Result result = run(Value::from_json(text), options, observer);
    if ((result.ok && result.emit) || data == JsonData::always) out = result.data.to_json();
    return result;
}

const RunId& Runner::run_bits() {
    if (!run_bits_drawn_) {
        run_bits_.hi = next_id_bits(ids_);
        run_bits_.lo = next_id_bits(ids_);
        run_bits_drawn_ = true;
    }
    return run_bits_;
}

const std::string& Runner::run_id() {
    if (!run_id_made_) {
        run_id_.resize(RunId::text_length);
        run_bits().format(run_id_.data());
        run_id_made_ = true;
    }
    return run_id_;
}

int Runner::lua_run_id(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    const std::string& id = self->run_id();
    lua_pushlstring(L, id.data(), id.size());
    return 1;
}

Runner::Run Runner::new_run(DataMode mode, int attempt, RunObserver* observer, bool lean, std::string* json_out) {
    Run run;
    // A lean run's duration is read by no one (and a clock read is ~2% of a small record).
    run.timed = !lean || observer || observer_;
    if (run.timed) run.started = TickClock::now();
    run.lean = lean;
    run.json_out = json_out;
    run.reference = mode == DataMode::reference;
    run.copy_default = mode != DataMode::direct;
    run.deep = mode == DataMode::direct || has_direct_state_;
    run.breadth_first = model_->strategy == Strategy::breadth_first;
    run.first_attempt = attempt;
    if (model_->timeout_ms > 0) run.deadline = engine_->clock->now_ms() + model_->timeout_ms;
    run.observer = observer ? observer : observer_.get();
    return run;
}

Result Runner::run_once(Value input, DataMode mode, int attempt, const RunOptions& options, RunObserver* observer,
                        std::string* json_out, bool lean, const ResumePoint* from, JsonData json_data) {
    Run run = new_run(mode, attempt, observer, lean, json_out);
    run.json_always = json_out && json_data == JsonData::always;
    run.entry = model_->main;
    if (!options.network.empty()) {
        const auto& nets = model_->networks;
        const auto it =
            std::find_if(nets.begin(), nets.end(), [&](const Network& n) { return n.name == options.network; });
        if (it == nets.end()) throw std::invalid_argument("no network named '" + options.network + "'");
        run.entry = static_cast<int>(it - nets.begin());
    }
    run.resume = options.resume;
    run.resumed = from;
    run.position = options.position;
    reference_.reset();
    run_bits_drawn_ = run_id_made_ = false;
    if (joined_run_) {
        run_bits_ = *joined_run_;
        run_bits_drawn_ = true;
    }
    if (from) {
        run_bits_drawn_ = RunId::parse(from->parked->run_id, run_bits_);
        if (!run_bits_drawn_) throw std::invalid_argument("not a run id: " + from->parked->run_id);
        run.transitions = static_cast<std::size_t>(from->parked->transitions);
    }
    Result result;
    if (!lean) result.run_id = run_id();
    if (run.observer) {
        if (run.observer->wants_changes() != tracking_changes_) track_changes(run.observer->wants_changes());
        if (run.observer->wants_steps()) {
            run.steps = run.observer;
            run.step_started = run.started;  // an observed run is timed: its first step starts with it
        }
        run.observer->run_started(run_bits(), run.started, input, options);  // the history formats its text
    }
    lua_State* L = program_.state();
    StackGuard guard(L);
    int first_slot = 0;
    meter_.clear();  // what an earlier record left uncounted is not this one's
    if (auto error = begin(run, input, first_slot)) {
        result.error = std::move(error);
        if (run.json_always) json_.write_input(*json_out);  // the record as it came, untouched
        result.data = std::move(input);
        result.duration = run.took();
        if (run.observer) run.observer->run_finished(result, nullptr, nullptr);
        return result;
    }
    Outcome outcome;
    drive(run, first_slot, outcome);
    if (run.breadth_first && model_->branch_join) join_branches(run, outcome, input);
    result.usage = meter_.take_tokens();
    result.resources = meter_.take();
    // The lazy JSON path leaves Result::data null; history at level full wants it.
    Value history_output;
    collect(run, outcome, input, result, history_output);
    finish_transaction(result);
    if (result.parked) store_parked(run, result);
    // The runtime's slots are cleared when the next record begins.
    result.transitions = run.transitions;
    result.duration = run.took();
    if (run.observer)
        run.observer->run_finished(result, result.ok && outcome.primary ? outcome.primary->final_state : nullptr,
                                   history_output.is_null() ? nullptr : &history_output);
    return result;
}

// The record enters the runtime: checked, its transaction begun, and given a slot.
// Returns why it was rejected, if it was.
std::optional<ErrorInfo> Runner::begin(Run& run, const Value& input, int& first_slot) {
    if (run.reference) {
        try {
            reference_.begin(input);
        } catch (const std::invalid_argument& e) {
            return ErrorInfo{"SchemaViolation", e.what(), ""};
        }
    } else if (!run.json_out && !input.is_object()) {
        return ErrorInfo{"SchemaViolation",
                         fmt::format("a record must be a JSON object, not {}", type_name(input.type())), ""};
    } else if (!run.json_out && exceeds_nesting_limit(input)) {
        return ErrorInfo{"SchemaViolation", fmt::format("record is nested deeper than {} levels", max_nesting_depth),
                         ""};
    }
    try {
        tx_.begin_record();
    } catch (const std::exception& e) {
        return ErrorInfo{"ResourceError", e.what(), ""};
    }
    lua_State* L = program_.state();
    int args = 3;
    if (run.reference) {
        program_.vm().push_runtime("begin_reference");
        lua_pushlstring(L, model_->reference.key.data(), model_->reference.key.size());
        push_value(L, reference_.key(), program_.convert());
        ++args;
    } else if (run.json_out) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, program_.refs().begin_json);
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, program_.refs().begin);
        push_value(L, input, program_.convert());
    }
    if (run_id_made_) lua_pushlstring(L, run_id_.data(), run_id_.size());
    else lua_pushnil(L);  // made if a function reads ctx.run_id
    lua_pushboolean(L, run.copy_default);
    if (run.json_out) lua_pushinteger(L, static_cast<lua_Integer>(json_.record().size()));
    if (lua_pcall(L, args, 1, 0) != 0) throw std::logic_error("statenet runtime: " + pop_error_text(L));
    first_slot = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    return std::nullopt;
}

// Depth-first: one branch, stepped until it ends (no vectors of branches, and the
// branch's own vectors are reused from the last run). Breadth-first: level by level.
void Runner::drive(Run& run, int first_slot, Outcome& outcome) {
    const int start = model_->networks[static_cast<std::size_t>(run.entry)].start;
    if (!run.breadth_first) {
        if (!single_) single_ = std::make_unique<Branch>();
        Branch& b = *single_;
        if (run.resumed) start_resumed(run, b, first_slot);
        else b.reset(first_slot, run.entry, start);
        while (b.status == Status::running) b.status = step(run, b, no_spawn_);
        (b.status == Status::finished ? outcome.primary
         : b.status == Status::parked ? outcome.parked
                                      : outcome.culprit) = &b;
        return;
    }
    std::vector<Branch> current(1);
    current.front().reset(first_slot, run.entry, start);
    // `[branches] join = "any"`: the first branch to finish is enough; the rest stop.
    const bool first_wins = model_->branch_join && model_->branch_join->join == Parallel::Join::any;
    while (!current.empty() && !run.fatal && !(first_wins && !outcome.finished.empty())) {
        std::vector<Branch> next;
        for (auto& b : current) {
            std::vector<Branch> spawned;
            b.status = step(run, b, spawned);
            spawned.insert(spawned.begin(), std::move(b));
            for (auto& s : spawned) {
                if (s.status == Status::running) next.push_back(std::move(s));
                else if (s.status == Status::finished) outcome.finished.push_back(std::move(s));
                else outcome.failed.push_back(std::move(s));
            }
            if (run.fatal) break;
        }
        current = std::move(next);
    }
    // A fatal error (MaxTransitions, Timeout) is the last failure; otherwise the first
    // branch to fail explains the record.
    if (!outcome.finished.empty() && !run.fatal) outcome.primary = &outcome.finished.front();
    else outcome.culprit = run.fatal ? &outcome.failed.back() : &outcome.failed.front();
}

std::vector<std::string> Runner::path_of(const Run& run, const Branch& b) const {
    std::vector<std::string> path;
    if (run.lean) return path;
    // A resumed record's path goes on from where it parked (the waiting state is in both).
    if (run.resumed) path.assign(run.resumed->parked->path.begin(), run.resumed->parked->path.end() - 1);
    path.reserve(path.size() + b.path.size());
    for (const std::string* state : b.path) path.push_back(*state);
    return path;
}

// The result from how the branches ended: the record's data (or its output line on the
// JSON path), its path and its branches.
void Runner::collect(Run& run, const Outcome& outcome, Value& input, Result& result, Value& history_output) {
    const bool keep_output = run.json_out && run.observer && run.observer->wants_changes();
    auto order = [&]() -> const Value& { return run.reference ? reference_.order(input) : input; };
    try {
        if (outcome.parked) {
            collect_parked(run, *outcome.parked, input, result);
        } else if (const Branch* primary = outcome.primary) {
            result.ok = true;
            result.final_state = primary->final_state->qualified;
            result.path = path_of(run, *primary);
            result.emit = primary->emit;
            if (run.reference) {
                // The output is the whole row: load it if no function touched it.
                // With no row (an on_error route ended the record), the output is the key.
                if (!reference_.missing()) {
                    lua_State* L = program_.state();
                    lua_rawgeti(L, LUA_REGISTRYINDEX, program_.refs().touch);
                    lua_pushinteger(L, primary->slot);
                    if (lua_pcall(L, 1, 0, 0) != 0) {
                        result.ok = false;
                        result.error = pcall_error(result.final_state);
                    }
                }
                result.data = program_.read_slot(primary->slot, reference_.order(input));
            } else if (run.json_out) {
                if (result.emit || run.json_always) json_.write(primary->slot, *run.json_out);
                if (keep_output) history_output = program_.read_whole(primary->slot, input);
            } else {
                result.data = read_record(primary->slot, input);
            }
            for (const auto& b : outcome.finished)
                result.branches.push_back({b.final_state->qualified,
                                           &b == primary ? result.data : program_.read_slot(b.slot, order()),
                                           path_of(run, b), b.emit});
        } else {
            const Branch& culprit = *outcome.culprit;
            result.error = culprit.error;
            result.final_state = culprit.error ? culprit.error->state : "";
            result.path = path_of(run, culprit);
            if (!run.json_out)
                result.data = run.reference ? program_.read_slot(culprit.slot, reference_.order(input))
                                            : read_record(culprit.slot, input);
            else if (run.json_always) json_.write(culprit.slot, *run.json_out);
            if (run.json_out && keep_output) history_output = program_.read_whole(culprit.slot, input);
        }
    } catch (const ConvertError& e) {
        if (run.json_out) run.json_out->clear();  // no data, as Result::data stays null
        result.ok = false;
        result.error =
            ErrorInfo{"LuaError", std::string("the record cannot leave Lua: ") + e.what(), result.final_state};
        result.branches.clear();
    }
}

Value Runner::read_record(int slot, Value& input) {
    lua_State* L = program_.state();
    StackGuard guard(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, program_.refs().changes);
    lua_pushinteger(L, slot);
    lua_call(L, 1, 3);  // whole, dirty keys, the record's root
    if (lua_toboolean(L, -3)) return read_value(L, -1, program_.convert(), &input);
    apply_changes(L, -1, -2, program_.convert(), input);
    return std::move(input);
}

}  // namespace statenet::detail
