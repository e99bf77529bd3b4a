-- busted helper for `make check` (loaded with --helper=spec/support/check_helper.lua).
--
-- SEEDANCE_CHECK_CORE=path  fail at once unless seedance.core resolves to this
--                           file (so the ASan run cannot silently test the
--                           ordinary build).
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
