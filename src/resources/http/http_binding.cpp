// The Lua faces of `http` and `llm` resources: ctx.resources.api:get(path, opts) and
// friends, ctx.resources.llm:chat(...) / :embed(...). Each call reads its arguments,
// runs the (waiting) request and pushes the answer; failures become the named error
// tables the runtime matches ({ name = "HttpError", message = ... }).
#include "resources/binding.hpp"
#include "resources/network_resources.hpp"

#include <fmt/format.h>

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace statenet::detail {

namespace {

std::string string_at(lua_State* L, int index) {
    std::size_t size = 0;
    const char* text = lua_tolstring(L, index, &size);
    return std::string(text, size);
}

std::string checked_string(lua_State* L, int index, const std::string& what) {
    if (lua_type(L, index) != LUA_TSTRING && lua_type(L, index) != LUA_TNUMBER)
        throw ResourceFailure("ResourceError", what + " must be a string");
    return string_at(L, index);
}

// A table of name = value (values as text) from opts[field].
Headers pairs_of(lua_State* L, int opts, const char* field, const std::string& what) {
    Headers out;
    if (opts == 0) return out;
    lua_getfield(L, opts, field);
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            // Copies: lua_tolstring on a number key would confuse lua_next.
            lua_pushvalue(L, -2);
            const std::string key = checked_string(L, -1, what + " name");
            lua_pop(L, 1);
            if (lua_istable(L, -1)) {  // query = { tag = {"a", "b"} } repeats the key
                for (int i = 1;; ++i) {
                    lua_rawgeti(L, -1, i);
                    if (lua_isnil(L, -1)) {
                        lua_pop(L, 1);
                        break;
                    }
                    out.emplace_back(key, checked_string(L, -1, what + " value"));
                    lua_pop(L, 1);
                }
            } else if (lua_isboolean(L, -1)) {
                out.emplace_back(key, lua_toboolean(L, -1) ? "true" : "false");
            } else {
                out.emplace_back(key, checked_string(L, -1, fmt::format("{} '{}'", what, key)));
            }
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        throw ResourceFailure("ResourceError", fmt::format("{} must be a table", what));
    }
    lua_pop(L, 1);
    return out;
}

double number_field(lua_State* L, int opts, const char* field, double otherwise) {
    if (opts == 0) return otherwise;
    lua_getfield(L, opts, field);
    const double value = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : otherwise;
    lua_pop(L, 1);
    return value;
}

// ---- http ----

HttpRequest read_request(lua_State* L, std::string method, int path_index, int opts, const std::string& name) {
    HttpRequest request;
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    request.method = std::move(method);
    request.path = checked_string(L, path_index, name + ": the path");
    if (opts != 0 && !lua_istable(L, opts)) {
        if (lua_isnil(L, opts)) opts = 0;
        else throw ResourceFailure("ResourceError", name + ": the options must be a table");
    }
    request.query = pairs_of(L, opts, "query", name + ": query");
    request.headers = pairs_of(L, opts, "headers", name + ": headers");
    request.timeout_ms = number_field(L, opts, "timeout_ms", 0);
    if (opts == 0) return request;
    lua_getfield(L, opts, "raise");
    if (lua_isboolean(L, -1)) request.raise_for_status = lua_toboolean(L, -1) != 0;
    lua_pop(L, 1);
    lua_getfield(L, opts, "json");
    if (!lua_isnil(L, -1)) {
        request.body = read_value(L, -1, method_refs(L)).to_json();
        request.has_body = true;
        const bool typed = std::any_of(request.headers.begin(), request.headers.end(), [](const auto& h) {
            return h.first.size() == 12 && strncasecmp(h.first.c_str(), "content-type", 12) == 0;
        });
        if (!typed) request.headers.emplace_back("Content-Type", "application/json");
    }
    lua_pop(L, 1);
    lua_getfield(L, opts, "body");
    if (!lua_isnil(L, -1)) {
        if (request.has_body) throw ResourceFailure("ResourceError", name + ": give either json or body, not both");
        request.body = checked_string(L, -1, name + ": body");
        request.has_body = true;
    }
    lua_pop(L, 1);
    return request;
}

void push_response(lua_State* L, const HttpResponse& response, const ConvertRefs& refs) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, static_cast<lua_Integer>(response.status));
    lua_setfield(L, -2, "status");
    lua_createtable(L, 0, static_cast<int>(response.headers.size()));
    for (const auto& [key, value] : response.headers) {
        lua_pushlstring(L, value.data(), value.size());
        lua_setfield(L, -2, key.c_str());
    }
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, response.body.data(), response.body.size());
    lua_setfield(L, -2, "body");
    if (response.is_json()) {
        try {
            push_value(L, Value::from_json(response.body), refs);
            lua_setfield(L, -2, "json");
        } catch (const std::exception&) {
            // Not JSON after all: the body is still there.
        }
    }
}

// get/delete/post/put/patch: (path [, opts]); request: (method, path [, opts]).
template <const char* method>
int http_method(lua_State* L) {
    return resource_call(L, [&] {
        HttpClient& client = *method_self<HttpClient>(L);
        const int first = first_argument(L);
        const int opts = lua_gettop(L) >= first + 1 ? first + 1 : 0;
        const HttpResponse response = client.request(read_request(L, method, first, opts, client.name()));
        push_response(L, response, method_refs(L));
        return 1;
    });
}

int http_request(lua_State* L) {
    return resource_call(L, [&] {
        HttpClient& client = *method_self<HttpClient>(L);
        const int first = first_argument(L);
        const std::string method = checked_string(L, first, client.name() + ": the method");
        const int opts = lua_gettop(L) >= first + 2 ? first + 2 : 0;
        const HttpResponse response = client.request(read_request(L, method, first + 1, opts, client.name()));
        push_response(L, response, method_refs(L));
        return 1;
    });
}

constexpr char get_name[] = "GET";
constexpr char post_name[] = "POST";
constexpr char put_name[] = "PUT";
constexpr char patch_name[] = "PATCH";
constexpr char delete_name[] = "DELETE";

// ---- llm ----

void add_usage(lua_State* L, const TokenUsage& usage) {
    if (RecordMeter* record = RecordMeter::of(L)) record->add_tokens(usage);
}

ChatOptions read_chat_options(lua_State* L, int opts, const std::string& name) {
    ChatOptions options;
    if (opts == 0 || lua_isnil(L, opts)) return options;
    if (!lua_istable(L, opts)) throw ResourceFailure("ResourceError", name + ": the options must be a table");
    auto text = [&](const char* key) -> std::optional<std::string> {
        lua_getfield(L, opts, key);
        std::optional<std::string> value;
        if (!lua_isnil(L, -1)) value = checked_string(L, -1, fmt::format("{}: {}", name, key));
        lua_pop(L, 1);
        return value;
    };
    options.model = text("model");
    options.system = text("system");
    lua_getfield(L, opts, "temperature");
    if (lua_isnumber(L, -1)) options.temperature = lua_tonumber(L, -1);
    lua_getfield(L, opts, "max_tokens");
    if (lua_isnumber(L, -1)) options.max_tokens = static_cast<int>(lua_tointeger(L, -1));
    lua_getfield(L, opts, "json");
    if (lua_isboolean(L, -1)) options.json_output = lua_toboolean(L, -1) != 0;
    lua_pop(L, 3);
    options.timeout_ms = number_field(L, opts, "timeout_ms", 0);
    return options;
}

void push_usage(lua_State* L, const TokenUsage& usage) {
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, static_cast<double>(usage.prompt_tokens));
    lua_setfield(L, -2, "prompt_tokens");
    lua_pushnumber(L, static_cast<double>(usage.completion_tokens));
    lua_setfield(L, -2, "completion_tokens");
}

// chat(prompt | messages | record [, opts]): a string is the user prompt ({{field}}
// filled from opts.vars); an array is the messages; any other table is a record that
// fills the prompt template (opts.prompt, else the resource's `prompt`).
int llm_chat(lua_State* L) {
    return resource_call(L, [&] {
        LlmClient& client = *method_self<LlmClient>(L);
        const ConvertRefs& refs = method_refs(L);
        const int first = first_argument(L);
        const int opts = lua_gettop(L) >= first + 1 ? first + 1 : 0;
        const ChatOptions options = read_chat_options(L, opts, client.name());
        auto opt_value = [&](const char* key) {
            Value v;
            if (opts == 0 || !lua_istable(L, opts)) return v;
            lua_getfield(L, opts, key);
            if (!lua_isnil(L, -1)) v = read_value(L, -1, refs);
            lua_pop(L, 1);
            return v;
        };
        ChatReply reply;
        if (lua_type(L, first) == LUA_TSTRING) {
            const Value vars = opt_value("vars");
            std::string prompt = string_at(L, first);
            if (!vars.is_null()) prompt = fill_template(prompt, vars, client.name());
            reply = client.chat_prompt(prompt, options);
        } else if (lua_istable(L, first)) {
            Value arg = read_value(L, first, refs);
            if (arg.is_array()) {
                reply = client.chat(std::move(arg), options);
            } else {
                const Value custom = opt_value("prompt");
                const std::string& text = custom.is_string() ? custom.as_string() : client.config().prompt;
                if (text.empty())
                    throw ResourceFailure("ResourceError", client.name() +
                                                               ": chat(record) needs a prompt template (the resource's "
                                                               "`prompt` or opts.prompt)");
                reply = client.chat_prompt(fill_template(text, arg, client.name()), options);
            }
        } else {
            throw ResourceFailure("ResourceError",
                                  client.name() + ": chat needs a prompt, a list of messages or a record");
        }
        add_usage(L, reply.usage);
        lua_createtable(L, 0, 3);
        lua_pushlstring(L, reply.text.data(), reply.text.size());
        lua_setfield(L, -2, "text");
        if (!reply.json.is_null()) {
            push_value(L, reply.json, refs);
            lua_setfield(L, -2, "json");
        }
        push_usage(L, reply.usage);
        lua_setfield(L, -2, "usage");
        return 1;
    });
}

// embed(text | {texts} [, opts]) -> { vector, ... } (one vector per text, also for one text).
int llm_embed(lua_State* L) {
    return resource_call(L, [&] {
        LlmClient& client = *method_self<LlmClient>(L);
        const int first = first_argument(L);
        std::vector<std::string> texts;
        if (lua_type(L, first) == LUA_TSTRING) {
            texts.push_back(string_at(L, first));
        } else if (lua_istable(L, first)) {
            for (int i = 1;; ++i) {
                lua_rawgeti(L, first, i);
                if (lua_isnil(L, -1)) {
                    lua_pop(L, 1);
                    break;
                }
                texts.push_back(checked_string(L, -1, client.name() + ": each text to embed"));
                lua_pop(L, 1);
            }
        }
        if (texts.empty())
            throw ResourceFailure("ResourceError", client.name() + ": embed needs a text or a list of texts");
        const int opts = lua_gettop(L) >= first + 1 && lua_istable(L, first + 1) ? first + 1 : 0;
        TokenUsage usage;
        const auto vectors = client.embed(texts, usage, number_field(L, opts, "timeout_ms", 0));
        add_usage(L, usage);
        lua_createtable(L, static_cast<int>(vectors.size()), 0);
        for (std::size_t i = 0; i < vectors.size(); ++i) {
            lua_createtable(L, static_cast<int>(vectors[i].size()), 0);
            for (std::size_t j = 0; j < vectors[i].size(); ++j) {
                lua_pushnumber(L, vectors[i][j]);
                lua_rawseti(L, -2, static_cast<int>(j + 1));
            }
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
        return 1;
    });
}

}  // namespace

void push_http_binding(lua_State* L, HttpClient* client, const ConvertRefs& refs) {
    push_method_table(L, client, &refs, &client->meter(),
                      {{"get", http_method<get_name>},
                       {"post", http_method<post_name>},
                       {"put", http_method<put_name>},
                       {"patch", http_method<patch_name>},
                       {"delete", http_method<delete_name>},
                       {"request", http_request}});
}

void push_llm_binding(lua_State* L, LlmClient* client, const ConvertRefs& refs) {
    push_method_table(L, client, &refs, &client->meter(), {{"chat", llm_chat}, {"embed", llm_embed}});
}

}  // namespace statenet::detail
