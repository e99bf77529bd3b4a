-- B3 frame budget: seedance.step(0) from a 60 Hz host loop with TASKS
-- generations in flight (each: generate, wait, download).
--
--   lua5.4 bench/frame.lua URL TASKS TIME_SCALE OUTDIR [GC] [split]
--
-- GC: default (the collector as the library leaves it; what the row
-- measures), stop (collector stopped during the loop: what step costs
-- without GC), gen or inc (collectgarbage("generational"/"incremental")
-- first). split: also time the engine's own calls inside each step
-- (engine:step, libcurl's work; engine:next, the C side of handing results
-- over) by wrapping the engine's methods, for profiles; it adds a little
-- to every step.
--
-- Every step(0) call is timed, by the wall clock (what the host's frame
-- sees) and by the calling thread's CPU clock (core.thread_cpu: the same
-- less the time the thread was not running, so robust to a busy machine; the
-- engine's file worker, a thread of its own, is not the frame's). GC work inside a step is told two ways: the
-- Lua heap smaller after the step than before it (a sweep freed memory
-- there), and a GC cycle ending (a sentinel's __gc ran) during it. Prints
-- p50/p99/max in ms and those counts as one JSON line.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local scheduler = require("seedance.scheduler")
local core = require("seedance.core")
local common = require("common")

local url, total, scale, dir, gc, split = arg[1], tonumber(arg[2]), tonumber(arg[3]), arg[4], arg[5] or "default",
  arg[6] == "split"
assert(url and total and scale and dir, "usage: frame.lua URL TASKS TIME_SCALE OUTDIR [default|stop|gen|inc] [split]")

if gc == "gen" then collectgarbage("generational") elseif gc == "inc" then collectgarbage("incremental") end

-- engine time inside each step (split only)
local engine_s, next_s = 0, 0
if split then
  local methods = getmetatable(scheduler.engine()).__index
  local step, nxt = methods.step, methods.next
  methods.step = function(...)
    local t = core.now()
    local a, b, c = step(...)
    engine_s = engine_s + core.now() - t
    return a, b, c
  end
  methods.next = function(...)
    local t = core.now()
    local r = nxt(...)
    next_s = next_s + core.now() - t
    return r
  end
end

-- GC cycles: a sentinel whose finaliser counts the cycle and sets the next one
local cycles = 0
local function sentinel() setmetatable({}, { __gc = function() cycles = cycles + 1; sentinel() end }) end
sentinel()

local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = scale }
local done, failed, saved = 0, 0, {}
for i = 1, total do
  seedance.spawn(function()
    local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "frame " .. i }
    if task then task, err = task:wait() end
    local path
    if task then path, err = task:download(string.format("%s/frame-%d.mp4", dir, i)) end
    -- the files are removed after the loop: unlinking is the bench's work, not the step's
    if path then done = done + 1; saved[#saved + 1] = path else failed = failed + 1 end
    if not path and failed < 5 then io.stderr:write(tostring(err), "\n") end
    if task then task:close() end
  end)
end

if gc == "stop" then collectgarbage("stop") end
local times, cpu_times, engine_ms, lua_ms = {}, {}, {}, {}
local shrank, cycle_steps, slow, slow_gc = 0, 0, 0, 0
local deadline = core.now() + 300
while done + failed < total and core.now() < deadline do
  local k0, c0, e0, n0 = collectgarbage("count"), cycles, engine_s, next_s
  local t0, clock0 = core.now(), core.thread_cpu()
  seedance.step(0)
  local ms = (core.now() - t0) * 1000
  times[#times + 1] = ms
  cpu_times[#cpu_times + 1] = (core.thread_cpu() - clock0) * 1000
  local gc_here = false
  if collectgarbage("count") < k0 then shrank = shrank + 1; gc_here = true end
  if cycles > c0 then cycle_steps = cycle_steps + 1; gc_here = true end
  if ms > 1 then
    slow = slow + 1
    if gc_here then slow_gc = slow_gc + 1 end
  end
  if split then
    local e = (engine_s - e0 + next_s - n0) * 1000
    engine_ms[#engine_ms + 1] = e
    lua_ms[#lua_ms + 1] = ms - e
  end
  core.sleep(1 / 60)   -- the rest of the frame
end
if gc == "stop" then collectgarbage("restart") end
for _, path in ipairs(saved) do os.remove(path) end
local max, cpu_max = 0, 0
for _, v in ipairs(times) do if v > max then max = v end end
for _, v in ipairs(cpu_times) do if v > cpu_max then cpu_max = v end end
local out = { tasks = total, done = done, failed = failed, gc = gc, steps = #times,
              p50_ms = common.quantile(times, 0.5), p99_ms = common.quantile(times, 0.99), max_ms = max,
              cpu_p50_ms = common.quantile(cpu_times, 0.5), cpu_p99_ms = common.quantile(cpu_times, 0.99),
              cpu_max_ms = cpu_max, first_ms = times[1], heap_shrank_steps = shrank, cycle_end_steps = cycle_steps,
              cycles = cycles, slow_steps = slow, slow_steps_with_gc = slow_gc }
if split then
  -- the slowest 1% of steps: how much of each was the engine (libcurl) and how much Lua
  local order = {}
  for i = 1, #times do order[i] = i end
  table.sort(order, function(a, b) return times[a] > times[b] end)
  local n = math.max(1, math.floor(#times / 100))
  local e, l = 0, 0
  for i = 1, n do e = e + engine_ms[order[i]]; l = l + lua_ms[order[i]] end
  out.slowest_n, out.slowest_engine_ms, out.slowest_lua_ms = n, e / n, l / n
  out.engine_p99_ms, out.lua_p99_ms = common.quantile(engine_ms, 0.99), common.quantile(lua_ms, 0.99)
end
common.emit(out)
os.exit(failed == 0 and 0 or 1)
