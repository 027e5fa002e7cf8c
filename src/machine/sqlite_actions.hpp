// The durable store's actions table: what SqliteStore delegates for actions started by
// transitions (ctx.start_action), their deadlines and how they ended.
#pragma once

#include "machine/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace statenet::detail {

/// Creates the actions table and its indexes unless the store has them. Run under the
/// store's write lock.
void create_actions_schema(SQLite::Database& db);

class SqliteActions {
public:
    explicit SqliteActions(SQLite::Database& db);

    std::optional<std::int64_t> start(const OpenAction& action, double now_ms);
    bool close(std::int64_t seq, std::string_view outcome);
    std::vector<OpenAction> open(double due_at);
    void renew(std::int64_t seq, double deadline_ms);
    std::optional<double> next_deadline();
    /// Deletes closed actions.
    void prune();

private:
    SQLite::Database& db_;
    std::unique_ptr<SQLite::Statement> start_, close_;
};

}  // namespace statenet::detail
