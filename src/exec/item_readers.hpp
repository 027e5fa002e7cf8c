// Item readers: where a map state's items come from (a record field, the built-in readers
// over src/io/ sources, a host's readers), and the item batcher, each as a RecordSource
// whose positions a map's checkpoint can resume from.
#pragma once

#include "exec/services.hpp"
#include "io/record_source.hpp"
#include "model/model.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace statenet::detail {

/// True for the reader types statenet has itself (jsonl, csv, json, file, sqlite, postgres, glob).
bool builtin_item_reader(std::string_view type) noexcept;

/// True when `type` is built in or registered on `engine` (Engine::add_item_reader).
bool known_item_reader(EngineImpl& engine, std::string_view type);

/// The map's reader, opened. Throws std::invalid_argument (cannot open) or
/// std::runtime_error (the host reader's own errors).
std::unique_ptr<RecordSource> open_item_reader(const MapReader& reader, const Model& model, EngineImpl& engine);

/// How a checkpoint names the reader's items, so a resume over other items is refused.
std::string item_reader_identity(const MapReader& reader, const Model& model);

/// A record field's items, in order; an item that is not an object becomes `{ value = item }`.
std::unique_ptr<RecordSource> make_item_list_source(Value::Array items);

/// Groups `items` into batches `{ items = [...] }` of at most `max_items` items and about
/// `max_bytes` bytes of JSON (an item larger than that is a batch alone); a malformed item
/// ends the batch before it and is a failed unit of its own.
std::unique_ptr<RecordSource> make_item_batcher(std::unique_ptr<RecordSource> items, std::int64_t max_items,
                                                std::int64_t max_bytes);

}  // namespace statenet::detail
