-- busted helper for `make check` (loaded with --helper=spec/support/check_helper.lua).
--
-- SEEDANCE_CHECK_CORE=path  fail at once unless seedance.core resolves to this
--                           file (so the ASan run cannot silently test the
--                           ordinary build).
-- SEEDANCE_CHECK_UNPRELOAD=1  run every command the specs start (io.popen,
--                           os.execute) with LD_PRELOAD unset and the ASan
--                           core's cpath entry mapped to the ordinary build:
--                           the ASan run preloads its runtime into this
--                           lua5.4 only (see mk/check.mk; SEEDANCE_CHILD_PRELOAD
--                           names it for specs that start a Lua child on purpose).
-- SEEDANCE_GC_STRESS=mode   run every spec under an aggressive collector:
--   "incremental"  restart a cycle as soon as one ends (the smallest pause),
--                  a large step multiplier, a step every KiB allocated, and
--                  one more GC step from a count hook every SEEDANCE_GC_EVERY
--                  VM instructions (default 200);
--   "generational" generational mode with a minor collection after 1% growth,
--                  plus the same hook (each step is a minor collection).
-- (collectgarbage treats 0 as "leave unchanged", hence the 1s.)
-- The hook makes finalizers (engine and task __gc) run at arbitrary points of
-- spec, library and scheduler code, not only at allocation sites. Coroutines
-- created afterwards inherit the hook (Lua 5.4 copies it into new threads).

local want = os.getenv("SEEDANCE_CHECK_CORE")
if want and want ~= "" then
  local got = package.searchpath("seedance.core", package.cpath)
  if got ~= want and not (got and got:sub(-#want - 1) == "/" .. want) then
    io.stderr:write("check_helper: seedance.core resolves to ", tostring(got), ", expected ", want, "\n")
    os.exit(2)
  end
end

if os.getenv("SEEDANCE_CHECK_UNPRELOAD") == "1" then
  -- A child is not under the preloaded runtime, so a Lua child handed this
  -- run's package.cpath (the command's specs, hosts/examples_spec) is pointed at the ordinary
  -- core instead of the ASan one, which needs the runtime. A command that sets
  -- LD_PRELOAD itself (core/lifetime_spec's child) keeps the ASan core and is checked too.
  local function child(cmd)
    if not cmd:match("^LD_PRELOAD=") then cmd = cmd:gsub("build/asan/%?%.so", "build/?.so") end
    return "unset LD_PRELOAD; " .. cmd
  end
  local popen, execute = io.popen, os.execute
  io.popen = function(cmd, ...) return popen(child(cmd), ...) end -- luacheck: ignore 122
  os.execute = function(cmd, ...) -- luacheck: ignore 122
    if cmd == nil then return execute() end
    return execute(child(cmd), ...)
  end
end

local mode = os.getenv("SEEDANCE_GC_STRESS")
if mode and mode ~= "" then
  local every = tonumber(os.getenv("SEEDANCE_GC_EVERY") or "") or 200
  if mode == "generational" then
    collectgarbage("generational", 1, 0)
  elseif mode == "incremental" then
    collectgarbage("incremental", 1, 100, 10)
  else
    io.stderr:write("check_helper: SEEDANCE_GC_STRESS must be incremental or generational, got ", mode, "\n")
    os.exit(2)
  end
  local step = collectgarbage
  debug.sethook(function() step("step", 0) end, "", every)
  -- count collections: a sentinel whose finalizer makes the next sentinel
  local cycles = 0
  local function sentinel()
    setmetatable({}, { __gc = function() cycles = cycles + 1; sentinel() end })
  end
  sentinel()
  require("busted").subscribe({ "suite", "end" }, function()
    io.write(string.format("gc stress (%s, a step every %d instructions): %d collections\n", mode, every, cycles))
    return nil, true
  end)
end
