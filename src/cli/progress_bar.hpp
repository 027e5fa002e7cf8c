// The progress line `statenet run` keeps on a terminal's stderr while a stream runs.
#pragma once

#include <statenet/stream.hpp>

#include <cstdint>
#include <optional>

namespace statenet::cli {

/// Redraws one stderr line: records, records/s, and percent and ETA when the input's
/// size is known. Rates count from the first update, so resumed records do not inflate them.
class ProgressBar {
public:
    void update(const StreamProgress& progress);
    /// Erases the line, so the summary takes its place.
    void clear();

private:
    std::optional<StreamProgress> first_;
    bool drawn_ = false;
};

/// True when stderr is a terminal.
bool stderr_is_terminal();

}  // namespace statenet::cli
