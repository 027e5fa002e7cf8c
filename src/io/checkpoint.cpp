// A stream's checkpoint: how far the input was committed to the sink, and the counts so far.
#include "io/checkpoint.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <unistd.h>

namespace statenet::detail {

namespace {

std::uint64_t count_field(const Value& value, const char* key, const std::string& where) {
    const Value* field = value.find(key);
    if (!field || !field->is_int() || field->as_int() < 0)
        throw std::runtime_error(fmt::format("{}: not a statenet checkpoint (field '{}')", where, key));
    return static_cast<std::uint64_t>(field->as_int());
}

}  // namespace

Value Checkpoint::to_value() const {
    return Value::object({
        {"input", input},
        {"offset", offset},
        {"line", line},
        {"output_size", output_size},
        {"errors_size", errors_size},
        {"emitted", emitted},
        {"excluded", excluded},
        {"failed", failed},
        {"parked", parked},
        {"sink_state", sink_state},
        {"done", done},
    });
}

Checkpoint Checkpoint::from_value(const Value& value, const std::string& where) {
    if (!value.is_object() || !value["input"].is_string() || !value["done"].is_bool())
        throw std::runtime_error(fmt::format("{}: not a statenet checkpoint", where));
    Checkpoint checkpoint;
    checkpoint.input = value["input"].as_string();
    checkpoint.offset = count_field(value, "offset", where);
    checkpoint.line = count_field(value, "line", where);
    checkpoint.output_size = count_field(value, "output_size", where);
    checkpoint.errors_size = count_field(value, "errors_size", where);
    checkpoint.emitted = count_field(value, "emitted", where);
    checkpoint.excluded = count_field(value, "excluded", where);
    checkpoint.failed = count_field(value, "failed", where);
    // Checkpoints written before `wait` states existed have no parked count.
    if (!value["parked"].is_null()) checkpoint.parked = count_field(value, "parked", where);
    checkpoint.sink_state = value["sink_state"];
    checkpoint.done = value["done"].as_bool();
    return checkpoint;
}

std::optional<Checkpoint> read_checkpoint_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::nullopt;
    std::ostringstream text;
    text << file.rdbuf();
    try {
        return Checkpoint::from_value(Value::from_json(text.str()), path);
    } catch (const JsonError& e) {
        throw std::runtime_error(fmt::format("{}: not a statenet checkpoint ({})", path, e.what()));
    }
}

void write_checkpoint_file(const std::string& path, const Checkpoint& checkpoint) {
    const std::string temporary = path + ".tmp";
    const std::string text = checkpoint.to_value().to_json() + "\n";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        throw std::runtime_error(fmt::format("cannot write checkpoint '{}': {}", temporary, std::strerror(errno)));
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int saved = errno;
    ::close(fd);
    if (!written)
        throw std::runtime_error(fmt::format("cannot write checkpoint '{}': {}", temporary, std::strerror(saved)));
    // rename(2) replaces the old checkpoint in one step: a crash leaves the old or the new one.
    if (std::rename(temporary.c_str(), path.c_str()) != 0)
        throw std::runtime_error(fmt::format("cannot replace checkpoint '{}': {}", path, std::strerror(errno)));
}

}  // namespace statenet::detail
