// Parking: a record that waits for a signal leaves the runner as a ParkedRecord, kept by
// the park store the assembly gives the runner, and comes back from it to be resumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace statenet::detail {

/// What a parked record needs to go on in another process: its data, where it waits
/// and how it got there. (The workflow's identity is the store's to add.)
struct ParkedRecord {
    std::string run_id;
    std::string state;                        ///< `network/state` it waits in
    std::string signal;                       ///< the signal it waits for
    std::optional<std::int64_t> deadline_us;  ///< Unix µs after which it times out
    std::string data;                         ///< the record, as JSON text
    std::vector<std::string> path;            ///< every state entered so far, the waiting one last
    std::int64_t transitions = 0;
    std::optional<std::int64_t> position;  ///< where it came from in its input
};

/// Where a runner parks records (src/history/park_store.hpp keeps them in SQLite).
/// Called from worker threads; implementations serialise their writes.
class ParkStore {
public:
    virtual ~ParkStore() = default;
    /// Stores the record durably (committed when it returns); throws on failure.
    virtual void park(const ParkedRecord& record) = 0;
};

/// Why a workflow with `wait` states cannot park a record.
inline constexpr const char* no_park_database =
    "a 'wait' state parks records in a database: turn history on ([history] level, or --history DB) or name one "
    "with --park DB (LoadOptions::park_db)";

/// Unix time in microseconds (deadlines must mean the same in every process).
std::int64_t unix_now_us() noexcept;

}  // namespace statenet::detail
