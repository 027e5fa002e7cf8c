// FileWatch: notices changes to a workflow file and the Lua modules next to it (hot reload).
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace statenet::detail {

class FileWatch {
public:
    /// Watches `file` and every `.lua` file in `dirs` (and their subdirectories, two
    /// levels deep: modules named `a.b` live in `a/b.lua`).
    void watch(const std::filesystem::path& file, const std::vector<std::string>& dirs);
    /// True when a watched file changed, appeared or disappeared since watch().
    bool changed() const;

private:
    struct Stamp {
        std::filesystem::file_time_type time;
        std::uintmax_t size;
        bool operator==(const Stamp&) const = default;
        auto operator<=>(const Stamp& o) const { return std::tie(time, size) <=> std::tie(o.time, o.size); }
    };
    // Size too: a coarse file system may give an edit the same modification time.
    using Snapshot = std::vector<std::pair<std::string, Stamp>>;
    std::filesystem::path file_;
    std::vector<std::string> dirs_;
    Snapshot seen_;

    Snapshot snapshot() const;
};

}  // namespace statenet::detail
