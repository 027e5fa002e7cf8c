// The durable store's outbox table and retention: what SqliteStore delegates for
// emitted messages, sends to instances, acknowledgements and pruning.
#pragma once

#include "machine/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>
#include <vector>

namespace statenet::detail {

/// The outbox's table and the columns later versions added (keys' time, instances'
/// previous state and push stack), created or added to a store made by an earlier version. Run under
/// the store's write lock.
void create_outbox_schema(SQLite::Database& db);

class SqliteOutbox {
public:
    explicit SqliteOutbox(SQLite::Database& db);

    std::int64_t append(const OutboxEntry& entry);
    std::vector<OutboxMessage> messages(const OutboxOptions& options);
    std::size_t ack(const std::vector<std::int64_t>& seqs);
    std::vector<PendingSend> pending_sends(std::size_t limit);
    void mark_sent(std::int64_t seq, std::string_view error);
    /// Deletes what retention no longer keeps and acknowledged or delivered entries.
    PruneReport prune(const Retention& retention, double now_ms, std::vector<std::pair<std::string, int>>& removed);

private:
    SQLite::Database& db_;
    std::unique_ptr<SQLite::Statement> append_;
};

}  // namespace statenet::detail
