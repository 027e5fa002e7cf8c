// NetworkResources: the clients of a workflow version's network resources (`http`,
// `llm`), shared by all its runners, and their Lua faces. Unlike a sqlite connection a
// client is not leased per record: every runner binds each one into ctx.resources when
// it is set up, and calls from any number of records go through the shared client.
#pragma once

#include "lua/convert.hpp"
#include "model/model.hpp"
#include "resources/http/http_client.hpp"
#include "resources/http/llm_client.hpp"

#include <statenet/result.hpp>

#include <lua.hpp>

#include <memory>
#include <vector>

namespace statenet::detail {

/// Whether a resource of this type is bound once per runner (a shared client) rather
/// than acquired per record from a pool.
class NetworkResources {
public:
    /// Creates a client per `http` / `llm` declaration (also for a model with load
    /// errors: the assembly builds a runner to report every problem at once).
    explicit NetworkResources(const std::vector<ResourceDecl>& resources);

    /// Sets ctx.resources.<name> for every network resource in the table at
    /// `resources_index` of `L`. The clients must outlive the VM.
    void bind(lua_State* L, int resources_index, const ConvertRefs& refs) const;

    /// The counters of network resource `id` (by declaration index).
    ResourceStats stats(int id) const;
    ResourceMeter& meter(int id) const;

private:
    std::vector<std::shared_ptr<HttpClient>> http_;  // by resource id; null for other types
    std::vector<std::shared_ptr<LlmClient>> llm_;
    std::vector<std::string> names_;
};

/// Pushes the Lua face of an `http` resource: get/post/put/patch/delete/request.
void push_http_binding(lua_State* L, HttpClient* client, const ConvertRefs& refs);
/// Pushes the Lua face of an `llm` resource: chat/embed.
void push_llm_binding(lua_State* L, LlmClient* client, const ConvertRefs& refs);

}  // namespace statenet::detail
