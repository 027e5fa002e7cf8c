// The progress line `statenet run` keeps on a terminal's stderr while a stream runs.
#include "cli/progress_bar.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string_view>

#include <cstdio>

#include <unistd.h>

namespace statenet::cli {

namespace {

std::string clock_time(double seconds) {
    const auto total = static_cast<long long>(seconds + 0.5);
    if (total >= 3600) return fmt::format("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
    return fmt::format("{}:{:02}", total / 60, total % 60);
}

}  // namespace

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

bool terminal_is_dumb() {
    const char* term = std::getenv("TERM");
    return term != nullptr && std::string_view(term) == "dumb";
}

std::string ProgressBar::erase() const { return dumb_ ? "\r" + std::string(width_, ' ') + "\r" : "\r\033[K"; }

void ProgressBar::update(const StreamProgress& progress) {
    if (!first_) first_ = progress;
    const double seconds = (progress.elapsed - first_->elapsed).count();
    const double rate = seconds > 0 ? static_cast<double>(progress.records - first_->records) / seconds : 0.0;
    std::string line = fmt::format("statenet: {} records, {:.0f} records/s", progress.records, rate);
    if (progress.input_size > 0 && progress.input_bytes <= progress.input_size) {
        const double done = static_cast<double>(progress.input_bytes) / static_cast<double>(progress.input_size);
        line += fmt::format(", {:.1f}%", 100.0 * done);
        const double read = static_cast<double>(progress.input_bytes - first_->input_bytes);
        if (read > 0 && seconds > 0) {
            const double left = static_cast<double>(progress.input_size - progress.input_bytes) * seconds / read;
            line += ", ETA " + clock_time(left);
        }
    }
    const std::string out = erase() + line;
    std::fwrite(out.data(), 1, out.size(), stderr);
    std::fflush(stderr);
    width_ = line.size();
    drawn_ = true;
}

void ProgressBar::clear() {
    if (!drawn_) return;
    std::fputs(erase().c_str(), stderr);
    std::fflush(stderr);
    drawn_ = false;
}

}  // namespace statenet::cli
