// Result::to_value and to_json: the JSON shape of a record result (what `statenet run --data` prints).
#include <statenet/result.hpp>

namespace statenet {

namespace {

Value path_value(const std::vector<std::string>& path) {
    Value::Array items(path.begin(), path.end());
    return Value(std::move(items));
}

/// The members after `data`, in to_value's order.
Value tail_members(const Result& r) {
    Value v = Value::object();
    v.set("path", path_value(r.path));
    if (r.error)
        v.set("error",
              Value::object({{"name", r.error->name}, {"message", r.error->message}, {"state", r.error->state}}));
    if (!r.branches.empty()) {
        Value list = Value::array();
        for (const auto& b : r.branches)
            list.push_back(
                Value::object({{"final_state", b.final_state}, {"data", b.data}, {"path", path_value(b.path)}}));
        v.set("branches", std::move(list));
    }
    v.set("run_id", r.run_id);
    v.set("transitions", static_cast<long long>(r.transitions));
    v.set("duration_us", static_cast<double>(r.duration.count()) / 1000.0);
    if (!r.emit) v.set("emit", false);
    if (r.parked) {
        v.set("parked", true);
        v.set("signal", r.signal);
    }
    if (!r.usage.empty())
        v.set("usage", Value::object({{"prompt_tokens", static_cast<long long>(r.usage.prompt_tokens)},
                                      {"completion_tokens", static_cast<long long>(r.usage.completion_tokens)}}));
    return v;
}

}  // namespace

Value Result::to_value() const {
    Value v = Value::object({{"ok", ok}, {"final_state", final_state}, {"data", data}});
    Value tail = tail_members(*this);
    auto& members = v.as_object();
    for (auto& member : tail.as_object()) members.push_back(std::move(member));
    return v;
}

std::string Result::to_json(std::string_view data_json) const {
    std::string out = ok ? R"({"ok":true,"final_state":)" : R"({"ok":false,"final_state":)";
    out += Value(final_state).to_json();
    out += R"(,"data":)";
    out += data_json.empty() ? std::string_view("null") : data_json;
    const std::string tail = tail_members(*this).to_json();  // {"path":...}: never empty
    out += ',';
    out.append(tail, 1);
    return out;
}

}  // namespace statenet
