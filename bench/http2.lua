-- B7 HTTP/2 against HTTP/1.1: many generations through one client over TLS.
--
--   lua5.4 bench/http2.lua URL CA_FILE TASKS CONCURRENCY
--
-- URL is an HTTPS address (nghttpx in front of the emulator, offering h2 or
-- http/1.1 only: bench/run.lua starts both); CA_FILE verifies it.
-- CONCURRENCY coroutines under seedance.run take tasks from a shared counter:
-- generate, wait until completed, close. Prints wall and CPU seconds (this
-- process: the client, its TLS and its HTTP framing) and tasks as one JSON
-- line; the runner counts connections at nghttpx.
package.path = "bench/?.lua;" .. package.path
local seedance = require("seedance")
local core = require("seedance.core")
local common = require("common")

local url, ca, total, conc = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
assert(url and ca and total and conc, "usage: http2.lua URL CA_FILE TASKS CONCURRENCY")

-- the emulator's clock runs a million times faster (tasks complete at once): pauses
-- scale by 1e-6, and the wait's deadline (on the service clock) is 1,000 s of wall clock
local client = seedance.new{ base_url = url, ca_file = ca, api_key = "sk-bench", time_scale = 0.000001,
                             wait_timeout = 1e9 }
local req = { model = "doubao-seedance-2.0", prompt = "bench http2", duration = 5 }

local t0, c0 = core.now(), os.clock()
local done, failed = common.fanout(client, req, total, conc)
local wall, cpu = core.now() - t0, os.clock() - c0
common.emit{ tasks = total, done = done, failed = failed, wall = wall, cpu = cpu, tasks_per_s = done / wall,
             cpu_us_per_task = cpu / math.max(done, 1) * 1e6, hwm_kib = common.rss() }
os.exit(failed == 0 and 0 or 1)
