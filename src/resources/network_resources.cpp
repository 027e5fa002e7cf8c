// NetworkResources: one client per network resource declaration, bound into each runner.
#include "resources/network_resources.hpp"

namespace statenet::detail {

NetworkResources::NetworkResources(const std::vector<ResourceDecl>& resources)
    : http_(resources.size()), llm_(resources.size()) {
    for (std::size_t i = 0; i < resources.size(); ++i) {
        const ResourceDecl& r = resources[i];
        names_.push_back(r.name);
        if (!r.network()) continue;
        http_[i] = std::make_shared<HttpClient>(r.name, r.type, r.http);
        if (r.type == "llm") llm_[i] = std::make_shared<LlmClient>(http_[i], r.llm);
    }
}

void NetworkResources::bind(lua_State* L, int resources_index, const ConvertRefs& refs) const {
    if (resources_index < 0 && resources_index > LUA_REGISTRYINDEX) resources_index += lua_gettop(L) + 1;
    for (std::size_t i = 0; i < http_.size(); ++i) {
        if (!http_[i]) continue;
        if (llm_[i]) push_llm_binding(L, llm_[i].get(), refs);
        else push_http_binding(L, http_[i].get(), refs);
        lua_setfield(L, resources_index, names_[i].c_str());
    }
}

ResourceStats NetworkResources::stats(int id) const { return http_.at(static_cast<std::size_t>(id))->stats(); }

ResourceMeter& NetworkResources::meter(int id) const { return http_.at(static_cast<std::size_t>(id))->meter(); }

}  // namespace statenet::detail
