// FilesResource: rooted paths, the staged view of a record's file work, and its commit.
#include "resources/files_resource.hpp"

#include "resources/binding.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace statenet::detail {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_errno(const std::string& what) {
    throw ResourceFailure("ResourceError", fmt::format("{}: {}", what, std::strerror(errno)));
}

void write_all(int fd, const std::string& text, const std::string& what) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno(what);
        }
        done += static_cast<std::size_t>(n);
    }
}

std::string temp_suffix() {
    static std::atomic<unsigned long> counter{0};
    return fmt::format("{}-{}", ::getpid(), counter++);
}

}  // namespace

bool glob_match(std::string_view glob, std::string_view path) noexcept {
    if (glob.empty()) return path.empty();
    if (glob.starts_with("**")) {
        std::string_view rest = glob.substr(2);
        if (rest.starts_with('/') && glob_match(rest.substr(1), path)) return true;  // "**/" as no directory
        for (std::size_t i = 0; i <= path.size(); ++i)
            if (glob_match(rest, path.substr(i))) return true;
        return false;
    }
    if (glob[0] == '*') {
        for (std::size_t i = 0; i <= path.size(); ++i) {
            if (glob_match(glob.substr(1), path.substr(i))) return true;
            if (i < path.size() && path[i] == '/') break;
        }
        return false;
    }
    if (path.empty()) return false;
    if (glob[0] == '?') return path[0] != '/' && glob_match(glob.substr(1), path.substr(1));
    return glob[0] == path[0] && glob_match(glob.substr(1), path.substr(1));
}

FilesResource::FilesResource(FilesConfig config) : config_(std::move(config)) {
    std::error_code ec;
    if (!fs::is_directory(config_.root, ec)) {
        if (!config_.create)
            throw ResourceFailure("ResourceError", fmt::format("{}: the root directory '{}' does not exist "
                                                               "(set create = true to create it)",
                                                               config_.name, config_.root));
        fs::create_directories(config_.root, ec);
        if (ec)
            throw ResourceFailure("ResourceError", fmt::format("{}: cannot create the root directory '{}': {}",
                                                               config_.name, config_.root, ec.message()));
    }
    root_ = fs::canonical(config_.root, ec);
    if (ec)
        throw ResourceFailure("ResourceError", fmt::format("{}: cannot open the root '{}': {}", config_.name,
                                                           config_.root, ec.message()));
}

// Relative, '/'-separated, without '.', '..' or empty components.
std::string FilesResource::checked(std::string_view path) const {
    auto refuse = [&](std::string_view why) {
        throw ResourceFailure("PathEscape", fmt::format("{}: path '{}' {}", config_.name, path, why));
    };
    if (path.find('\0') != std::string_view::npos) refuse("contains a NUL byte");
    if (path.starts_with('/')) refuse("is absolute (paths are relative to the root)");
    std::string out;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view part = path.substr(start, end - start);
        if (part == "..") refuse("climbs out with '..'");
        if (!part.empty() && part != ".") {
            if (part.starts_with(temp_prefix)) refuse("names a temp file of the files resource");
            if (!out.empty()) out += '/';
            out += part;
        }
        start = end + 1;
    }
    if (out.empty())
        throw ResourceFailure("InvalidArgument", fmt::format("{}: path '{}' names no file", config_.name, path));
    return out;
}

// Symbolic links are followed as far as the disk goes; the result must stay under the root.
fs::path FilesResource::resolved(const std::string& relative) const {
    std::error_code ec;
    fs::path full = fs::weakly_canonical(root_ / relative, ec);
    if (ec)
        throw ResourceFailure("ResourceError",
                              fmt::format("{}: cannot resolve '{}': {}", config_.name, relative, ec.message()));
    const std::string& root = root_.native();
    const std::string& text = full.native();
    if (text.size() <= root.size() || text.compare(0, root.size(), root) != 0 || text[root.size()] != '/')
        throw ResourceFailure("PathEscape", fmt::format("{}: path '{}' leads outside the root through a symbolic link",
                                                        config_.name, relative));
    return full;
}

FilesResource::Staged FilesResource::lookup(const std::string& relative) const {
    if (auto found = view_.find(relative); found != view_.end()) return found->second;
    std::error_code ec;
    const bool on_disk = fs::is_regular_file(resolved(relative), ec);
    return Staged{on_disk, on_disk ? std::optional<std::string>(relative) : std::nullopt, {}};
}

std::string FilesResource::read(std::string_view path) const {
    const std::string relative = checked(path);
    const Staged file = lookup(relative);
    if (!file.exists) throw ResourceFailure("FileNotFound", fmt::format("{}: no file '{}'", config_.name, relative));
    std::string text;
    if (file.disk) {
        std::ifstream in(resolved(*file.disk), std::ios::binary);
        if (!in) throw ResourceFailure("ResourceError", fmt::format("{}: cannot read '{}'", config_.name, relative));
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return text + file.text;
}

bool FilesResource::exists(std::string_view path) const { return lookup(checked(path)).exists; }

std::vector<std::string> FilesResource::list(std::string_view glob) const {
    std::set<std::string> found;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        std::error_code entry_ec;  // an unreadable entry is skipped, not the end of the walk
        if (!it->is_regular_file(entry_ec) || it->is_symlink(entry_ec)) continue;
        std::string relative = it->path().lexically_relative(root_).generic_string();
        if (relative.find(temp_prefix) != std::string::npos) continue;
        found.insert(std::move(relative));
    }
    for (const auto& [relative, file] : view_) {
        if (file.exists) found.insert(relative);
        else found.erase(relative);
    }
    std::vector<std::string> matches;
    for (const auto& relative : found)
        if (glob_match(glob, relative)) matches.push_back(relative);
    return matches;
}

void FilesResource::stage(const Op& op) {
    const std::string& target = op.kind == Op::Kind::move ? op.to : op.path;
    std::error_code ec;
    if (op.kind != Op::Kind::remove && !view_.contains(target) && fs::is_directory(resolved(target), ec))
        throw ResourceFailure("InvalidArgument", fmt::format("{}: '{}' is a directory", config_.name, target));
    switch (op.kind) {
    case Op::Kind::write: view_[op.path] = Staged{true, std::nullopt, op.text}; break;
    case Op::Kind::append: {
        Staged file = lookup(op.path);
        if (!file.exists) file = Staged{true, std::nullopt, {}};
        file.text += op.text;
        view_[op.path] = std::move(file);
        break;
    }
    case Op::Kind::move: {
        Staged file = lookup(op.path);
        if (!file.exists) throw ResourceFailure("FileNotFound", fmt::format("{}: no file '{}'", config_.name, op.path));
        view_[op.path] = Staged{};
        view_[op.to] = std::move(file);
        break;
    }
    case Op::Kind::remove:
        if (!lookup(op.path).exists)
            throw ResourceFailure("FileNotFound", fmt::format("{}: no file '{}'", config_.name, op.path));
        view_[op.path] = Staged{};
        break;
    }
}

void FilesResource::write(std::string_view path, std::string text) {
    Op op{Op::Kind::write, checked(path), {}, std::move(text)};
    resolved(op.path);
    stage(op);
    log_.push_back(std::move(op));
}

void FilesResource::append(std::string_view path, std::string text) {
    Op op{Op::Kind::append, checked(path), {}, std::move(text)};
    resolved(op.path);
    stage(op);
    log_.push_back(std::move(op));
}

void FilesResource::move(std::string_view from, std::string_view to) {
    Op op{Op::Kind::move, checked(from), checked(to), {}};
    resolved(op.to);
    if (op.path == op.to) {
        if (!lookup(op.path).exists)
            throw ResourceFailure("FileNotFound", fmt::format("{}: no file '{}'", config_.name, op.path));
        return;
    }
    stage(op);
    log_.push_back(std::move(op));
}

void FilesResource::remove(std::string_view path) {
    Op op{Op::Kind::remove, checked(path), {}, {}};
    stage(op);
    log_.push_back(std::move(op));
}

void FilesResource::rollback_to(std::size_t mark) noexcept {
    if (mark >= log_.size()) return;
    log_.resize(mark);
    view_.clear();
    for (const auto& op : log_) {
        try {
            stage(op);
        } catch (const std::exception&) {
            // The disk changed under the stage (another runner); commit reports it.
        }
    }
}

void FilesResource::discard() noexcept {
    log_.clear();
    view_.clear();
}

void FilesResource::commit() {
    std::vector<Op> ops = std::move(log_);
    discard();
    for (const auto& op : ops) apply(op);
}

// A temp file in the target's directory renamed over it: readers see the old or the new
// content, never a part.
void FilesResource::replace_file(const fs::path& target, const std::string& text) {
    const fs::path temp =
        target.parent_path() / fmt::format("{}{}-{}", temp_prefix, target.filename().string(), temp_suffix());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) fail_errno(fmt::format("{}: cannot write '{}'", config_.name, target.string()));
    try {
        write_all(fd, text, fmt::format("{}: cannot write '{}'", config_.name, target.string()));
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    if (::close(fd) != 0 || ::rename(temp.c_str(), target.c_str()) != 0) {
        const int saved = errno;
        ::unlink(temp.c_str());
        errno = saved;
        fail_errno(fmt::format("{}: cannot write '{}'", config_.name, target.string()));
    }
}

void FilesResource::apply(const Op& op) {
    const fs::path target = resolved(op.kind == Op::Kind::move ? op.to : op.path);
    if (op.kind != Op::Kind::remove) {
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec)
            throw ResourceFailure("ResourceError", fmt::format("{}: cannot create the directory of '{}': {}",
                                                               config_.name, target.string(), ec.message()));
    }
    switch (op.kind) {
    case Op::Kind::write: replace_file(target, op.text); break;
    case Op::Kind::append: {
        const int fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) fail_errno(fmt::format("{}: cannot append to '{}'", config_.name, op.path));
        try {
            write_all(fd, op.text, fmt::format("{}: cannot append to '{}'", config_.name, op.path));
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
        break;
    }
    case Op::Kind::move:
        if (::rename(resolved(op.path).c_str(), target.c_str()) != 0)
            fail_errno(fmt::format("{}: cannot move '{}' to '{}'", config_.name, op.path, op.to));
        break;
    case Op::Kind::remove:
        if (::unlink(target.c_str()) != 0) fail_errno(fmt::format("{}: cannot remove '{}'", config_.name, op.path));
        break;
    }
}

}  // namespace statenet::detail
