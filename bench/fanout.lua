-- B1 fan-out: many generations through one seedance client.
--
--   lua5.4 bench/fanout.lua URL TASKS CONCURRENCY TIME_SCALE
--
-- CONCURRENCY coroutines under seedance.run take tasks from a shared
-- counter: generate, wait until completed, close (the loop of
-- bench/peer_c.c and bench/fanout_aiohttp.py). Prints one JSON line: wall
-- seconds, CPU seconds of this process over the loop (os.clock, user + sys;
-- cpu_user and cpu_sys from /proc at 10 ms resolution), tasks/s, peak RSS.
-- B2's memory benchmark is bench/hold.lua.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, total, conc, scale = arg[1], tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
assert(url and total and conc and scale, "usage: fanout.lua URL TASKS CONCURRENCY TIME_SCALE")

-- wait_timeout is scaled by time_scale like every pause: an hour of real time
local client = seedance.new{ base_url = url, api_key = "sk-bench", time_scale = scale, wait_timeout = 3600 / scale }
local req = { model = "doubao-seedance-2.0", prompt = "bench fan-out", duration = 5 }

local t0, c0, u0, s0 = core.now(), os.clock(), common.cpu()
local done, failed = common.fanout(client, req, total, conc)
local wall, cpu = core.now() - t0, os.clock() - c0
local u1, s1 = common.cpu()
local hwm = common.rss()
common.emit{ tasks = total, done = done, failed = failed, wall = wall, cpu = cpu, cpu_user = u1 - u0,
             cpu_sys = s1 - s0, hwm_kib = hwm, tasks_per_s = done / wall }
os.exit(failed == 0 and 0 or 1)
