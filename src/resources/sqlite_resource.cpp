// The `sqlite` resource: a SQLiteCpp connection with cached statements, and its Lua binding.
#include "resources/sqlite_resource.hpp"
#include "exec/waiter.hpp"
#include "resources/sqlite_values.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

// Resets a cached statement when its use ends, so it holds no read lock between calls.
struct StatementUse {
    SQLite::Statement& statement;
    ~StatementUse() { statement.tryReset(); }
};

/// Sleeps instead of polling I/O: what a record waiting for another's SQLite write lock
/// polls while every record on the worker waits.
class SleepPoller final : public Poller {
public:
    void poll(int timeout_ms) override {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::clamp(timeout_ms, 0, 2)));
    }
};

}  // namespace

struct SqliteConnection::Impl {
    SQLite::Database db;
    double busy_timeout_ms = 5000;
    std::chrono::steady_clock::time_point busy_since;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements;

    bool refused_attach = false;  // set by the authorizer while a statement is compiled

    explicit Impl(const SqliteConfig& config)
        : db(config.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE), busy_timeout_ms(config.busy_timeout_ms) {
        sqlite3_set_authorizer(db.getHandle(), &Impl::authorize, this);
        sqlite3_busy_handler(db.getHandle(), &Impl::busy, this);
    }

    /// The database is locked by another connection (`tries` times so far for this
    /// statement): wait a little and try again, up to busy_timeout_ms. Another record on
    /// this worker may hold that lock while it waits on the network, so a record in flight
    /// yields its fiber while it waits (exec/waiter.hpp) instead of blocking the worker,
    /// and the lock holder can finish and commit.
    static int busy(void* self, int tries) {
        auto* impl = static_cast<Impl*>(self);
        const auto now = std::chrono::steady_clock::now();
        if (tries == 0) impl->busy_since = now;
        if (std::chrono::duration<double, std::milli>(now - impl->busy_since).count() >= impl->busy_timeout_ms)
            return 0;  // SQLITE_BUSY: "database is locked"
        const auto until = now + std::chrono::milliseconds(std::min(1 + tries, 10));
        SleepPoller sleeper;
        wait_for([&] { return std::chrono::steady_clock::now() >= until; }, sleeper);
        return 1;
    }

    /// A resource is one database: a workflow may not attach others (any file the
    /// process can reach) nor detach anything.
    static int authorize(void* self, int action, const char*, const char*, const char*, const char*) {
        if (action != SQLITE_ATTACH && action != SQLITE_DETACH) return SQLITE_OK;
        static_cast<Impl*>(self)->refused_attach = true;
        return SQLITE_DENY;
    }

    SQLite::Statement& prepare(std::string_view sql) {
        std::string key(sql);
        auto found = statements.find(key);
        if (found != statements.end()) {
            found->second->reset();
            found->second->clearBindings();
            return *found->second;
        }
        refused_attach = false;
        std::unique_ptr<SQLite::Statement> statement;
        try {
            statement = std::make_unique<SQLite::Statement>(db, key);
        } catch (const SQLite::Exception&) {
            if (refused_attach)
                throw SQLite::Exception("ATTACH and DETACH are not allowed: a resource is one database", SQLITE_AUTH);
            throw;
        }
        refuse_more_statements(key);
        return *statements.emplace(std::move(key), std::move(statement)).first->second;
    }

    /// One call runs one statement: SQLite compiles the first and would silently skip
    /// the rest ("SELECT 1; DROP TABLE t" would run only the SELECT). SQLiteCpp keeps no
    /// tail, so the text is compiled again to find it; only comments, spaces and `;`
    /// may follow. Runs once per distinct SQL text: statements are cached.
    void refuse_more_statements(const std::string& sql) {
        sqlite3_stmt* first = nullptr;
        const char* tail = nullptr;
        sqlite3_prepare_v2(db.getHandle(), sql.data(), static_cast<int>(sql.size()), &first, &tail);
        sqlite3_finalize(first);
        if (!tail) return;
        const int rest = static_cast<int>(sql.data() + sql.size() - tail);
        sqlite3_stmt* next = nullptr;
        const int rc = rest > 0 ? sqlite3_prepare_v2(db.getHandle(), tail, rest, &next, nullptr) : SQLITE_OK;
        sqlite3_finalize(next);
        if (rc != SQLITE_OK || next)
            throw SQLite::Exception("one statement per call: the SQL goes on after its first statement", SQLITE_MISUSE);
    }

    SQLite::Statement& prepare_bound(std::string_view sql, const Value::Array& params) {
        SQLite::Statement& statement = prepare(sql);
        for (std::size_t i = 0; i < params.size(); ++i) bind_value(statement, static_cast<int>(i + 1), params[i]);
        return statement;
    }

    // Counted from the connection's total, so statements that change nothing (DDL,
    // SELECT) report 0 rather than the previous statement's count.
    std::int64_t run(std::string_view sql, const Value::Array& params) {
        SQLite::Statement& statement = prepare_bound(sql, params);
        StatementUse use{statement};
        const int before = sqlite3_total_changes(db.getHandle());
        while (statement.executeStep()) {}
        return sqlite3_total_changes(db.getHandle()) - before;
    }
};

namespace {

// Runs `body`, turning SQLite's exceptions into errors that name the resource.
template <typename F>
auto guarded(const SqliteConfig& config, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error(config.name + ": " + e.what());
    }
}

}  // namespace

SqliteConnection::SqliteConnection(const SqliteConfig& config) : config_(config) {
    guarded(config_, [&] {
        impl_ = std::make_unique<Impl>(config_);
        if (config_.path != ":memory:") impl_->db.exec("PRAGMA journal_mode=WAL");
        impl_->db.exec("PRAGMA synchronous=NORMAL");
    });
}

SqliteConnection::~SqliteConnection() = default;

std::int64_t SqliteConnection::exec(std::string_view sql, const Value::Array& params) {
    return guarded(config_, [&] { return impl_->run(sql, params); });
}

Value SqliteConnection::query(std::string_view sql, const Value::Array& params) {
    return guarded(config_, [&] {
        SQLite::Statement& statement = impl_->prepare_bound(sql, params);
        StatementUse use{statement};
        Value::Array rows;
        const int columns = statement.getColumnCount();
        while (statement.executeStep()) {
            Value::Object row;
            row.reserve(static_cast<std::size_t>(columns));
            for (int i = 0; i < columns; ++i)
                row.emplace_back(statement.getColumnName(i), column_value(statement.getColumn(i)));
            rows.emplace_back(std::move(row));
        }
        return Value(std::move(rows));
    });
}

namespace {

// Checks the table and the row's field names; returns the field list and parameters.
struct InsertParts {
    std::string columns;       // "a","b"
    std::string placeholders;  // ?,?
    Value::Array params;
};

InsertParts insert_parts(const SqliteConfig& config, std::string_view table, const Value& row) {
    if (!is_identifier(table))
        throw std::runtime_error(config.name + ": invalid table name '" + std::string(table) + "'");
    if (!row.is_object() || row.as_object().empty())
        throw std::runtime_error(config.name + ": row must be a non-empty object");
    InsertParts parts;
    for (const auto& [field, value] : row.as_object()) {
        if (!is_identifier(field)) throw std::runtime_error(config.name + ": invalid column name '" + field + "'");
        if (!parts.params.empty()) {
            parts.columns += ',';
            parts.placeholders += ',';
        }
        parts.columns += quote_identifier(field);
        parts.placeholders += '?';
        parts.params.push_back(value);
    }
    return parts;
}

}  // namespace

std::int64_t SqliteConnection::insert(std::string_view table, const Value& row) {
    InsertParts parts = insert_parts(config_, table, row);
    const std::string sql =
        "INSERT INTO " + quote_identifier(table) + " (" + parts.columns + ") VALUES (" + parts.placeholders + ")";
    return guarded(config_, [&] {
        impl_->run(sql, parts.params);
        return static_cast<std::int64_t>(impl_->db.getLastInsertRowid());
    });
}

std::int64_t SqliteConnection::upsert(std::string_view table, const Value& row, std::string_view key) {
    InsertParts parts = insert_parts(config_, table, row);
    if (!is_identifier(key)) throw std::runtime_error(config_.name + ": invalid key column '" + std::string(key) + "'");
    if (!row.find(key))
        throw std::runtime_error(config_.name + ": key '" + std::string(key) + "' is not a field of the row");
    std::string updates;
    for (const auto& member : row.as_object()) {
        if (member.first == key) continue;
        if (!updates.empty()) updates += ',';
        updates += quote_identifier(member.first) + "=excluded." + quote_identifier(member.first);
    }
    const std::string sql = "INSERT INTO " + quote_identifier(table) + " (" + parts.columns + ") VALUES (" +
                            parts.placeholders + ") ON CONFLICT(" + quote_identifier(key) + ") DO " +
                            (updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates);
    return guarded(config_, [&] { return impl_->run(sql, parts.params); });
}

void SqliteConnection::begin() {
    guarded(config_, [&] { impl_->db.exec("BEGIN IMMEDIATE"); });
}

void SqliteConnection::commit() {
    guarded(config_, [&] { impl_->db.exec("COMMIT"); });
}

void SqliteConnection::rollback() {
    guarded(config_, [&] { impl_->db.exec("ROLLBACK"); });
}

bool SqliteConnection::in_transaction() const noexcept { return sqlite3_get_autocommit(impl_->db.getHandle()) == 0; }

void SqliteConnection::savepoint(std::string_view name) {
    guarded(config_, [&] { impl_->db.exec("SAVEPOINT " + std::string(name)); });
}

void SqliteConnection::release(std::string_view name) {
    guarded(config_, [&] { impl_->db.exec("RELEASE " + std::string(name)); });
}

void SqliteConnection::rollback_to(std::string_view name) {
    guarded(config_, [&] {
        impl_->db.exec("ROLLBACK TO " + std::string(name));
        impl_->db.exec("RELEASE " + std::string(name));
    });
}

std::int64_t SqliteConnection::total_changes() const noexcept { return sqlite3_total_changes(impl_->db.getHandle()); }

}  // namespace statenet::detail
