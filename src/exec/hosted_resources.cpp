// HostedResources: opening and binding vector stores and files roots.
#include "exec/hosted_resources.hpp"

#include <cstddef>

namespace statenet::detail {

namespace {

VectorMetric metric_of(const std::string& name) {
    if (name == "dot") return VectorMetric::dot;
    if (name == "l2") return VectorMetric::l2;
    return VectorMetric::cosine;
}

}  // namespace

bool HostedResources::hosts(const ResourceDecl& decl) noexcept { return decl.type == "vector" || decl.type == "files"; }

void HostedResources::bind(int id, const ResourceDecl& decl, lua_State* L, int resources_index, const ConvertRefs& refs,
                           Transactions& tx, ResourceMeter& meter) {
    const auto slot = static_cast<std::size_t>(id);
    if (slot >= vectors_.size()) {
        vectors_.resize(slot + 1);
        files_.resize(slot + 1);
    }
    if (vectors_[slot] || files_[slot]) return;
    try {
        if (decl.type == "vector")
            vectors_[slot] = VectorStore::open(VectorConfig{decl.name, decl.path, decl.dim, metric_of(decl.metric)});
        else files_[slot] = std::make_unique<FilesResource>(FilesConfig{decl.name, decl.root, decl.create});
    } catch (...) {
        meter.set_health(Health::down);
        throw;
    }
    meter.set_health(Health::ok);
    if (vectors_[slot]) {
        push_vector_binding(L, vectors_[slot].get(), refs, &meter);
    } else {
        tx.enlist(*files_[slot]);
        push_files_binding(L, files_[slot].get(), &meter);
    }
    lua_setfield(L, resources_index, decl.name.c_str());
}

}  // namespace statenet::detail
