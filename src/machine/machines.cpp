// statenet::Machines: the public face of MachinesImpl (machine/machines_impl.hpp); every
// call runs under the machine set's lock and then tells the listeners.
#include "machine/machines_impl.hpp"

#include <statenet/machines.hpp>

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace statenet {

namespace {

class WallClock final : public Clock {
public:
    double now_ms() override {
        using namespace std::chrono;
        // Whole milliseconds: times in the store, the audit log and the API read as integers.
        return static_cast<double>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
    }
    void sleep_ms(double ms) override { std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms)); }
};

}  // namespace

std::shared_ptr<Clock> wall_clock() {
    static auto clock = std::make_shared<WallClock>();
    return clock;
}

std::string_view to_string(SendStatus status) noexcept {
    switch (status) {
    case SendStatus::applied: return "applied";
    case SendStatus::rejected: return "rejected";
    case SendStatus::duplicate: return "duplicate";
    }
    return "rejected";
}

Machines::Machines(Engine& engine, const std::filesystem::path& workflow, MachinesOptions options)
    : impl_(std::make_shared<detail::MachinesImpl>(engine, workflow, std::move(options))) {
    impl_->register_for_reload(impl_);
    if (impl_->recovers_on_open()) impl_->locked([&] { return impl_->recover(impl_->now()); });
}

Machines::~Machines() = default;

SendResult Machines::start(std::string_view id, const Value& data) {
    return impl_->locked([&] { return impl_->start(id, data); });
}

SendResult Machines::send(std::string_view id, std::string_view event, const Value& payload, std::string_view key) {
    return impl_->locked([&] { return impl_->send(id, event, payload, key); });
}

std::vector<SendResult> Machines::send_many(const std::vector<MachineEvent>& events) {
    return impl_->locked([&] { return impl_->send_many(events); });
}

std::vector<SendResult> Machines::tick() {
    return impl_->locked([&] { return impl_->tick(impl_->now()); });
}
std::vector<SendResult> Machines::tick(double now_ms) {
    return impl_->locked([&] { return impl_->tick(now_ms); });
}

std::vector<SendResult> Machines::tick(double now_ms, const std::function<bool(std::string_view)>& held) {
    return impl_->locked([&] { return impl_->tick(now_ms, held); });
}
bool Machines::remove(std::string_view id) {
    return impl_->locked([&] { return impl_->remove(id); });
}

std::optional<double> Machines::next_due() {
    return impl_->locked([&] { return impl_->next_due(); });
}
void Machines::run_timers(const std::function<bool()>& stop) { impl_->run_timers(stop); }
void Machines::wake() { impl_->wake(); }

void Machines::post(std::string_view id, std::string_view event, const Value& payload) {
    impl_->locked([&] { impl_->post(id, event, payload); });
}
std::size_t Machines::step(double dt_ms) {
    return impl_->locked([&] { return impl_->step(dt_ms); });
}

std::vector<SendResult> Machines::recover() {
    return impl_->locked([&] { return impl_->recover(impl_->now()); });
}
std::vector<SendResult> Machines::recover(double now_ms) {
    return impl_->locked([&] { return impl_->recover(now_ms); });
}

std::optional<InstanceInfo> Machines::get(std::string_view id) {
    return impl_->locked([&] { return impl_->get(id); });
}
std::optional<InstanceInfo> Machines::get_row(std::string_view id) {
    return impl_->locked([&] { return impl_->get(id, false); });
}
Workflow Machines::workflow() {
    return impl_->locked([&] { return impl_->workflow(); });
}
std::vector<InstanceInfo> Machines::list(const ListOptions& options) {
    return impl_->locked([&] { return impl_->list(options); });
}
std::vector<AuditEntry> Machines::audit(std::string_view id, std::size_t limit) {
    return impl_->locked([&] { return impl_->audit_log(id, limit); });
}
MachineCensus Machines::census() {
    return impl_->locked([&] { return impl_->census(impl_->now()); });
}
MachineCensus Machines::census(double now_ms) {
    return impl_->locked([&] { return impl_->census(now_ms); });
}
std::vector<std::string> Machines::accepts(std::string_view id) {
    return impl_->locked([&] { return impl_->accepts(id); });
}

std::vector<OutboxMessage> Machines::outbox(const OutboxOptions& options) {
    return impl_->locked([&] { return impl_->outbox(options); });
}
std::size_t Machines::ack(const std::vector<std::int64_t>& seqs) {
    return impl_->locked([&] { return impl_->ack(seqs); });
}

std::size_t Machines::subscribe(MachineListener listener) { return impl_->subscribe(std::move(listener)); }
void Machines::unsubscribe(std::size_t id) { impl_->unsubscribe(id); }

PruneReport Machines::prune() {
    return impl_->locked([&] { return impl_->prune(impl_->now()); });
}
PruneReport Machines::prune(double now_ms) {
    return impl_->locked([&] { return impl_->prune(now_ms); });
}

ReloadReport Machines::reload() { return impl_->reload(); }
std::optional<ReloadReport> Machines::reload_if_changed() {
    return impl_->locked([&] { return impl_->reload_if_changed(); });
}

}  // namespace statenet
