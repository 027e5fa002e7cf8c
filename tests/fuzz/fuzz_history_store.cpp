// libFuzzer harness: a file opened as a history database, for queries and for a writer
// (which checks and creates the schema). A corrupt or foreign database must be refused
// with HistoryError, never crash.
#include "fuzz_support.hpp"

#include "history/schema.hpp"

#include <statenet/history.hpp>

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = statenet_fuzz::scratch_dir() / "history.db";
    statenet_fuzz::remove_database(path);
    statenet_fuzz::write_input("history.db", data, size);
    try {
        statenet::History history(path);
        statenet::HistoryFilter filter;
        filter.limit = 20;
        for (const auto& run : history.runs(filter)) (void)history.steps(run);
        (void)history.stats();
    } catch (const statenet::HistoryError&) {}
    try {
        (void)statenet::detail::open_history_db(path.string(), true);
    } catch (const statenet::HistoryError&) {}
    return 0;
}
