// The supervision tree as TreeNodes (statenet machine tree, GET /instances/{id}/tree).
#include "machine/machine_json.hpp"
#include "supervise/supervisor_impl.hpp"

namespace statenet {

Value TreeNode::to_value() const {
    Value v = Value::object({{"id", id},
                             {"name", name},
                             {"workflow", workflow},
                             {"state", state},
                             {"completed", completed},
                             {"status", status}});
    if (!stack.empty()) v["stack"] = detail::stack_json(stack);
    if (!breaker.empty()) v["breaker"] = breaker;
    if (!note.empty()) v["note"] = note;
    if (!spec.is_null()) v["spec"] = spec;
    Value kids = Value::array();
    for (const auto& child : children) kids.push_back(child.to_value());
    v["children"] = std::move(kids);
    return v;
}

}  // namespace statenet

namespace statenet::detail {

namespace {

void fill(TreeNode& node, const std::optional<InstanceInfo>& info) {
    if (!info) return;
    node.state = info->state;
    node.stack = info->stack;
    node.completed = info->completed;
}

}  // namespace

std::optional<TreeNode> SupervisorImpl::tree(std::string_view id) {
    std::lock_guard lock(mutex_);
    const std::string wanted(id);
    TreeNode node;
    node.id = wanted;
    node.name = wanted;
    node.status = "root";
    node.workflow = kinds_[0].file;
    std::optional<InstanceInfo> info = kinds_[0].machines->get(id);
    if (!info) {
        for (std::size_t k = 1; k < kinds_.size() && !info; ++k)
            if (const ChildRow* row = tree_->by_child(kinds_[k].path, wanted)) {
                info = kinds_[k].machines->get(id);
                node.name = row->name;
                node.status = row->status;
                node.workflow = kinds_[k].file;
                if (!info) return node;
            }
        if (!info) return std::nullopt;
    }
    fill(node, info);
    // Depth-first over the rows: each child's own children below it.
    std::function<void(TreeNode&)> grow = [&](TreeNode& parent) {
        if (auto it = breakers_.find(parent.id); it != breakers_.end()) {
            parent.breaker = it->second.name();
            if (it->second.open() && parent.note.empty()) parent.note = it->second.why;
        }
        for (ChildRow* row : tree_->children(parent.id)) {
            TreeNode child;
            child.id = row->id;
            child.name = row->name;
            const Value* workflow = row->entry.find("workflow");
            child.workflow = workflow && workflow->is_string() ? workflow->as_string() : row->kind;
            child.status = row->status;
            child.note = row->note;
            const Value* spec = row->entry.find("spec");
            child.spec = spec ? *spec : Value::object();
            fill(child, kinds_[static_cast<std::size_t>(kind_index(row->kind))].machines->get(row->id));
            grow(child);
            parent.children.push_back(std::move(child));
        }
    };
    grow(node);
    return node;
}

}  // namespace statenet::detail
