// FileWatch: notices when the files a workflow version is made of change on disk (hot reload).
#pragma once

#include "lua/source_snapshot.hpp"
#include "model/model.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace statenet::detail {

/// Watches what a version's SourceSnapshot recorded: the workflow file, every module it
/// loaded (however deep: `a.b.c.d` is `a/b/c/d.lua`), the places where the module search
/// found nothing (a file appearing there changes what `require` finds), and the `.lua`
/// files of its `scripts` directories (one added, changed or removed). Other new files
/// are not the version's code and are not noticed. Not thread-safe.
class FileWatch {
public:
    /// Watches `model`'s files, from the state they were in when the version read them.
    void watch(const Model& model);
    /// True when a watched file changed, appeared or disappeared since then (or since accept()).
    bool changed() const;
    /// The files as they are now become the state compared with: after a reload that
    /// failed, it is tried again only when something changes again.
    void accept();

private:
    // Path -> stamp; nullopt where no file is.
    using Stamps = std::map<std::string, std::optional<FileStamp>>;
    std::shared_ptr<SourceSnapshot> sources_;
    std::vector<std::string> scripts_dirs_;
    std::optional<Stamps> accepted_;

    Stamps as_read() const;
    Stamps on_disk(const Stamps& watched) const;
};

}  // namespace statenet::detail
