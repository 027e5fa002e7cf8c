// Reference mode: key extraction, the row load and the version-checked write-back.
#include "exec/reference.hpp"

#include <fmt/format.h>

#include <utility>

namespace statenet::detail {

namespace {

// Lua has one number type: 2.0 read from a REAL column comes back as the integer 2.
bool same(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) return a.as_number() == b.as_number();
    return a == b;
}

}  // namespace

Value reference_key(const ReferenceConfig& config, const Value& input) {
    if (input.is_string() || input.is_int()) return input;
    if (input.is_object()) {
        const Value* key = input.find(config.key);
        if (key && (key->is_string() || key->is_int())) return *key;
        if (!key)
            throw std::invalid_argument(fmt::format(
                "a reference-mode record needs its key field '{}' (the input is the row's key)", config.key));
        throw std::invalid_argument(
            fmt::format("key field '{}' must be a string or an integer, not {}", config.key, type_name(key->type())));
    }
    throw std::invalid_argument(
        fmt::format("a reference-mode record is a key: an object with field '{}', a string or an integer, not {}",
                    config.key, type_name(input.type())));
}

std::optional<Value> load_reference_row(Connection& connection, const ReferenceConfig& config, const Value& key) {
    const std::string sql = fmt::format("SELECT * FROM {} WHERE {} = ? LIMIT 1", quote_identifier(config.table),
                                        quote_identifier(config.key));
    Value rows = connection.query(sql, {key});
    if (rows.size() == 0) return std::nullopt;
    return std::move(rows[0]);
}

ReferenceWrite write_reference_row(Connection& connection, const ReferenceConfig& config, const Value& loaded,
                                   Value& final_row) {
    for (const std::string* fixed : {&config.key, &config.version})
        if (!same(loaded[*fixed], std::as_const(final_row)[*fixed]))
            throw std::invalid_argument(
                fmt::format("field '{}' is the row's {} in reference mode and cannot be changed", *fixed,
                            fixed == &config.key ? "key" : "version"));

    std::string assignments;
    Value::Array params;
    auto assign = [&](const std::string& column, const Value& value) {
        if (!is_identifier(column))
            throw std::invalid_argument(fmt::format("field '{}' cannot be a column name", column));
        assignments += quote_identifier(column) + " = ?, ";
        params.push_back(value);
    };
    for (const auto& [name, value] : final_row.as_object())
        if (const Value* before = loaded.find(name); !before || !same(*before, value)) assign(name, value);
    for (const auto& [name, value] : loaded.as_object())
        if (!final_row.find(name) && !value.is_null()) assign(name, Value());
    if (params.empty()) return ReferenceWrite::unchanged;

    const std::string version = quote_identifier(config.version);
    const std::string sql =
        fmt::format("UPDATE {} SET {}{} = coalesce({}, 0) + 1 WHERE {} = ? AND {} IS ?", quote_identifier(config.table),
                    assignments, version, version, quote_identifier(config.key), version);
    params.push_back(loaded[config.key]);
    params.push_back(loaded[config.version]);
    if (connection.exec(sql, params) == 0) return ReferenceWrite::conflict;
    const Value& old_version = loaded[config.version];
    final_row.set(config.version,
                  Value(static_cast<std::int64_t>(old_version.is_int() ? old_version.as_int() + 1 : 1)));
    return ReferenceWrite::written;
}

void ReferenceRecord::install(Program& program) {
    program_ = &program;
    lua_State* L = program.state();
    StackGuard guard(L);
    program.vm().push_runtime("set_reference_loader");
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, lua_load_row, 1);
    lua_call(L, 1, 0);
}

void ReferenceRecord::reset() noexcept {
    conflict_ = missing_ = false;
    row_.reset();
}

void ReferenceRecord::begin(const Value& input) { key_ = reference_key(config_, input); }

const Value& ReferenceRecord::order(const Value& input) const {
    static const Value none = Value::object();
    if (row_) return *row_;
    return input.is_object() ? input : none;
}

// The reference-mode loader: reads the record's row, once, on first touch. It reads on
// the held connection when the record (or its batch) holds one, so it sees the
// record's own writes; else through a pooled connection outside any transaction, so
// concurrent runs only meet at the version check.
int ReferenceRecord::lua_load_row(lua_State* L) {
    auto* self = static_cast<ReferenceRecord*>(lua_touserdata(L, lua_upvalueindex(1)));
    const ReferenceConfig& config = self->config_;
    const char* name = "ResourceError";
    std::string failure;
    try {
        std::optional<Value> row;
        if (Connection* held = self->tx_.held(config.resource)) {
            row = load_reference_row(*held, config, self->key_);
        } else {
            auto connection = self->pools_.acquire(config.resource);
            try {
                row = load_reference_row(*connection, config, self->key_);
            } catch (...) {
                self->pools_.release(config.resource, std::move(connection));
                throw;
            }
            self->pools_.release(config.resource, std::move(connection));
        }
        if (row) {
            push_value(L, *row, self->program_->convert());
            self->row_ = std::move(row);
            return 1;
        }
        name = "NotFound";
        self->missing_ = true;
        failure = fmt::format("no row with {} = {} in table '{}'", config.key, self->key_.to_json(), config.table);
    } catch (const ResourceTimeout& e) {
        name = "ResourceTimeout";
        failure = e.what();
    } catch (const std::exception& e) {
        failure = e.what();
    }
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_pushlstring(L, failure.data(), failure.size());
    lua_setfield(L, -2, "message");
    return lua_error(L);
}

void ReferenceRecord::commit(Result& result, bool manual, const std::function<Connection&()>& hold) {
    if (!result.ok || !row_) return;
    const ReferenceConfig& config = config_;
    auto fail_with = [&](const char* name, std::string message) {
        result.ok = false;
        result.error = ErrorInfo{name, std::move(message), result.final_state};
        result.branches.clear();
    };
    try {
        // Manual strategy: the functions' uncommitted writes are discarded first; the
        // row itself is the engine's write and commits on its own.
        if (manual) tx_.discard_uncommitted();
        Connection& connection = hold();
        switch (write_reference_row(connection, config, *row_, result.data)) {
        case ReferenceWrite::conflict:
            conflict_ = true;
            return fail_with("Conflict", fmt::format("row {} = {} of table '{}' changed since it was read ({} {})",
                                                     config.key, key_.to_json(), config.table, config.version,
                                                     (*row_)[config.version].to_json()));
        case ReferenceWrite::written:
        case ReferenceWrite::unchanged: break;
        }
        if (manual) tx_.commit_now();
    } catch (const std::invalid_argument& e) {
        fail_with("SchemaViolation", e.what());
    } catch (const std::exception& e) {
        fail_with("ResourceError", e.what());
    }
}

}  // namespace statenet::detail
