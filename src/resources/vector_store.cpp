// VectorStore: SQLite-backed vectors, the in-memory matrix, exact top-k search.
#include "resources/vector_store.hpp"

#include "resources/binding.hpp"
#include "resources/vector_scan.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace statenet::detail {

struct VectorStore::Sql {
    SQLite::Database db;
    SQLite::Statement upsert;
    SQLite::Statement erase;

    explicit Sql(const std::string& path)
        : db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE),
          upsert(prepare_schema(db),
                 "INSERT INTO statenet_vectors (id, vector, meta) VALUES (?, ?, ?) "
                 "ON CONFLICT(id) DO UPDATE SET vector = excluded.vector, meta = excluded.meta"),
          erase(db, "DELETE FROM statenet_vectors WHERE id = ?") {}

    static SQLite::Database& prepare_schema(SQLite::Database& db) {
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        db.exec("PRAGMA busy_timeout = 5000");
        db.exec("CREATE TABLE IF NOT EXISTS statenet_vector_config (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
        db.exec("CREATE TABLE IF NOT EXISTS statenet_vectors (id TEXT PRIMARY KEY, vector BLOB NOT NULL, meta TEXT)");
        return db;
    }
};

namespace {

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<VectorStore>> registry;  // canonical path -> open store

std::string registry_key(const std::string& path) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(path, ec);
    return ec ? path : canonical.string();
}

bool meta_matches(const Value& meta, const Value& filter) {
    for (const auto& [key, wanted] : filter.as_object()) {
        const Value* have = meta.find(key);
        if (!have || !(*have == wanted)) return false;
    }
    return true;
}

// Search order: larger goodness first, ties by row. As a heap comparator the kept
// entry that is worst sits at the front.
using Entry = std::pair<float, std::uint32_t>;
bool better(const Entry& a, const Entry& b) noexcept {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
}

}  // namespace

std::shared_ptr<VectorStore> VectorStore::open(const VectorConfig& config) {
    const std::string key = registry_key(config.path);
    std::lock_guard lock(registry_mutex);
    if (auto existing = registry[key].lock()) {
        if (existing->config_.dim != config.dim)
            throw ResourceFailure("DimensionMismatch",
                                  fmt::format("{}: the store '{}' is open with dim {}, not {}", config.name,
                                              config.path, existing->config_.dim, config.dim));
        if (existing->config_.metric != config.metric)
            throw ResourceFailure("ResourceError", fmt::format("{}: the store '{}' is open with another metric",
                                                               config.name, config.path));
        return existing;
    }
    auto store = std::make_shared<VectorStore>(config);
    registry[key] = store;
    return store;
}

VectorStore::VectorStore(const VectorConfig& config) : config_(config) {
    try {
        sql_ = std::make_unique<Sql>(config.path);
    } catch (const std::exception& e) {
        throw ResourceFailure("ResourceError", fmt::format("{}: cannot open the vector store '{}': {}", config.name,
                                                           config.path, e.what()));
    }
    load();
}

VectorStore::~VectorStore() = default;

void VectorStore::load() {
    SQLite::Statement dim(sql_->db, "SELECT value FROM statenet_vector_config WHERE key = 'dim'");
    if (dim.executeStep()) {
        const int stored = std::stoi(dim.getColumn(0).getString());
        if (stored != config_.dim)
            throw ResourceFailure(
                "DimensionMismatch",
                fmt::format("{}: the store '{}' holds vectors of dim {}, the workflow declares dim {}", config_.name,
                            config_.path, stored, config_.dim));
    } else {
        SQLite::Statement put(sql_->db, "INSERT INTO statenet_vector_config (key, value) VALUES ('dim', ?)");
        put.bind(1, std::to_string(config_.dim));
        put.exec();
    }
    SQLite::Statement rows(sql_->db, "SELECT id, vector, meta FROM statenet_vectors ORDER BY rowid");
    const std::size_t bytes = static_cast<std::size_t>(config_.dim) * sizeof(float);
    std::vector<float> raw(static_cast<std::size_t>(config_.dim));
    while (rows.executeStep()) {
        std::string id = rows.getColumn(0).getString();
        const auto blob = rows.getColumn(1);
        if (static_cast<std::size_t>(blob.getBytes()) != bytes)
            throw ResourceFailure("DimensionMismatch",
                                  fmt::format("{}: vector '{}' in '{}' has {} bytes, not {}", config_.name, id,
                                              config_.path, blob.getBytes(), bytes));
        std::memcpy(raw.data(), blob.getBlob(), bytes);
        Value meta = rows.getColumn(2).isNull() ? Value() : Value::from_json(rows.getColumn(2).getString());
        put_row(std::move(id), prepared(raw, "stored vector"), std::move(meta));
    }
}

std::vector<float> VectorStore::prepared(std::span<const float> vector, const char* what) const {
    if (vector.size() != static_cast<std::size_t>(config_.dim))
        throw ResourceFailure("DimensionMismatch", fmt::format("{}: the {} has {} numbers, the store has dim {}",
                                                               config_.name, what, vector.size(), config_.dim));
    std::vector<float> row(vector.begin(), vector.end());
    double norm = 0;
    for (float x : row) {
        if (!std::isfinite(x))
            throw ResourceFailure("InvalidArgument",
                                  fmt::format("{}: the {} holds a NaN or infinite number", config_.name, what));
        norm += double(x) * double(x);
    }
    if (config_.metric == VectorMetric::cosine) {
        if (norm == 0)
            throw ResourceFailure(
                "InvalidArgument",
                fmt::format("{}: the {} is all zeros (no direction for metric cosine)", config_.name, what));
        const float scale = static_cast<float>(1.0 / std::sqrt(norm));
        for (float& x : row) x *= scale;
    }
    return row;
}

void VectorStore::put_row(std::string id, const std::vector<float>& row, Value meta) {
    if (auto found = rows_.find(id); found != rows_.end()) {
        std::copy(row.begin(), row.end(), matrix_.begin() + static_cast<std::ptrdiff_t>(found->second * row.size()));
        metas_[found->second] = std::move(meta);
        return;
    }
    rows_.emplace(id, ids_.size());
    ids_.push_back(std::move(id));
    metas_.push_back(std::move(meta));
    matrix_.insert(matrix_.end(), row.begin(), row.end());
}

// The last row moves into the hole, so the matrix stays contiguous.
void VectorStore::drop_row(std::size_t row) {
    const std::size_t last = ids_.size() - 1;
    const auto dim = static_cast<std::size_t>(config_.dim);
    rows_.erase(ids_[row]);
    if (row != last) {
        std::copy_n(matrix_.begin() + static_cast<std::ptrdiff_t>(last * dim), dim,
                    matrix_.begin() + static_cast<std::ptrdiff_t>(row * dim));
        ids_[row] = std::move(ids_[last]);
        metas_[row] = std::move(metas_[last]);
        rows_[ids_[row]] = row;
    }
    ids_.pop_back();
    metas_.pop_back();
    matrix_.resize(last * dim);
}

std::unique_lock<std::shared_mutex> VectorStore::lock_for_write() {
    ++writers_waiting_;
    std::unique_lock lock(mutex_);
    --writers_waiting_;
    return lock;
}

std::shared_lock<std::shared_mutex> VectorStore::lock_for_read() const {
    while (writers_waiting_.load(std::memory_order_acquire) > 0) std::this_thread::yield();
    return std::shared_lock(mutex_);
}

void VectorStore::add(std::string_view id, std::span<const float> vector, const Value& meta) {
    if (id.empty()) throw ResourceFailure("InvalidArgument", config_.name + ": the id is empty");
    if (!meta.is_null() && !meta.is_object())
        throw ResourceFailure("InvalidArgument", fmt::format("{}: meta must be a table of fields, not {}", config_.name,
                                                             type_name(meta.type())));
    std::vector<float> row = prepared(vector, "vector");
    auto lock = lock_for_write();
    try {
        auto& upsert = sql_->upsert;
        upsert.reset();
        upsert.bind(1, std::string(id));
        upsert.bind(2, vector.data(), static_cast<int>(vector.size_bytes()));
        if (meta.is_null()) upsert.bind(3);
        else upsert.bind(3, meta.to_json());
        upsert.exec();
    } catch (const SQLite::Exception& e) {
        throw ResourceFailure("ResourceError",
                              fmt::format("{}: cannot store vector '{}': {}", config_.name, id, e.what()));
    }
    put_row(std::string(id), row, meta);
}

bool VectorStore::remove(std::string_view id) {
    auto lock = lock_for_write();
    auto found = rows_.find(std::string(id));
    if (found == rows_.end()) return false;
    try {
        auto& erase = sql_->erase;
        erase.reset();
        erase.bind(1, std::string(id));
        erase.exec();
    } catch (const SQLite::Exception& e) {
        throw ResourceFailure("ResourceError",
                              fmt::format("{}: cannot remove vector '{}': {}", config_.name, id, e.what()));
    }
    drop_row(found->second);
    return true;
}

std::size_t VectorStore::count() const {
    auto lock = lock_for_read();
    return ids_.size();
}

std::vector<VectorHit> VectorStore::search(std::span<const float> query, std::size_t k, const Value& filter) const {
    const std::vector<float> q = prepared(query, "query vector");
    const bool filtered = filter.is_object() && filter.size() > 0;
    const bool similarity = config_.metric != VectorMetric::l2;
    const auto dim = static_cast<std::size_t>(config_.dim);
    auto* scan = similarity ? dot_rows : l2_rows;

    auto lock = lock_for_read();
    const std::size_t n = ids_.size();
    k = std::min(k, n);
    std::vector<Entry> kept;
    kept.reserve(k + 1);
    auto offer = [&](float score, std::size_t row) {
        const Entry entry{similarity ? score : -score, static_cast<std::uint32_t>(row)};
        if (kept.size() < k) {
            kept.push_back(entry);
            std::push_heap(kept.begin(), kept.end(), better);
        } else if (better(entry, kept.front())) {
            std::pop_heap(kept.begin(), kept.end(), better);
            kept.back() = entry;
            std::push_heap(kept.begin(), kept.end(), better);
        }
    };
    constexpr std::size_t block = 256;
    float scores[block];
    for (std::size_t start = 0; k > 0 && start < n; start += block) {
        const std::size_t count = std::min(block, n - start);
        const float* rows = matrix_.data() + start * dim;
        if (!filtered) {
            scan(rows, count, dim, q.data(), scores);
            for (std::size_t r = 0; r < count; ++r) offer(scores[r], start + r);
            continue;
        }
        for (std::size_t r = 0; r < count; ++r) {
            if (!meta_matches(metas_[start + r], filter)) continue;
            scan(rows + r * dim, 1, dim, q.data(), scores);
            offer(scores[0], start + r);
        }
    }
    std::sort_heap(kept.begin(), kept.end(), better);
    std::vector<VectorHit> hits;
    hits.reserve(kept.size());
    for (const auto& [goodness, row] : kept)
        hits.push_back({ids_[row], similarity ? goodness : std::sqrt(std::max(0.0f, -goodness)), metas_[row]});
    return hits;
}

}  // namespace statenet::detail
