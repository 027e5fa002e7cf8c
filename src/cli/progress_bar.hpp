// The progress line `statenet run` keeps on a terminal's stderr while a stream runs.
#pragma once

#include <statenet/stream.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace statenet::cli {

bool terminal_is_dumb();

/// Redraws one stderr line: records, records/s, and percent and ETA when the input's
/// size is known. Rates count from the first update, so resumed records do not inflate them.
class ProgressBar {
public:
    void update(const StreamProgress& progress);
    /// Erases the line, so the summary takes its place.
    void clear();

private:
    /// What erases the line: an ANSI erase-to-end, or on a terminal without escape
    /// sequences (TERM=dumb: Emacs shells, some CI logs) spaces over the last line.
    std::string erase() const;

    std::optional<StreamProgress> first_;
    bool drawn_ = false;
    bool dumb_ = terminal_is_dumb();
    std::size_t width_ = 0;  // the last line's length
};

/// True when stderr is a terminal.
bool stderr_is_terminal();
/// True when TERM says the terminal knows no escape sequences (`dumb`).
bool terminal_is_dumb();

}  // namespace statenet::cli
