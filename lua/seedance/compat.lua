--- What differs between Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT, in one place.
-- @module seedance.compat

local M = {}

--- `table.unpack` (5.2+) or `unpack` (5.1, LuaJIT).
M.unpack = table.unpack or unpack -- luacheck: ignore 113

--- `table.pack`: the values with their count in `n`.
function M.pack(...)
  return { n = select("#", ...), ... }
end

-- Lua 5.1's xpcall takes no arguments for the function (LuaJIT's does).
local passes_args = select(2, xpcall(function(a) return a end, debug.traceback, true)) == true

--- `xpcall(fn, handler, ...)` on every version: calls `fn(...)` with `handler`
-- as the message handler.
-- @treturn boolean whether fn returned
-- @return fn's results, or the handler's answer
function M.xpcall(fn, handler, ...)
  if passes_args then return xpcall(fn, handler, ...) end
  local args = M.pack(...)
  return xpcall(function() return fn(M.unpack(args, 1, args.n)) end, handler)
end

--- Whether a coroutine may yield from inside `pcall`/`xpcall` (5.2+ and LuaJIT; not Lua 5.1).
M.yield_in_pcall = coroutine.wrap(function() return pcall(coroutine.yield, true) end)() == true

-- Lua 5.1 and LuaJIT call __gc on userdata only, never on tables.
local tables_finalized = not rawget(_G, "newproxy")

--- Have `fn(obj)` called when the table `obj` is collected, on every version:
-- 5.2+ do it from obj's metatable's __gc (which must be set before, as it is
-- for the classes that use this); on 5.1 and LuaJIT a userdata kept in
-- `obj[key]` carries the finalizer.
-- @tparam table obj
-- @tparam string key the field that holds the userdata on 5.1
-- @tparam function fn
function M.on_collect(obj, key, fn)
  if tables_finalized then return end
  local proxy = newproxy(true) -- luacheck: ignore 113
  getmetatable(proxy).__gc = function() fn(obj) end
  obj[key] = proxy
end

--- Whether the standalone interpreter prints an error object through its
-- `__tostring`: 5.2+ do (without a traceback), LuaJIT does (with one); PUC
-- Lua 5.1 prints "(error object is not a string)", so an error a script should
-- end with is raised there as its text.
M.prints_error_objects = _VERSION ~= "Lua 5.1" or rawget(_G, "jit") ~= nil

--- Pace the collector: `collectgarbage("step", kib)`, only while it runs. Nothing when the host has
-- stopped it (an explicit step would run it; `isrunning` on 5.2+ and LuaJIT 2.1, which Lua 5.1 cannot
-- tell), nor when the host took `collectgarbage` away or refuses the call (a sandbox).
-- @tparam number kib KiB of debt
function M.gc_step(kib)
  local gc = collectgarbage
  local ok, running = pcall(gc, "isrunning")
  if ok and running == false then return end
  pcall(gc, "step", kib)
end

return M
