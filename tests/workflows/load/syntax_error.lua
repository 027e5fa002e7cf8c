-- A Lua workflow that does not parse: the table on line 4 is never closed.
return {
  name = "syntax_error_lua",
  networks = {
    main = { states = { a = { start = true, ["end"] = true } } },
}
