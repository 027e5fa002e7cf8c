// Result::to_value: the JSON shape of a record result (what `statenet run --data` prints).
#include <statenet/result.hpp>

namespace statenet {

namespace {

Value path_value(const std::vector<std::string>& path) {
    Value::Array items(path.begin(), path.end());
    return Value(std::move(items));
}

}  // namespace

Value Result::to_value() const {
    Value v = Value::object();
    v.set("ok", ok);
    v.set("final_state", final_state);
    v.set("data", data);
    v.set("path", path_value(path));
    if (error)
        v.set("error", Value::object({{"name", error->name}, {"message", error->message}, {"state", error->state}}));
    if (!branches.empty()) {
        Value list = Value::array();
        for (const auto& b : branches)
            list.push_back(
                Value::object({{"final_state", b.final_state}, {"data", b.data}, {"path", path_value(b.path)}}));
        v.set("branches", std::move(list));
    }
    v.set("run_id", run_id);
    v.set("transitions", static_cast<long long>(transitions));
    v.set("duration_us", static_cast<double>(duration.count()) / 1000.0);
    if (!emit) v.set("emit", false);
    if (parked) {
        v.set("parked", true);
        v.set("signal", signal);
    }
    if (!usage.empty())
        v.set("usage", Value::object({{"prompt_tokens", static_cast<long long>(usage.prompt_tokens)},
                                      {"completion_tokens", static_cast<long long>(usage.completion_tokens)}}));
    return v;
}

}  // namespace statenet
