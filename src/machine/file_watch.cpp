// FileWatch: compares modification times of a workflow's files with a snapshot.
#include "machine/file_watch.hpp"

#include <algorithm>

namespace statenet::detail {

namespace {

namespace fs = std::filesystem;

template <class Snapshot>
void add(Snapshot& out, const fs::path& path) {
    std::error_code ec, size_ec;
    auto time = fs::last_write_time(path, ec);
    auto size = fs::file_size(path, size_ec);
    if (!ec && !size_ec) out.push_back({path.string(), {time, size}});
}

template <class Snapshot>
void scan(Snapshot& out, const fs::path& dir, int depth) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& path = it->path();
        if (it->is_directory(ec)) {
            if (depth > 0) scan(out, path, depth - 1);
        } else if (path.extension() == ".lua") {
            add(out, path);
        }
    }
}

}  // namespace

void FileWatch::watch(const fs::path& file, const std::vector<std::string>& dirs) {
    file_ = file;
    dirs_ = dirs;
    seen_ = snapshot();
}

bool FileWatch::changed() const { return snapshot() != seen_; }

FileWatch::Snapshot FileWatch::snapshot() const {
    Snapshot out;
    add(out, file_);
    for (const auto& dir : dirs_) scan(out, dir, 2);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace statenet::detail
