// A runner's resources and transactions (and the ResourceBinder they share with machines):
// a record's connections are acquired when it first enters a state that lists them and
// bound into ctx.resources; Transactions decides
// when their work commits (single, batch, manual). Each step runs inside a savepoint, so
// a failed (or retried) step's writes roll back with its data.
#include "exec/branch.hpp"
#include "exec/resource_binder.hpp"
#include "resources/binding.hpp"
#include "resources/db_binding.hpp"

namespace statenet::detail {

Connection& ResourceBinder::hold(int id) {
    bool fresh = false;
    Connection& connection = tx_.acquire(id, fresh);
    if (fresh) {
        lua_State* L = program_.state();
        StackGuard guard(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, table_);
        push_db_binding(L, &connection, program_.convert(), pools_.meter(id));
        lua_setfield(L, -2, model_.resources[static_cast<std::size_t>(id)].name.c_str());
    }
    return connection;
}

std::optional<ErrorInfo> ResourceBinder::acquire(int id, const std::string& where) {
    const ResourceDecl& decl = model_.resources[static_cast<std::size_t>(id)];
    if (decl.network()) return std::nullopt;  // bound at setup
    try {
        if (!HostedResources::hosts(decl)) {
            hold(id);
            return std::nullopt;
        }
        lua_State* L = program_.state();
        StackGuard guard(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, table_);
        hosted_.bind(id, decl, L, lua_gettop(L), program_.convert(), tx_, pools_.meter(id));
    } catch (const ResourceTimeout& e) {
        return ErrorInfo{"ResourceTimeout", e.what(), where};
    } catch (const ResourceFailure& e) {
        return ErrorInfo{e.name(), e.what(), where};
    } catch (const std::exception& e) {
        // Connected but could not begin (a lock held elsewhere, a dropped connection).
        ResourceMeter& meter = pools_.meter(id);
        if (meter.health() != Health::down) meter.set_health(Health::degraded);
        return ErrorInfo{"ResourceError", e.what(), where};
    }
    return std::nullopt;
}

void ResourceBinder::unbind(const std::vector<int>& released) noexcept {
    lua_State* L = program_.state();
    for (int id : released) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, table_);
        lua_pushnil(L);
        lua_setfield(L, -2, model_.resources[static_cast<std::size_t>(id)].name.c_str());
        lua_pop(L, 1);
    }
}

std::optional<ErrorInfo> Runner::acquire_resources(const State& s, const std::string& where) {
    for (int id : s.resources)
        if (auto error = binder_.acquire(id, where)) return error;
    return std::nullopt;
}

void Runner::warn(const std::string& message) {
    static const Value no_fields = Value::object();
    if (engine_->log) engine_->log(LogRecord{LogLevel::warn, "", message, no_fields});
}

std::optional<std::string> Runner::flush() {
    std::vector<int> released;
    auto error = tx_.flush(released);
    binder_.unbind(released);
    return error;
}

// ctx.commit() / ctx.rollback(): the manual strategy's controls. Upvalue 1 is the
// runner, upvalue 2 says which (a boolean: true = commit).
int Runner::lua_commit_or_rollback(lua_State* L) {
    auto* self = static_cast<Runner*>(lua_touserdata(L, lua_upvalueindex(1)));
    const bool commit = lua_toboolean(L, lua_upvalueindex(2)) != 0;
    return guarded_call(L, commit ? "ctx.commit: " : "ctx.rollback: ", [&] {
        if (commit) self->tx_.commit_now();
        else self->tx_.rollback_now();
        return 0;
    });
}

void Runner::finish_transaction(Result& result) {
    if (model_->reference.resource >= 0) {
        const bool manual = model_->transaction.strategy == TransactionConfig::Strategy::manual;
        reference_.commit(result, manual, [&]() -> Connection& { return binder_.hold(model_->reference.resource); });
    }
    std::vector<int> released;
    auto failure = tx_.end_record(result.ok, released);
    binder_.unbind(released);
    if (failure) {
        result.ok = false;
        result.error = ErrorInfo{"ResourceError", std::move(*failure), result.final_state};
        result.branches.clear();
    }
}

}  // namespace statenet::detail
