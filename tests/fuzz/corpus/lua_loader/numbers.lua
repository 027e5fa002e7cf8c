return {
  name = "n", timeout_ms = 0/0, max_transitions = math.huge,
  resources = { db = { type = "sqlite", path = ":memory:", pool = 9.2e18, busy_timeout_ms = -1 } },
  networks = { main = { states = { s = { start = true, ["end"] = true,
    retry = { { errors = { "*" }, interval_ms = math.huge, backoff = 0/0, attempts = 2^40 } } } } } },
}
