-- A Lua workflow whose string values refer to the environment (tests/env_test.cpp).
return {
  name = "env_lua",
  vars = { greeting = "${STATENET_TEST_LUA_GREETING}", cost = "$${STATENET_TEST_LUA_UNSET:-7}" },
  networks = {
    main = {
      states = {
        { name = "only", start = true, ["end"] = true,
          transform = function(data, ctx) data.greeting, data.cost = ctx.vars.greeting, ctx.vars.cost end },
      },
    },
  },
}
