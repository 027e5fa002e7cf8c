// A map state's items through its sub-network: each item (or batch) run on a runner leased
// from the workflow's pool, several in flight when they wait on network resources, the
// outcomes written in item order to the map's sink with checkpoints, failures collected.
#pragma once

#include "exec/run_observer.hpp"
#include "exec/runner_pool.hpp"
#include "io/record_sink.hpp"
#include "io/record_source.hpp"

#include <statenet/stream.hpp>

#include <memory>
#include <optional>

namespace statenet::detail {

/// What a map's items came to.
struct MapTally {
    StreamStats stats;                ///< resumed items included
    Value failures = Value::array();  ///< { index, error, message } of the failed items this run saw
    std::optional<ErrorInfo> first;   ///< the first failure this run saw
    std::uint64_t first_index = 0;
    bool stopped = false;  ///< more items failed than tolerated: the rest were not run
};

/// Where a map's items go and how: its sub-network, the options its items run with, the
/// parent record's fields for map_in, and the observer that files their steps.
struct MapPlan {
    const Map& map;
    RunOptions run;                 ///< network = the map's network
    Value map_in;                   ///< child field -> value, set in each item (or batch)
    RunObserver* observer;          ///< the items' steps (as children of the map's step)
    unsigned slots = 1;             ///< items in flight at once
    const RunId* run_id = nullptr;  ///< the record's run, which the items are part of
    Value* results = nullptr;  ///< the result list (make_result_list_sink's), to hold a null per item without result
};

/// Runs every item of `items` (from after the sink's checkpoint when it resumed) and
/// writes them through `sink` (`output`: its errors file, resume and batch size; `identity`:
/// the items' name in its checkpoint). Stops early once more items failed than a count of
/// tolerated failures allows. Throws what the sink or the reader throw.
MapTally run_map_items(const std::shared_ptr<RunnerPool>& pool, const MapPlan& plan, RecordSource& items,
                       RecordSink& sink, const StreamOptions& output, const std::string& identity);

/// A sink that keeps each emitted item's result (map_out applied) in `results`, in
/// order; run_map_items adds null for the items that failed or emitted nothing.
std::unique_ptr<RecordSink> make_result_list_sink(Value& results, const FieldMap& map_out);

/// `sink` with map_out applied to every record it writes (`sink` itself when map_out is empty).
std::unique_ptr<RecordSink> project_sink(std::unique_ptr<RecordSink> sink, const FieldMap& map_out);

/// Writes each batch's `items` to `sink` as records of their own (`batch = { flatten = true }`).
std::unique_ptr<RecordSink> flatten_sink(std::unique_ptr<RecordSink> sink);

/// True when `tally` is over what `map` tolerates.
bool over_tolerance(const Map& map, std::uint64_t failed, std::uint64_t total) noexcept;

}  // namespace statenet::detail
