-- Network 'side' has an empty state list (line 6).
return {
  name = "no_states",
  networks = {
    main = { states = { a = { start = true, ["end"] = true } } },
    side = { states = {} },
  },
}
