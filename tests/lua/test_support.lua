-- Helpers shared by the Lua stdlib tests (tests/lua/*_test.lua): a copy-mode view like
-- the engine's, a view-aware `pairs`, and a check of a factory's argument errors.

local S = {}

-- The `pairs` in place when this module loaded; require it before installing
-- S.view_pairs as the global `pairs`.
local plain_pairs = pairs
S.plain_pairs = plain_pairs

-- A copy-mode view like the engine's: an empty proxy whose __index/__newindex functions
-- read the base and write to a side table (nested tables wrapped lazily on read).
local TOMBSTONE = {}
local function view(base)
    local changes = {}
    return setmetatable({}, {
        view = { base = base, changes = changes },
        __index = function(_, key)
            local value = changes[key]
            if value == TOMBSTONE then return nil end
            if value ~= nil then return value end
            value = base[key]
            if type(value) == "table" then
                value = view(value)
                changes[key] = value
            end
            return value
        end,
        __newindex = function(_, key, value)
            if value == nil then value = TOMBSTONE end
            changes[key] = value
        end,
    })
end
S.view = view

-- A view-aware `pairs`: a test installs it as the global only after the module under
-- test was loaded, as the engine does.
function S.view_pairs(t)
    local state = getmetatable(t) and getmetatable(t).view
    if not state then return plain_pairs(t) end
    local keys = {}
    for key in plain_pairs(state.base) do
        if state.changes[key] == nil then keys[#keys + 1] = key end
    end
    for key, value in plain_pairs(state.changes) do
        if value ~= TOMBSTONE then keys[#keys + 1] = key end
    end
    local i = 0
    return function()
        i = i + 1
        if keys[i] ~= nil then return keys[i], t[keys[i]] end
    end, t, nil
end

-- `factory(args)` must raise an error whose text contains `expected`.
function S.factory_error(factory, args, expected)
    local ok, err = pcall(factory, args)
    assert(not ok, "expected the factory to raise: " .. expected)
    assert(err:find(expected, 1, true), "expected '" .. expected .. "' in: " .. err)
end

return S
