// The JSON shapes of machine results, instances, audit rows and outbox messages: one
// form for `statenet machine` and the HTTP API of `statenet machine serve`.
#pragma once

#include <statenet/machines.hpp>
#include <statenet/value.hpp>

namespace statenet::detail {

/// Milliseconds as an integer when they are whole (they are, unless a clock says otherwise).
Value time_value(double ms);

Value result_json(const SendResult& result);
Value instance_json(const InstanceInfo& info);
/// An instance's push stack: [{state, network, return_to?}, ...], outermost first.
Value stack_json(const std::vector<PushFrame>& stack);
Value audit_json(const AuditEntry& entry);
Value outbox_json(const OutboxMessage& message);

}  // namespace statenet::detail
