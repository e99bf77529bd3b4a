-- B2 memory as users hold tasks: TASKS generations in flight on an emulator
-- whose tasks never finish while we look (--speed 1 --task-seconds 100000),
-- held the two ways users hold them:
--
--   lua5.4 bench/hold.lua URL TASKS map    seedance.map(client, requests,
--                                          { concurrency = TASKS })
--   lua5.4 bench/hold.lua URL TASKS wait   TASKS coroutines, each in
--                                          generate then task:wait()
--
-- Once the emulator has answered a submit and a poll for every task (every
-- task:wait is then asleep until its next poll; poll_max is 600 s so none
-- polls again while we look), the garbage is collected twice and RSS
-- (VmRSS) and the Lua heap (collectgarbage "count") are read. One JSON line:
-- tasks, rss_kib, hwm_kib, lua_kib, seconds (to get all tasks in flight),
-- coroutines (alive in the scheduler). bench/run.lua takes the slope between
-- two sizes, each in its own process.
package.path = "bench/?.lua;spec/?.lua;" .. package.path
local cjson = require("cjson")
local seedance = require("seedance")
local core = require("seedance.core")
local scheduler = require("seedance.scheduler")
local common = require("common")

local url, total, mode = arg[1], tonumber(arg[2]), arg[3]
assert(url and total and (mode == "map" or mode == "wait"), "usage: hold.lua URL TASKS map|wait")

local client = seedance.new{ base_url = url, api_key = "sk-bench", poll_max = 600 }

-- The emulator's counters (a blocking curl: every coroutine is asleep or waiting on IO).
local function emulator_stats()
  local p = assert(io.popen("curl -s --max-time 5 '" .. url .. "/_emulator/stats'"))
  local body = p:read("*a")
  p:close()
  local ok, s = pcall(cjson.decode, body)
  return ok and type(s) == "table" and s or nil
end

local base = emulator_stats() or { endpoints = { submit = 0, poll = 0 } }
local function in_flight()
  local s = emulator_stats()
  if not s then return 0, 0 end
  return s.endpoints.submit - base.endpoints.submit, s.endpoints.poll - base.endpoints.poll
end

local t0 = core.now()
seedance.run(function()
  common.hold(client, total, mode)
  local submits, polls = 0, 0
  while (submits < total or polls < total) and core.now() - t0 < 300 do
    seedance.sleep(0.1)
    submits, polls = in_flight()
  end
  local seconds = core.now() - t0
  seedance.sleep(0.2) -- the last answers handed over, their coroutines asleep
  collectgarbage("collect")
  collectgarbage("collect")
  -- under bench/profile.lua (massif in build/bench/lua-prof): a detailed heap snapshot of this moment
  local snapshot, monitor = os.getenv("SEEDANCE_BENCH_SNAPSHOT"), rawget(_G, "valgrind_monitor")
  if snapshot and monitor then monitor("detailed_snapshot " .. snapshot) end
  local hwm, rss = common.rss()
  common.emit{ mode = mode, tasks = total, submits = submits, polls = polls, rss_kib = rss, hwm_kib = hwm,
               lua_kib = collectgarbage("count"), seconds = seconds,
               coroutines = scheduler.stats().coroutines }
  os.exit(submits >= total and polls >= total and 0 or 1)
end)
