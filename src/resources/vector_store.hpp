// The `vector` resource: a persistent store of float32 vectors with JSON metadata and an
// exact nearest-neighbour search, and its Lua face.
#pragma once

#include "lua/convert.hpp"
#include "resources/meter.hpp"

#include <statenet/value.hpp>

#include <lua.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace statenet::detail {

enum class VectorMetric { cosine, dot, l2 };

struct VectorConfig {
    std::string name;  // the resource's name in the workflow
    std::string path;  // SQLite file (resolved)
    int dim = 0;
    VectorMetric metric = VectorMetric::cosine;
};

struct VectorHit {
    std::string id;
    float score = 0;  // cosine similarity, dot product, or L2 distance (smaller is better)
    Value meta;       // an object, or null when the vector was added without one
};

/// One store: every vector lives in SQLite (`statenet_vectors`: id, float32 blob, meta
/// JSON) and in one contiguous in-memory float32 matrix (rows normalised for cosine).
/// Thread-safe: searches share a lock, writes take it alone; a write is durable (its own
/// SQLite transaction) and seen by every later search. Not part of a record's
/// transaction: a failed record's adds stay.
class VectorStore {
public:
    /// The store for `config.path`, shared by every runner (and workflow) that opens the
    /// same file in this process. Throws ResourceFailure when the file cannot be opened
    /// or holds vectors of another dimension.
    static std::shared_ptr<VectorStore> open(const VectorConfig& config);

    explicit VectorStore(const VectorConfig& config);  // use open()
    ~VectorStore();
    VectorStore(const VectorStore&) = delete;
    VectorStore& operator=(const VectorStore&) = delete;

    /// Inserts or replaces `id`. `meta` is an object or null. Throws ResourceFailure
    /// (`DimensionMismatch`, `InvalidArgument`, `ResourceError`).
    void add(std::string_view id, std::span<const float> vector, const Value& meta);
    /// Removes `id`; false when it was not there.
    bool remove(std::string_view id);
    /// The `k` best rows, best first. `filter` (an object, or null for none): a row
    /// matches when its meta has every member of `filter` with an equal value.
    std::vector<VectorHit> search(std::span<const float> query, std::size_t k, const Value& filter) const;
    std::size_t count() const;

    const VectorConfig& config() const noexcept { return config_; }

private:
    struct Sql;
    VectorConfig config_;
    std::unique_ptr<Sql> sql_;
    mutable std::shared_mutex mutex_;
    // glibc's rwlock prefers readers: a search waits while a write waits, so a steady
    // stream of searches from many workers cannot starve an add.
    mutable std::atomic<int> writers_waiting_{0};
    std::vector<float> matrix_;  // count() rows of dim floats
    std::vector<std::string> ids_;
    std::vector<Value> metas_;
    std::unordered_map<std::string, std::size_t> rows_;  // id -> row

    std::unique_lock<std::shared_mutex> lock_for_write();
    std::shared_lock<std::shared_mutex> lock_for_read() const;
    void load();
    /// The vector as stored in memory (normalised for cosine); throws on a bad vector.
    std::vector<float> prepared(std::span<const float> vector, const char* what) const;
    void put_row(std::string id, const std::vector<float>& row, Value meta);
    void drop_row(std::size_t row);
};

/// Pushes the Lua table of `store` (methods add, remove, search, count; callable as
/// `vec:add(...)` or `vec.add(...)`). Errors raise `{ name =, message = }` located at
/// the calling Lua line; calls are counted in `meter` (may be null). `store` and `meter`
/// must outlive the table's use.
void push_vector_binding(lua_State* L, VectorStore* store, const ConvertRefs& refs, ResourceMeter* meter);

}  // namespace statenet::detail
