// JsonOutput: the JSON fast path of one runner — the record kept as its input text while
// it runs (Lua decodes fields on first read) and its output line written from that text
// plus what the run changed.
#pragma once

#include "exec/program.hpp"
#include "lua/json_record.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace statenet::detail {

/// Not thread-safe; lives as long as the program it is installed in.
class JsonOutput {
public:
    /// Hands the runtime the record's field source (an FFI function for scalars, C
    /// functions for tables and the whole record).
    void install(Program& program);

    /// The record of the current run.
    JsonRecord& record() noexcept { return json_; }

    /// Appends the run's output line for the record in `slot`: the input's fields in
    /// their order, each copied from the input text unless the run changed it, then the
    /// fields the run added, by name.
    void write(int slot, std::string& out);
    /// Appends the record as it came in: its input fields, as write() copies them.
    void write_input(std::string& out) const;

private:
    JsonRecord json_;
    Program* program_ = nullptr;
    // write()'s buffers, kept between records: what became of each input field, the
    // changed ones' JSON, and the added fields' names and JSON.
    enum class FieldChange : char { kept, changed, removed };
    std::vector<FieldChange> field_change_;
    std::vector<std::string> field_text_;
    std::vector<std::pair<std::string_view, std::string>> added_;

    static int lua_json_table(lua_State* L);
    static int lua_json_all(lua_State* L);
};

}  // namespace statenet::detail
