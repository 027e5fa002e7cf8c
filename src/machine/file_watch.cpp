// FileWatch: compares the files a workflow version read, as they are on disk now, with how they were.
#include "machine/file_watch.hpp"

namespace statenet::detail {

namespace fs = std::filesystem;

void FileWatch::watch(const Model& model) {
    sources_ = model.sources;
    scripts_dirs_ = model.scripts_dirs();
    accepted_.reset();
    // A TOML workflow file is read by the loader, not by a VM, and the scripts
    // directories are listed when first asked: if not yet, the snapshot takes them now.
    sources_->text(model.file);
    sources_->scripts(scripts_dirs_);
}

bool FileWatch::changed() const {
    if (!sources_) return false;
    const Stamps watched = accepted_ ? *accepted_ : as_read();
    return on_disk(watched) != watched;
}

void FileWatch::accept() {
    if (sources_) accepted_ = on_disk(as_read());
}

FileWatch::Stamps FileWatch::as_read() const {
    Stamps stamps;
    for (const auto& file : sources_->files())
        if (!file.engine_module()) stamps.emplace(file.path, file.stamp);
    for (const auto& path : sources_->misses()) stamps.emplace(path, std::nullopt);
    for (const auto& file : sources_->scripts(scripts_dirs_)) stamps.emplace(file.path, file.stamp);
    return stamps;
}

FileWatch::Stamps FileWatch::on_disk(const Stamps& watched) const {
    Stamps stamps;
    for (const auto& [path, stamp] : watched) stamps.emplace(path, stamp_of(path));
    // A file new in a scripts directory.
    for (const auto& dir : scripts_dirs_) {
        std::error_code ec;
        for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_regular_file(ec) && it->path().extension() == ".lua")
                stamps.try_emplace(it->path().string(), stamp_of(it->path()));
    }
    return stamps;
}

}  // namespace statenet::detail
