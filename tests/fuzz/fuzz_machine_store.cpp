// libFuzzer harness: a file opened as a machine store (SQLite), its instances, timers,
// idle list, audit, outbox and census read back. A corrupt or foreign database must be refused with an
// exception, never crash.
#include "fuzz_support.hpp"

#include "machine/store.hpp"

#include <cstdint>
#include <exception>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto path = statenet_fuzz::scratch_dir() / "machines.db";
    statenet_fuzz::remove_database(path);
    statenet_fuzz::write_input("machines.db", data, size);
    try {
        auto store = statenet::detail::open_sqlite_store(path, false, false);
        std::string first;
        store->each([&](const std::string& id, const statenet::detail::InstanceRow&, const std::string&) {
            if (first.empty()) first = id;
        });
        (void)store->due(1e18);
        (void)store->idle(1e18);
        (void)store->audit(first, 20);
        statenet::detail::InstanceRow row;
        (void)store->find(first, row, nullptr);
        (void)store->data_json(first);
        (void)store->outbox({});
        (void)store->pending_sends(10);
        (void)store->next_due();
        (void)store->census(1e18, [](const statenet::detail::InstanceRow&) { return std::string(); });
    } catch (const std::exception&) {}
    return 0;
}
