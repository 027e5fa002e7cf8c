// Incremental map readers: a sqlite/postgres reader with a `watermark` column reads only
// the rows above the watermark its sink's database keeps, up to the source's highest value
// when the run starts (so rows that arrive during the run wait for the next one).
#pragma once

#include "io/record_source.hpp"
#include "model/model.hpp"

#include <statenet/stream.hpp>

#include <memory>
#include <string>

namespace statenet::detail {

/// The rows a run reads: low < watermark <= high. low null: from the first row; high
/// null: there are no new rows.
struct WatermarkWindow {
    Value low;
    Value high;
};

/// low is the watermark stored beside `sink`'s table; high is the source's highest value
/// now, or, when `resume` continues an interrupted run, the bound that run had. Throws
/// std::invalid_argument when a database cannot be opened or queried.
WatermarkWindow watermark_window(const MapReader& reader, const Model& model, const Sink& sink, bool resume);

/// The reader's rows within the window. Throws std::invalid_argument as open_source does.
std::unique_ptr<RecordSource> open_watermark_reader(const MapReader& reader, const Model& model,
                                                    const WatermarkWindow& window);

/// The reader's identity with its window, for the checkpoint.
std::string watermark_identity(const std::string& reader_identity, const MapReader& reader,
                               const WatermarkWindow& window);

}  // namespace statenet::detail
