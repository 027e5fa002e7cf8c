// Item readers: the built-in ones open src/io/ sources; a record field's items, a glob's
// files and a host's reader yield values one by one; the batcher groups any of them.
#include "exec/item_readers.hpp"

#include <glob.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>
#include <vector>

namespace statenet::detail {

namespace {

constexpr std::array<std::string_view, 7> builtin_types = {"jsonl",  "csv",      "json", "file",
                                                           "sqlite", "postgres", "glob"};

/// An object stays as it is; anything else is wrapped so that it can be a record.
Value as_record(Value item) {
    if (item.is_object()) return item;
    return Value::object({{"value", std::move(item)}});
}

/// Items handed out as values; a position is the number of items taken.
class ValueSource : public RecordSource {
public:
    bool next(RawRecord& record) override {
        auto item = take();
        if (!item) return false;
        ++taken_;
        record.line = record.end_line = record.end = taken_;
        record.text.clear();
        record.error.reset();
        record.value = as_record(std::move(*item));
        return true;
    }
    void resume(std::uint64_t position, std::uint64_t) override {
        while (taken_ < position && take()) ++taken_;
    }
    std::uint64_t progress_position() const noexcept override { return taken_; }
    std::uint64_t progress_size() const noexcept override { return 0; }

protected:
    virtual std::optional<Value> take() = 0;

private:
    std::uint64_t taken_ = 0;
};

class ListSource final : public ValueSource {
public:
    explicit ListSource(Value::Array items) : items_(std::move(items)) {}

private:
    std::optional<Value> take() override {
        if (at_ == items_.size()) return std::nullopt;
        return std::move(items_[at_++]);
    }
    Value::Array items_;
    std::size_t at_ = 0;
};

/// The files a glob pattern matches, sorted, each as `{ path = "..." }`.
class GlobSource final : public ValueSource {
public:
    explicit GlobSource(const std::string& pattern) {
        glob_t found{};
        const int status = glob(pattern.c_str(), GLOB_ERR, nullptr, &found);
        if (status != 0 && status != GLOB_NOMATCH) {
            globfree(&found);
            throw std::invalid_argument("cannot list files matching '" + pattern + "'");
        }
        for (std::size_t i = 0; i < found.gl_pathc; ++i) paths_.emplace_back(found.gl_pathv[i]);
        globfree(&found);
        std::sort(paths_.begin(), paths_.end());
    }

private:
    std::optional<Value> take() override {
        if (at_ == paths_.size()) return std::nullopt;
        return Value::object({{"path", std::move(paths_[at_++])}});
    }
    std::vector<std::string> paths_;
    std::size_t at_ = 0;
};

class HostSource final : public ValueSource {
public:
    explicit HostSource(std::unique_ptr<ItemReader> reader) : reader_(std::move(reader)) {}

private:
    std::optional<Value> take() override { return reader_->next(); }
    std::unique_ptr<ItemReader> reader_;
};

class Batcher final : public RecordSource {
public:
    Batcher(std::unique_ptr<RecordSource> items, std::int64_t max_items, std::int64_t max_bytes)
        : items_(std::move(items)), max_items_(static_cast<std::size_t>(max_items)), max_bytes_(max_bytes) {}

    bool next(RawRecord& record) override {
        Value::Array batch;
        std::int64_t bytes = 0;
        RawRecord last;
        while (batch.size() < max_items_) {
            if (!pending_ && !fetch()) break;
            RawRecord& item = *pending_;
            Value value;
            if (!item.error && item.value) value = std::move(*item.value);
            else if (!item.error)
                if (auto failure = item.parser->parse(item.text, value)) item.error = std::move(failure->error);
            if (item.error) {
                if (!batch.empty()) break;  // the batch so far goes first
                return alone(record);
            }
            const auto size = static_cast<std::int64_t>(item.value ? value.to_json().size() : item.text.size());
            if (max_bytes_ > 0 && !batch.empty() && bytes + size > max_bytes_) {
                item.value = std::move(value);  // kept for the next batch
                break;
            }
            bytes += size;
            batch.push_back(std::move(value));
            last = std::move(item);
            pending_.reset();
        }
        if (batch.empty()) return false;
        ++batches_;
        record.text.clear();
        record.error.reset();
        record.value = Value::object({{"items", Value(std::move(batch))}});
        stamp(record, last);
        return true;
    }
    void resume(std::uint64_t position, std::uint64_t line) override { items_->resume(position, line); }
    std::uint64_t progress_position() const noexcept override { return items_->progress_position(); }
    std::uint64_t progress_size() const noexcept override { return items_->progress_size(); }

private:
    bool fetch() {
        pending_.emplace();
        if (items_->next(*pending_)) return true;
        pending_.reset();
        return false;
    }
    /// A malformed item: a failed unit of its own.
    bool alone(RawRecord& record) {
        record = std::move(*pending_);
        pending_.reset();
        ++batches_;
        stamp(record, record);
        return true;
    }
    /// A batch's line is its number; its end is the last item's, where a resume goes on.
    void stamp(RawRecord& record, const RawRecord& last) const {
        record.end = last.end;
        record.line = record.end_line = batches_;
    }

    std::unique_ptr<RecordSource> items_;
    std::size_t max_items_;
    std::int64_t max_bytes_;
    std::optional<RawRecord> pending_;
    std::uint64_t batches_ = 0;
};

Source builtin_source(const MapReader& reader, const Model& model) {
    if (reader.type == "sqlite" || reader.type == "postgres") {
        const ResourceDecl& r = model.resources[static_cast<std::size_t>(reader.resource)];
        return reader.type == "sqlite" ? sqlite_source(r.path, reader.query)
                                       : postgres_source(r.postgres.dsn, reader.query);
    }
    if (reader.type == "file") return reader.file;
    return file_source(reader.path, parse_record_format(reader.type));
}

}  // namespace

bool builtin_item_reader(std::string_view type) noexcept {
    return std::find(builtin_types.begin(), builtin_types.end(), type) != builtin_types.end();
}

bool known_item_reader(EngineImpl& engine, std::string_view type) {
    if (builtin_item_reader(type)) return true;
    std::lock_guard lock(engine.readers_mutex);
    return engine.item_readers.find(type) != engine.item_readers.end();
}

std::unique_ptr<RecordSource> open_item_reader(const MapReader& reader, const Model& model, EngineImpl& engine) {
    if (reader.type == "glob") return std::make_unique<GlobSource>(reader.path);
    if (builtin_item_reader(reader.type)) return open_source(builtin_source(reader, model));
    ItemReaderFactory factory;
    {
        std::lock_guard lock(engine.readers_mutex);
        const auto it = engine.item_readers.find(reader.type);
        if (it == engine.item_readers.end())
            throw std::invalid_argument("no item reader of type '" + reader.type + "' is registered");
        factory = it->second;
    }
    auto host = factory(reader.params);
    if (!host) throw std::invalid_argument("the item reader of type '" + reader.type + "' made no reader");
    return std::make_unique<HostSource>(std::move(host));
}

std::string item_reader_identity(const MapReader& reader, const Model& model) {
    if (reader.type == "glob") return "glob " + reader.path;
    if (builtin_item_reader(reader.type)) return source_identity(builtin_source(reader, model));
    return "reader " + reader.params.to_json();
}

std::unique_ptr<RecordSource> make_item_list_source(Value::Array items) {
    return std::make_unique<ListSource>(std::move(items));
}

std::unique_ptr<RecordSource> make_item_batcher(std::unique_ptr<RecordSource> items, std::int64_t max_items,
                                                std::int64_t max_bytes) {
    return std::make_unique<Batcher>(std::move(items), max_items, max_bytes);
}

}  // namespace statenet::detail
