-- The Lua heap's reachable objects by type, with N generations in flight held
-- as bench/hold.lua holds them (on an emulator of its own whose tasks never
-- finish while we look):
--
--   lua5.4 bench/census.lua N wait|map
--
-- Once every task was submitted and polled once, the garbage is collected twice
-- and every object reachable from the registry and _G is counted (tables and
-- metatables, closures' upvalues, each coroutine's frames and locals, userdata
-- and their user values; strings by value, so an interned one counts once).
-- One line: N, heap_kb, and a count for each type. Two sizes give the objects a
-- task holds: what a collector cycle sweeps grows with them (bench/RESULTS.md,
-- B3). A diagnostic, not a row of make bench.
package.path = "bench/?.lua;spec/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local emulator = require("helpers.emulator")
local common = require("common")
local N, mode = tonumber(arg[1]), arg[2] or "wait"
assert(N and (mode == "map" or mode == "wait"), "usage: census.lua N wait|map")
local emu = emulator.start{ speed = 1, task_seconds = 100000, max_tasks = 1000000 }
local client = seedance.new{ base_url = emu.url, api_key = "sk-bench", poll_max = 600 }

local function census()
  local seen, count, bytes = {}, {}, {}
  local stack, n = {}, 0
  local function push(v)
    local t = type(v)
    if t == "nil" or t == "boolean" or t == "number" then return end
    if seen[v] then return end
    seen[v] = true
    count[t] = (count[t] or 0) + 1
    if t == "string" then bytes.string = (bytes.string or 0) + #v; return end
    n = n + 1; stack[n] = v
  end
  push(debug.getregistry()); push(_G)
  while n > 0 do
    local v = stack[n]; stack[n] = nil; n = n - 1
    local t = type(v)
    if t == "table" then
      push(debug.getmetatable(v))
      for k, x in next, v do push(k); push(x) end
    elseif t == "function" then
      local i = 1
      while true do
        local name, x = debug.getupvalue(v, i)
        if not name then break end
        push(x); i = i + 1
      end
    elseif t == "thread" then
      local level = 0
      while true do
        local info = debug.getinfo(v, level, "f")
        if not info then break end
        push(info.func)
        local i = 1
        while true do
          local name, x = debug.getlocal(v, level, i)
          if not name then break end
          push(x); i = i + 1
        end
        level = level + 1
      end
    elseif t == "userdata" then
      push(debug.getmetatable(v))
      if debug.getuservalue then push((debug.getuservalue(v))) end
    end
  end
  return count, bytes
end

local t0 = core.now()
seedance.run(function()
  common.hold(client, N, mode)
  local stats0 = emu:stats()
  local base_s, base_p = stats0.endpoints.submit, stats0.endpoints.poll
  local in_flight = false
  while not in_flight and core.now() - t0 < 120 do
    seedance.sleep(0.2)
    local s = emu:stats()
    in_flight = s.endpoints.submit - base_s >= N and s.endpoints.poll - base_p >= N
  end
  seedance.sleep(0.3)
  collectgarbage("collect"); collectgarbage("collect")
  local count, bytes = census()
  local out = { N = N, heap_kb = collectgarbage("count") }
  for k, v in pairs(count) do out[k] = v end
  out.string_bytes = bytes.string
  local parts = {}
  for k, v in pairs(out) do parts[#parts + 1] = k .. "=" .. string.format("%.0f", v) end
  table.sort(parts)
  print(table.concat(parts, " "))
  emu:stop()
  os.exit(in_flight and 0 or 1)
end)
