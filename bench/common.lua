--- Small helpers shared by the benchmark scripts (bench/*.lua).
local M = {}

--- Peak and current resident set size of this process, in KiB (Linux /proc).
-- @treturn number VmHWM
-- @treturn number VmRSS
function M.rss()
  local f = io.open("/proc/self/status", "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")), tonumber(s:match("VmRSS:%s*(%d+)"))
end

--- CPU seconds this process has used, user and system (/proc/self/stat, in
-- clock ticks of 1/100 s: for splits; os.clock() is the precise total).
-- @treturn number user seconds
-- @treturn number system seconds
function M.cpu()
  local f = io.open("/proc/self/stat", "r")
  if not f then return 0, 0 end
  local s = f:read("*a")
  f:close()
  -- fields after the command name (which may hold spaces, in parentheses)
  local rest = s:match("%)%s+(.*)$") or ""
  local fields = {}
  for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
  -- utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name
  return (tonumber(fields[12]) or 0) / 100, (tonumber(fields[13]) or 0) / 100
end

--- One JSON object on one line, for the runner (bench/run.lua) to read.
function M.emit(t)
  io.stdout:write(require("cjson").encode(t), "\n")
  io.stdout:flush()
end

--- The p-quantile (0..1) of a list of numbers (sorts a copy).
function M.quantile(list, p)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  if #s == 0 then return nil end
  return s[math.max(1, math.ceil(#s * p))]
end

--- Step seedance from a 60 Hz host loop (step(0), then the rest of the frame) until done() or
-- `limit` seconds; each step's wall and CPU time.
-- @treturn table steps, max_ms, p99_ms, cpu_max_ms, cpu_p99_ms, budget_ms (a frame's)
function M.frames(done, limit)
  local seedance, core = require("seedance"), require("seedance.core")
  local times, cpu_times = {}, {}
  local deadline = core.now() + limit
  while not done() and core.now() < deadline do
    local t0, c0 = core.now(), os.clock()
    seedance.step(0)
    times[#times + 1] = (core.now() - t0) * 1000
    cpu_times[#cpu_times + 1] = (os.clock() - c0) * 1000
    core.sleep(1 / 60) -- the rest of the frame
  end
  local max, cpu_max = 0, 0
  for _, v in ipairs(times) do if v > max then max = v end end
  for _, v in ipairs(cpu_times) do if v > cpu_max then cpu_max = v end end
  return { steps = #times, max_ms = max, p99_ms = M.quantile(times, 0.99), cpu_max_ms = cpu_max,
           cpu_p99_ms = M.quantile(cpu_times, 0.99), budget_ms = 1000 / 60 }
end

--- A typical request of the service's reference page (image-to-video with roles).
function M.typical_request(i)
  return {
    model = "doubao-seedance-2.0",
    prompt = "a paper boat drifts down a rainy street, camera follows at water level " .. (i or 0),
    image_with_roles = {
      { url = "https://example.com/first.png", role = "first_frame" },
      { url = "https://example.com/last.png", role = "last_frame" },
    },
    resolution = "720p", duration = 5, seed = 42, generate_audio = true,
  }
end

--- Track every emulator that `emulator.start` (spec/helpers/emulator.lua) starts
-- from now on, and return a function that stops them all: runners call it after
-- each benchmark, also after one raised (an emulator left running would hold
-- the exit: Lua's close waits on its shell).
-- @tparam table emulator the spec helper module
-- @treturn function stop_all()
function M.track_emulators(emulator)
  local started, start = {}, emulator.start
  emulator.start = function(opts)
    local e = start(opts)
    started[#started + 1] = e
    return e
  end
  return function()
    for _, e in ipairs(started) do e:stop() end
    started = {}
  end
end

--- The fan-out loop of B1 and B7 (and of bench/peer_c.c): `conc` coroutines
-- under seedance.run take tasks from a shared counter up to `total`: generate
-- `req`, wait until completed, close. The first few errors go to stderr.
-- @treturn number tasks done
-- @treturn number tasks failed
function M.fanout(client, req, total, conc)
  local seedance = require("seedance")
  local next_i, done, failed = 0, 0, 0
  seedance.run(function()
    local workers = {}
    for w = 1, conc do
      workers[w] = seedance.spawn(function()
        while next_i < total do
          next_i = next_i + 1
          local task, err = client:generate(req)
          if task then task, err = task:wait() end
          if task then
            done = done + 1
            task:close()
          else
            failed = failed + 1
            if failed < 5 then io.stderr:write(tostring(err), "\n") end
          end
        end
      end)
    end
    for _, w in ipairs(workers) do w:wait() end
  end)
  return done, failed
end

--- B2's two ways users hold `total` generations in flight (bench/hold.lua, bench/census.lua), spawned
-- under a running seedance.run: "map" (one seedance.map, concurrency `total`) or "wait" (a coroutine
-- each, generate then task:wait). Errors go to stderr.
function M.hold(client, total, mode)
  local seedance = require("seedance")
  if mode == "map" then
    local requests = {}
    for i = 1, total do requests[i] = { model = "doubao-seedance-2.0", prompt = "hold " .. i, duration = 5 } end
    seedance.spawn(function() seedance.map(client, requests, { concurrency = total }) end)
  else
    for i = 1, total do
      seedance.spawn(function()
        local task, err = client:generate{ model = "doubao-seedance-2.0", prompt = "hold " .. i, duration = 5 }
        if task then task, err = task:wait() end
        if not task then io.stderr:write(tostring(err), "\n") end
      end)
    end
  end
end

return M
